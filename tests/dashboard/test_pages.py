"""Every page through Streamlit's AppTest, against a real store file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from store.writer import DuckStoreWriter
from tests.dashboard.scenario import CLEAN, HALLU, ORIGIN, TIMEOUT, build_store, wide_trace

App = Callable[[Path, str | None], AppTest]


def _html(at: AppTest) -> str:
    return "\n".join(el.proto.body for el in at.get("html"))


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[-1] if isinstance(value, list) and value else value or None


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_overview(app_for: App, store_path: Path) -> None:
    at = _ok(app_for(store_path, None))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Traces"] == "3" and metrics["Spans"] == "16" and metrics["Findings"] == "2"
    assert metrics["Failing · 67%"] == "2" and metrics["Tokens"] == "4,170"
    assert metrics["Cost"].startswith("$0.01")
    texts = [t.value for t in at.text]
    assert any("€189 per night" in t for t in texts)  # top finding summary, as plain text
    assert at.dataframe, "findings-by-detector, latency and usage tables"
    at.segmented_control(key="ov-window").set_value("Last 15 min").run()
    assert any("No traces in this window" in i.value for i in _ok(at).info)  # the scenario is from 2025


def test_trace_list_filters_from_url_and_widgets(app_for: App, store_path: Path) -> None:
    at = app_for(store_path, "traces")
    at.query_params["status"] = "failing"
    _ok(at.run())
    table = at.dataframe[0].value
    assert set(table["trace_id"]) == {HALLU, TIMEOUT}
    assert table.iloc[0]["trace"] == f"./trace?trace_id={table.iloc[0]['trace_id']}"
    at.selectbox(key="tl-detector").set_value("timeout_cascade").run()
    assert list(_ok(at).dataframe[0].value["trace_id"]) == [TIMEOUT]
    # the URL follows the filters: it is a link to this exact list
    assert _param(at, "detector") == "timeout_cascade" and _param(at, "status") == "failing"
    at.selectbox(key="tl-detector").set_value("(any)")
    at.selectbox(key="tl-status").set_value("any")
    at.selectbox(key="tl-sort").set_value("cost").run()
    assert _ok(at).dataframe[0].value["trace_id"].iloc[0] == HALLU
    at.text_input(key="tl-text").set_value("nothing matches this").run()
    assert any("No trace matches" in i.value for i in _ok(at).info)
    assert _param(at, "q") == "nothing matches this" and _param(at, "detector") is None


def test_trace_list_custom_time_range(app_for: App, store_path: Path) -> None:
    at = _ok(app_for(store_path, "traces").run())
    at.selectbox(key="tl-window").set_value("Custom range…").run()
    assert len(_ok(at).dataframe[0].value) == 3  # defaults to the stored traces' days
    at.date_input(key="tl-days").set_value((date(2025, 12, 1), date(2025, 12, 31))).run()
    assert any("No trace matches" in i.value for i in _ok(at).info)
    at.date_input(key="tl-days").set_value((date(2025, 11, 30), date(2025, 11, 30))).run()
    assert len(_ok(at).dataframe[0].value) == 3


def test_findings_page(app_for: App, store_path: Path) -> None:
    at = _ok(app_for(store_path, "findings").run())
    table = at.dataframe[-1].value
    assert list(table["detector"]) == ["hallucination_propagation", "timeout_cascade"]
    assert table.iloc[0]["open"] == f"./trace?trace_id={HALLU}&span_id={ORIGIN}"
    at.selectbox(key="fd-severity").set_value("medium").run()
    assert list(_ok(at).dataframe[-1].value["trace_id"]) == [TIMEOUT]
    at.selectbox(key="fd-severity").set_value("(any)")
    at.selectbox(key="fd-agent").set_value("writer").run()
    assert list(_ok(at).dataframe[-1].value["kind"]) == ["ungrounded_claim"]


def test_trace_deep_link_shows_chain_with_origin_and_spread(app_for: App, store_path: Path) -> None:
    at = app_for(store_path, "trace")
    at.query_params["trace_id"] = HALLU
    at.query_params["span_id"] = ORIGIN
    _ok(at.run())
    labels = [e.label for e in at.expander]
    origin_label = next(lbl for lbl in labels if "failure starts here" in lbl)
    assert origin_label.startswith("▶ 6\\.")  # the selected step, marked
    assert sum("affected" in lbl for lbl in labels) == 2
    html = _html(at)
    # once in the chain's step, once in the waterfall tab's panel of the selected span
    assert html.count('class="fl-claim fl-origin"') == 2
    assert html.count("fl-spread") >= 4  # the writer's input, output, the booking and the memory spans
    assert "<script>" not in html and "&lt;script&gt;" in html
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spans"] == "11" and metrics["Findings"] == "1"
    assert any("researcher" in m.value and "Failure attributed" in m.value for m in at.markdown)
    assert at.get("plotly_chart"), "waterfall and agent graph"


def test_trace_findings_button_selects_origin(app_for: App, store_path: Path) -> None:
    at = app_for(store_path, "trace")
    at.query_params["trace_id"] = TIMEOUT
    _ok(at.run())
    at.button(key="goto-" + "f1" * 16).click().run()
    assert (
        at.query_params["span_id"] == ["0000000000000b03"] or at.query_params["span_id"] == "0000000000000b03"
    )
    assert any(e.label.startswith("▶ ") and "search\\_flights" in e.label for e in _ok(at).expander)


def test_hostile_names_are_escaped_in_markdown(app_for: App, store_path: Path) -> None:
    at = app_for(store_path, "trace")
    at.query_params["trace_id"] = CLEAN
    _ok(at.run())
    title = at.title[0].value
    assert "\\[docs\\]\\(javascript" in title and "\\<img" in title  # literal characters, no link
    assert all("](javascript" not in e.label for e in at.expander)
    at.query_params["trace_id"] = "[x](javascript:alert(1))"
    _ok(at.run())
    assert any("`[x](javascript:alert(1))`" in w.value for w in at.warning)  # shown as code


def test_trace_page_without_or_with_unknown_id(app_for: App, store_path: Path) -> None:
    at = _ok(app_for(store_path, "trace").run())
    assert at.text_input(key="trace-pick") is not None
    at.query_params["trace_id"] = "ff" * 16
    _ok(at.run())
    assert any("No trace" in w.value for w in at.warning)


@pytest.mark.slow
def test_large_trace_pages_through_the_chain_and_waterfall(app_for: App, tmp_path: Path) -> None:
    big = "d4" * 16
    db = build_store(tmp_path / "big.duckdb", extra_spans=wide_trace(big, 3000))
    at = app_for(db, "trace")
    at.query_params["trace_id"] = big
    _ok(at.run())
    steps = [e for e in at.expander if e.label[:1].isdigit() or e.label.startswith("▶")]
    assert len(steps) == 25 and steps[0].label.startswith("1\\.")
    at.button(key="chain-page-next").click().run()
    steps = [e for e in _ok(at).expander if e.label[:1].isdigit()]
    assert steps[0].label.startswith("26\\.")
    # deep link into the middle: the chain opens on the page that holds the span
    at.query_params["span_id"] = f"{2500:016x}"
    _ok(at.run())
    assert any(e.label.startswith("▶ 2500\\.") for e in at.expander)
    assert any("Spans 2,401–2,600 of 3,000" in c.value for c in at.caption)  # waterfall page of the span
    # another trace starts at its first page again
    at.query_params["trace_id"] = HALLU
    del at.query_params["span_id"]
    steps = [e for e in _ok(at.run()).expander if e.label[:1].isdigit()]
    assert steps[0].label.startswith("1\\.") and len(steps) == 11


def test_empty_and_missing_store(app_for: App, tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    DuckStoreWriter(empty).close()
    at = _ok(app_for(empty, None))
    assert any("No traces" in i.value for i in at.info)
    at = app_for(tmp_path / "nope.duckdb", None)
    assert any("Cannot read the store" in e.value for e in at.error)


def test_batches_kept_aside_are_announced_on_every_page(app_for: App, tmp_path: Path) -> None:
    db = build_store(tmp_path / "faultlens.duckdb")
    assert not _ok(app_for(db, None)).warning
    failed = tmp_path / "faultlens.duckdb.journal" / "failed"
    failed.mkdir(parents=True)
    for seq in (3, 9):  # only counted: the page does not read them
        (failed / f"{seq:020d}.seg").write_bytes(b"FLJ1")
    for page in ("traces", "findings", None):
        at = app_for(db, page)
        if page is not None:
            at.run()
        (warning,) = _ok(at).warning
        assert "2 acknowledged batches could not be written" in warning.value
        assert "faultlens journal" in warning.value
