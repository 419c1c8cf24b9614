"""Small pieces the pages share: time windows, formatting, severity colours, links."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import streamlit as st

from dashboard.data.overview import Window
from dashboard.render.safe import md_escape

WINDOWS: dict[str, int | None] = {
    "All": None,
    "Last 15 min": 15 * 60,
    "Last hour": 3600,
    "Last 6 h": 6 * 3600,
    "Last 24 h": 86400,
    "Last 7 days": 7 * 86400,
}
_BADGES = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue", "info": "gray"}
SEVERITY_COLORS = {
    "critical": "#b60205",
    "high": "#e36209",
    "medium": "#dbab09",
    "low": "#0969da",
    "info": "#8c959f",
}


def window_for(label: str, now_ns: int | None = None) -> Window:
    seconds = WINDOWS.get(label)
    if seconds is None:
        return Window()
    now = time.time_ns() if now_ns is None else now_ns
    return Window(start_ns=now - seconds * 1_000_000_000, end_ns=None)


def fmt_ts(ns: int | None) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 60_000:
        return f"{ms / 60_000:,.1f} min"
    if ms >= 1000:
        return f"{ms / 1000:,.2f} s"
    return f"{ms:,.1f} ms"


def fmt_cost(usd: float | None) -> str:
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    return f"${usd:,.5f}" if usd < 0.01 else f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"


def fmt_int(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def trace_url(trace_id: str, span_id: str | None = None) -> str:
    """Relative deep link to a trace (and span) that works from any page."""
    params = {"trace_id": trace_id, **({"span_id": span_id} if span_id else {})}
    return "./trace?" + urlencode(params)


def severity_label(severity: str | None) -> str:
    """Plain text for tables."""
    return severity or ""


def severity_badge(severity: str | None) -> str:
    """A Markdown badge coloured by severity (unknown values are escaped, grey)."""
    if not severity:
        return ""
    color = _BADGES.get(severity, "gray")
    return f":{color}-badge[{md_escape(severity)}]"


def current_page(key: str) -> int:
    """The 0-based page kept in session state under ``key`` (set by ``pager``'s buttons)."""
    return max(int(st.session_state.get(key, 0)), 0)


def clamp_page(key: str, total: int, page_size: int) -> int:
    """The current page, pulled back into range when the total shrank (e.g. a narrower filter)."""
    last = max((total + page_size - 1) // page_size - 1, 0)
    page = min(current_page(key), last)
    st.session_state[key] = page
    return page


def _set_page(key: str, page: int) -> None:
    st.session_state[key] = page


def pager(key: str, total: int, page_size: int, what: str = "rows") -> None:
    """Previous/next buttons for the page in ``key`` (their callbacks run before the next rerun,
    so the page that rerun queries is already the new one)."""
    pages = max((total + page_size - 1) // page_size, 1)
    page = min(current_page(key), pages - 1)
    if pages <= 1:
        st.caption(f"{total:,} {what}")
        return
    cols = st.columns([1.2, 1.2, 6], vertical_alignment="center")
    cols[0].button(
        "◀ Previous", key=f"{key}-prev", disabled=page <= 0, on_click=_set_page, args=(key, page - 1)
    )
    cols[1].button(
        "Next ▶", key=f"{key}-next", disabled=page >= pages - 1, on_click=_set_page, args=(key, page + 1)
    )
    lo = page * page_size + 1
    cols[2].caption(
        f"{what.capitalize()} {lo:,}–{min(lo + page_size - 1, total):,} of {total:,}"
        f" · page {page + 1} of {pages}"
    )
