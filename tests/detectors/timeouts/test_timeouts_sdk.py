"""End to end with the real OpenTelemetry SDK: an agent system whose spans record real exceptions
(``span.record_exception`` of ``TimeoutError`` / ``asyncio.TimeoutError``) and GenAI attributes,
encoded as an OTLP export request, decoded by the collector, stored in a real DuckDB file and
loaded back; the detector must find the cascade and its root cause from what the SDK wrote."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.load import load_traces
from analysis.model import Finding, Trace
from collector.decode import decode_traces, parse_traces
from store.writer import DuckStoreWriter

S = 1_000_000_000


def _record(exporter: InMemorySpanExporter, hang_search: bool) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "travel-agents"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.timeouts")
    t = 1_700_000_000 * S

    root = tracer.start_span(
        "invoke_agent planner",
        start_time=t,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
    )
    worker = tracer.start_span(
        "invoke_agent flight_finder",
        context=otel_trace.set_span_in_context(root),
        start_time=t + S // 2,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "flight_finder"},
    )
    w_ctx = otel_trace.set_span_in_context(worker)
    for i in range(4):
        slow = hang_search and i == 3
        start = t + S + i * S // 2
        end = start + (40 * S if slow else S // 4)
        tool = tracer.start_span(
            "execute_tool search_flights",
            context=w_ctx,
            start_time=start,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "search_flights",
                "gen_ai.tool.call.arguments": f'{{"leg": {i}}}',
                "gen_ai.tool.call.result": '{"flights": []}',
            },
        )
        tool.end(end_time=end)
    worker_end = t + 31 * S + S // 2
    if hang_search:
        worker.record_exception(TimeoutError("flight_finder exceeded its 30 s budget"), timestamp=worker_end)
        worker.set_status(Status(StatusCode.ERROR, "flight_finder exceeded its 30 s budget"))
        worker.set_attribute("error.type", "TimeoutError")
    worker.end(end_time=worker_end if hang_search else t + 4 * S)
    if hang_search:
        root.record_exception(TimeoutError("planner gave up waiting"), timestamp=t + 32 * S)
        root.set_status(Status(StatusCode.ERROR, "planner gave up waiting"))
    root.end(end_time=t + 32 * S if hang_search else t + 5 * S)
    provider.shutdown()


def _detect_via_store(tmp_path: Path, hang_search: bool) -> tuple[list[Finding], Trace]:
    exporter = InMemorySpanExporter()
    _record(exporter, hang_search)
    body = encode_spans(exporter.get_finished_spans()).SerializeToString()
    decoded = decode_traces(parse_traces(body, "protobuf"))
    with DuckStoreWriter(tmp_path / "sdk.duckdb") as writer:
        writer.write(decoded.batch)
        writer.sync()
        reader = writer.reader()
        ids = [str(x) for x in reader.query("SELECT DISTINCT trace_id FROM spans").column(0).to_pylist()]
        (trace,) = load_traces(reader, ids)
    return TimeoutCascadeDetector().detect(trace), trace


def test_sdk_recorded_cascade(tmp_path: Path) -> None:
    findings, trace = _detect_via_store(tmp_path, hang_search=True)
    (f,) = findings
    names = dict(zip(trace.spans["span_id"].to_list(), trace.spans["name"].to_list(), strict=True))
    assert f.kind == "timeout_cascade"
    assert names[f.origin_span_id] == "execute_tool search_flights"
    assert f.evidence["root_cause"]["reason"] == "baseline"  # against the three quick searches
    assert set(f.agents) == {"planner", "flight_finder"}
    assert {t["source"] for t in f.evidence["timeouts"]} <= {"error_type", "status_message", "exception"}
    assert f.evidence["wasted"]["seconds"] > 9  # the search ran ~9.5 s past the planner giving up


def test_sdk_recorded_clean_run(tmp_path: Path) -> None:
    findings, _ = _detect_via_store(tmp_path, hang_search=False)
    assert findings == []
