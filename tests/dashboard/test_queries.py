"""The dashboard's queries against a real store file, read through ``store.reader.open_reader``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.data import overview, tracelist
from dashboard.data.findings import FindingFilter, finding_facets, list_findings, occurrences, trace_findings
from dashboard.data.pricing import load_pricing
from dashboard.data.tracelist import TraceFilter, list_traces
from store.api import StoreReader
from store.reader import open_reader
from tests.dashboard.scenario import CLAIM, CLEAN, HALLU, ORIGIN, T0, TIMEOUT

PRICES = load_pricing(None)


@pytest.fixture(scope="module")
def reader(store_path: Path) -> Iterator[StoreReader]:
    r = open_reader(store_path)
    yield r
    r.close()


def _ids(reader: StoreReader, f: TraceFilter, sort: str = "start", descending: bool = True) -> list[str]:
    ids: list[str] = list_traces(reader, f, PRICES, sort, descending).rows.column("trace_id").to_pylist()
    return ids


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (TraceFilter(), {HALLU, TIMEOUT, CLEAN}),
        (TraceFilter(status="error"), {TIMEOUT}),
        (TraceFilter(status="ok"), {HALLU, CLEAN}),
        (TraceFilter(status="failing"), {HALLU, TIMEOUT}),
        (TraceFilter(agent="writer"), {HALLU}),
        (TraceFilter(service="travel-agents"), {HALLU, TIMEOUT, CLEAN}),
        (TraceFilter(model="claude-3-5-sonnet-20241022"), {HALLU}),
        (TraceFilter(model="gpt-4o-mini"), {HALLU, CLEAN}),
        (TraceFilter(detector="timeout_cascade"), {TIMEOUT}),
        (TraceFilter(severity="high"), {HALLU}),
        (TraceFilter(detector="timeout_cascade", severity="high"), set()),
        (TraceFilter(text="book_hotel"), {HALLU}),
        (TraceFilter(text=TIMEOUT.upper()), {TIMEOUT}),
        (TraceFilter(text="deadline"), {TIMEOUT}),  # finding summary
        (TraceFilter(text="Avenida"), set()),  # only in content ...
        (TraceFilter(text="Avenida", search_content=True), {HALLU}),  # ... when asked
        (TraceFilter(start_ns=T0 + 1), set()),
        (TraceFilter(end_ns=T0), {HALLU, TIMEOUT, CLEAN}),
    ],
)
def test_filters(reader: StoreReader, f: TraceFilter, expected: set[str]) -> None:
    assert set(_ids(reader, f)) == expected
    assert list_traces(reader, f, PRICES).total == len(expected)


@pytest.mark.parametrize("text", ["%", "%_%", "\\%", "'; DROP TABLE spans; --", "' OR 1=1 --"])
def test_hostile_text_is_a_parameter(reader: StoreReader, text: str) -> None:
    # LIKE wildcards are escaped (an unescaped "%" would match every trace)
    assert _ids(reader, TraceFilter(text=text)) == []
    assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == 16


def test_sorts_and_totals(reader: StoreReader) -> None:
    page = list_traces(reader, TraceFilter(), PRICES, "cost", descending=True)
    rows = {r["trace_id"]: r for r in page.rows.to_pylist()}
    # gpt-4o (1000 of 1200 cached) + gpt-4o-mini + claude-3-5-sonnet
    expected = (200 * 2.5 + 1000 * 1.25 + 80 * 10 + 900 * 0.15 + 120 * 0.6 + 1500 * 3 + 300 * 15) / 1e6
    assert rows[HALLU]["cost"] == pytest.approx(expected)
    assert rows[HALLU]["tokens"] == 1200 + 80 + 900 + 120 + 1500 + 300
    assert rows[HALLU]["findings"] == 1 and rows[HALLU]["max_severity"] == "high"
    assert rows[CLEAN]["findings"] == 0 and rows[CLEAN]["max_severity"] is None
    assert _ids(reader, TraceFilter(), "cost") == [HALLU, CLEAN, TIMEOUT]
    assert _ids(reader, TraceFilter(), "duration") == [TIMEOUT, HALLU, CLEAN]
    assert _ids(reader, TraceFilter(), "duration", descending=False) == [CLEAN, HALLU, TIMEOUT]
    assert _ids(reader, TraceFilter(), "spans")[0] == HALLU
    assert _ids(reader, TraceFilter(), "errors")[0] == TIMEOUT
    assert _ids(reader, TraceFilter(), "findings")[-1] == CLEAN


def test_pagination_and_sort_whitelist(reader: StoreReader) -> None:
    pages = [list_traces(reader, TraceFilter(), PRICES, "duration", True, p, 2) for p in range(3)]
    assert [p.rows.num_rows for p in pages] == [2, 1, 0]
    assert all(p.total == 3 for p in pages)
    assert pages[0].rows.column("trace_id").to_pylist() + pages[1].rows.column("trace_id").to_pylist() == [
        TIMEOUT,
        HALLU,
        CLEAN,
    ]
    with pytest.raises(ValueError, match="sort: unknown column"):
        list_traces(reader, TraceFilter(), PRICES, "duration_ns; DROP TABLE spans")


def test_filter_options(reader: StoreReader) -> None:
    opts = tracelist.filter_options(reader)
    assert opts.agents == ["flights", "helper", "orchestrator", "planner", "researcher", "writer"]
    assert "gpt-4o-2024-08-06" in opts.models and opts.services == ["travel-agents"]
    assert opts.detectors == ["hallucination_propagation", "timeout_cascade"]


def test_overview(reader: StoreReader) -> None:
    w = overview.Window()
    k = overview.kpis(reader, w, PRICES)
    assert (k.traces, k.spans, k.error_traces, k.failing_traces, k.findings) == (3, 16, 1, 2, 2)
    assert k.tokens == 4100 + 70 and k.p99_ms is not None and k.p99_ms > k.p50_ms  # type: ignore[operator]
    vol = overview.volume(reader, w, 1_000_000_000)
    assert sum(vol.column("spans").to_pylist()) == 16 and sum(vol.column("traces").to_pylist()) == 3
    assert sum(vol.column("error_spans").to_pylist()) == 3
    ops = {r["operation"]: r for r in overview.operation_latency(reader, w).to_pylist()}
    assert ops["chat"]["calls"] == 4 and ops["execute_tool"]["errors"] == 1
    usage = {(r["agent"], r["model"]): r for r in overview.usage_by(reader, w, PRICES).to_pylist()}
    assert usage[("orchestrator", "gpt-4o-2024-08-06")]["cache_read_tokens"] == 1000
    assert all(r["priced"] for r in usage.values())
    modes = {r["mode"]: r["traces"] for r in overview.failure_modes(reader, w).to_pylist()}
    assert modes == {"FM-3.3": 1, "FM-1.5": 1}
    top = overview.top_findings(reader, w)
    assert [f.severity for f in top] == ["high", "medium"]
    assert overview.kpis(reader, overview.Window(start_ns=T0 + 10**12), PRICES).traces == 0


def test_findings_queries(reader: StoreReader) -> None:
    rows, total = list_findings(reader, FindingFilter(agent="writer"))
    assert total == 1 and rows.column("origin_span_id").to_pylist() == [ORIGIN]
    assert list_findings(reader, FindingFilter(kind="timeout_cascade"))[1] == 1
    assert list_findings(reader, FindingFilter(trace_id=HALLU.upper()))[1] == 1
    facets = finding_facets(reader, FindingFilter())
    assert facets.by_severity == [("high", 1), ("medium", 1)]
    assert dict(facets.by_agent) == {"flights": 1, "planner": 1, "researcher": 1, "writer": 1}
    (hallu,) = trace_findings(reader, HALLU)
    occ = occurrences(hallu)
    assert occ[0].origin and occ[0].span_id == ORIGIN and all(o.text == CLAIM for o in occ)
    assert [o.field for o in occ] == [
        "output_messages",
        "input_messages",
        "output_messages",
        "tool_arguments",
    ]
