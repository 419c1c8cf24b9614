"""The engine against a real DuckDB store: analyse, store findings idempotently, isolate a broken
detector, attribute, and build the SPEC §5.5 report (validated by its JSON Schema)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import jsonschema
import orjson
import pytest

from analysis import engine
from analysis.model import Finding, Trace
from analysis.report import build_report, max_severity, render, schema
from store.writer import DuckStoreWriter
from tests.analysis.tracekit import TraceSpec, call, calls, response, store, text


def repeated_tool_trace() -> TraceSpec:
    """A researcher that calls the same lookup twice and then answers; a clean writer after it."""
    s = TraceSpec()
    root = s.agent("orchestrator", 0, 200)
    res = s.agent("researcher", 1, 100, root)
    s.llm(2, 10, res, [text("user", "Population of Lyon?")], [calls(call("lookup", {"q": "Lyon"}, "c1"))])
    s.tool("lookup", 11, 20, res, {"q": "Lyon"}, {"population": 522250}, tool_call_id="c1")
    s.tool("lookup", 21, 30, res, {"q": "Lyon"}, {"population": 522250}, tool_call_id="c2")
    s.llm(
        31,
        40,
        res,
        [text("user", "Population of Lyon?"), response("c1", {"population": 522250})],
        [text("assistant", "Lyon has 522250 inhabitants.")],
    )
    return s


def clean_trace() -> TraceSpec:
    s = TraceSpec()
    root = s.agent("solo", 0, 50)
    s.llm(1, 10, root, [text("user", "Say hi")], [text("assistant", "hi there")])
    return s


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[DuckStoreWriter, TraceSpec, TraceSpec]]:
    bad, good = repeated_tool_trace(), clean_trace()
    writer = store(tmp_path / "t.duckdb", [bad, good])
    yield writer, bad, good
    writer.close()


def test_analyze_stores_findings_idempotently(db: tuple[DuckStoreWriter, TraceSpec, TraceSpec]) -> None:
    writer, bad, good = db
    reader = writer.reader()
    seen: list[tuple[int, int, int]] = []
    stats = engine.analyze(reader, writer, progress=lambda d, t, s: seen.append((d, t, s)))
    assert stats.traces == 2 and stats.failed_traces == 1 and not stats.detector_errors
    assert seen[-1][:2] == (2, 2)
    first = reader.query(
        "SELECT finding_id, detector, origin_span_id, mast FROM findings ORDER BY finding_id"
    ).to_pylist()
    assert [r["detector"] for r in first] == ["step_repetition"]
    assert orjson.loads(first[0]["mast"]) == ["FM-1.3"]
    engine.analyze(reader, writer)
    again = reader.query(
        "SELECT finding_id, detector, origin_span_id, mast FROM findings ORDER BY finding_id"
    ).to_pylist()
    assert again == first  # same ids, no duplicates
    rows = reader.query(
        "SELECT trace_id, attribution, span_count FROM trace_analysis ORDER BY trace_id"
    ).to_pylist()
    att = {r["trace_id"]: r["attribution"] for r in rows}
    assert att[good.trace_id] is None
    parsed = orjson.loads(att[bad.trace_id])
    assert parsed["agent"] == "researcher" and parsed["span_id"] == first[0]["origin_span_id"]


class Exploding:
    name: ClassVar[str] = "exploding"
    version: ClassVar[str] = "0"

    def detect(self, trace: Trace) -> list[Finding]:
        raise RuntimeError("boom")


def test_a_raising_detector_is_counted_and_does_not_stop_others(
    db: tuple[DuckStoreWriter, TraceSpec, TraceSpec], caplog: pytest.LogCaptureFixture
) -> None:
    writer, bad, _ = db
    from analysis.detectors.step_repetition import StepRepetition

    results = engine.analyze_traces(writer.reader(), [bad.trace_id], [Exploding(), StepRepetition()], [])
    assert results[0].errors == ("exploding",)
    assert [f.detector for f in results[0].findings] == ["step_repetition"]
    assert "exploding failed" in caplog.text


def test_report_matches_spec_and_schema(db: tuple[DuckStoreWriter, TraceSpec, TraceSpec]) -> None:
    writer, bad, good = db
    reader = writer.reader()
    # not analysed yet: the report analyses stale traces itself (read-only)
    report = build_report(reader)
    jsonschema.validate(report, schema())
    assert report["version"] == 1 and report["summary"]["traces"] == 2
    assert report["summary"]["failed_traces"] == 1
    assert report["summary"]["findings_by_detector"] == {"step_repetition": 1}
    assert report["summary"]["failure_modes"] == {"FM-1.3": 1}
    by_id = {t["trace_id"]: t for t in report["traces"]}
    t = by_id[bad.trace_id]
    assert t["root_span_name"] == "invoke_agent orchestrator"
    assert set(t["agents"]) == {"orchestrator", "researcher"}
    f = t["findings"][0]
    assert f["origin_span_id"] in f["span_ids"] and f["trace_id"] == bad.trace_id
    assert t["failure_modes"] == [{"id": "FM-1.3", "name": "Step repetition", "finding_ids": [f["id"]]}]
    assert t["attribution"] == {"agent": "researcher", "span_id": f["origin_span_id"]}
    assert by_id[good.trace_id]["attribution"] is None and by_id[good.trace_id]["findings"] == []
    assert max_severity(report) == "low"
    # stored analysis gives the same report
    engine.analyze(reader, writer)
    stored = build_report(reader, analyze_stale=False)
    assert stored["traces"] == report["traces"]
    only = build_report(reader, [good.trace_id])
    assert [x["trace_id"] for x in only["traces"]] == [good.trace_id]


def test_markdown_and_html_escape_content(
    db: tuple[DuckStoreWriter, TraceSpec, TraceSpec], tmp_path: Path
) -> None:
    writer, _, _ = db
    reader = writer.reader()
    report = build_report(reader)
    report["traces"][0]["root_span_name"] = "<img src=x onerror=alert(1)>"
    report["traces"][0]["agents"].append("</script><script>alert(2)</script>")
    md = render(report, "md")
    assert "<img" not in md and "&lt;img" in md
    page = render(report, "html")
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    # plotly.js is inline: no external script at all
    assert not re.search(r"<script[^>]*\bsrc=", page) and "Plotly.newPlot" in page and len(page) > 1_000_000
    f = next(f for t in report["traces"] for f in t["findings"])
    assert f"href='#f-{f['id']}'" in page and f"id='f-{f['id']}'" in page
