"""The Streamlit entry point: ``streamlit run dashboard/app.py -- --db PATH`` (see ``dashboard.launcher``).

Each script run opens a reader (``store.reader.open_reader``: through the serving process when one
holds the file, else a read-only open) and closes it at the end, so an idle dashboard never keeps
the DuckDB file locked against ``faultlens serve`` or ``faultlens ingest``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import context
from dashboard.context import Context
from dashboard.data.pricing import PricingError, load_pricing
from dashboard.render.safe import md_escape
from dashboard.settings import DashboardSettings, SettingsError
from store.errors import StoreError
from store.journal import kept_aside_files
from store.reader import open_reader

VIEWS = Path(__file__).resolve().parent / "views"
# our own static CSS (no data in it): less empty space above each page's title
_CSS = "<style>[data-testid='stMainBlockContainer']{padding-top:3.6rem}</style>"


def main() -> None:
    st.set_page_config(page_title="faultlens", page_icon=":material/troubleshoot:", layout="wide")
    st.html(_CSS)
    try:
        settings = DashboardSettings.from_argv_env(sys.argv[1:])
        prices = load_pricing(settings.pricing_path)
    except (SettingsError, PricingError) as e:
        st.error(f"faultlens dashboard: {md_escape(e)}")
        return
    try:
        reader = open_reader(settings.db_path)
    except StoreError as e:
        st.title("faultlens")
        st.error(f"Cannot read the store: {md_escape(e)}")
        st.caption(
            "Start `faultlens serve` (or `faultlens up`) or load traces with `faultlens ingest`, then reload."
        )
        return
    pages: dict[str, StreamlitPage] = {
        "overview": st.Page(
            VIEWS / "overview.py",
            title="Overview",
            icon=":material/monitoring:",
            url_path="overview",
            default=True,
        ),
        "traces": st.Page(
            VIEWS / "traces.py", title="Traces", icon=":material/view_list:", url_path="traces"
        ),
        "trace": st.Page(VIEWS / "trace.py", title="Trace", icon=":material/account_tree:", url_path="trace"),
        "findings": st.Page(
            VIEWS / "findings.py", title="Findings", icon=":material/report:", url_path="findings"
        ),
    }
    _warn_kept_aside(Path(settings.db_path))
    ctx = Context(settings=settings, reader=reader, prices=prices, pages=pages)
    nav = st.navigation(list(pages.values()), position="top")
    try:
        with context.running(ctx):
            nav.run()
    except StoreError as e:
        st.error(f"Store error: {md_escape(e)}")
    finally:
        reader.close()


def _warn_kept_aside(db: Path) -> None:
    """Acknowledged batches the store refused (a full disk, say) are in no page: say so."""
    kept = len(kept_aside_files(db))
    if kept:
        batches = f"{kept} acknowledged batch{'es' if kept != 1 else ''}"
        st.warning(
            f"{batches} could not be written to the store and {'are' if kept != 1 else 'is'} kept "
            "aside: missing from these pages until applied. `faultlens journal` lists them with the "
            "reason; the store tries them again when it is next opened to write (a `faultlens serve` "
            "restart, or `faultlens journal --retry`).",
            icon=":material/warning:",
        )


if __name__ == "__main__":  # streamlit runs this file as __main__; importing it does nothing
    main()
