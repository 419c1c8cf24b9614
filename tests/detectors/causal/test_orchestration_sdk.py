"""End to end with the real OpenTelemetry SDK: a coordinator service calls a writer agent and then a
reader agent, each running in its own service (one ``TracerProvider`` per service, the callee's
span parented on the caller's context as context propagation would). The spans are encoded as an
OTLP export request, decoded by the collector, stored in a real DuckDB file and loaded back: the
read that missed the sibling's update must come out as a ``stale_read``."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind

from analysis.detectors.causal import CausalConsistency
from analysis.load import load_traces
from analysis.model import Finding
from collector.decode import decode_traces, parse_traces
from store.writer import DuckStoreWriter

MS = 1_000_000
T0 = 1_760_000_000_000 * MS


class Services:
    """One provider per service, all exporting into one in-memory exporter."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.providers: dict[str, TracerProvider] = {}

    def span(
        self,
        service: str,
        name: str,
        parent: Span | None,
        start_ms: int,
        attrs: dict[str, str | int],
        kind: SpanKind = SpanKind.INTERNAL,
    ) -> Span:
        if service not in self.providers:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            self.providers[service] = provider
        context = otel_trace.set_span_in_context(parent) if parent is not None else None
        tracer = self.providers[service].get_tracer("tests.causal")
        return tracer.start_span(
            name, context=context, kind=kind, start_time=T0 + start_ms * MS, attributes=attrs
        )

    def finished(self) -> tuple[ReadableSpan, ...]:
        for provider in self.providers.values():
            provider.shutdown()
        return self.exporter.get_finished_spans()


def agent(name: str) -> dict[str, str | int]:
    return {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name}


def memory(op: str, value: str, version: int) -> dict[str, str | int]:
    return {
        "gen_ai.operation.name": op,
        "gen_ai.memory.store.id": "claims-board",
        "gen_ai.memory.record.id": "claim-4410",
        "gen_ai.memory.records": value,
        "faultlens.memory.version": str(version),
    }


def end(span: Span, at_ms: int) -> None:
    span.end(end_time=T0 + at_ms * MS)


def record(read_version: int, overlap: bool) -> tuple[ReadableSpan, ...]:
    """``intake`` (service claims-api) opens claim version 1, calls ``assessor`` (assessment-svc,
    one more agent level inside) which writes version 2, then ``notifier`` (notify-svc) which reads.
    With ``overlap`` the notifier is started while the assessor still runs."""
    svc = Services()
    root = svc.span("claims-api", "invoke_agent intake", None, 0, agent("intake"))
    seed = svc.span(
        "claims-api", "create_memory claims-board", root, 5, memory("create_memory", '"filed"', 1)
    )
    end(seed, 9)
    rpc = svc.span("claims-api", "POST /assess", root, 20, {}, SpanKind.CLIENT)
    assessor = svc.span("assessment-svc", "invoke_agent assessor", rpc, 22, agent("assessor"))
    scorer = svc.span(
        "assessment-svc", "invoke_agent assessor_scorer", assessor, 30, agent("assessor_scorer")
    )
    write = svc.span(
        "assessment-svc", "update_memory claims-board", scorer, 100, memory("update_memory", '"assessed"', 2)
    )
    end(write, 110)
    end(scorer, 200)
    notify_at = 150 if overlap else 700
    rpc2 = svc.span("claims-api", "POST /notify", root, notify_at, {}, SpanKind.CLIENT)
    notifier = svc.span("notify-svc", "invoke_agent notifier", rpc2, notify_at + 3, agent("notifier"))
    value = '"assessed"' if read_version == 2 else '"filed"'
    read = svc.span(
        "notify-svc",
        "search_memory claims-board",
        notifier,
        900,
        memory("search_memory", value, read_version),
    )
    end(read, 910)
    end(assessor, 400)
    end(rpc, 405)
    end(notifier, 1000)
    end(rpc2, 1005)
    end(root, 1100)
    return svc.finished()


def detect(tmp_path: Path, read_version: int, overlap: bool = False) -> tuple[list[Finding], dict[str, str]]:
    body = encode_spans(record(read_version, overlap)).SerializeToString()
    decoded = decode_traces(parse_traces(body, "protobuf"))
    with DuckStoreWriter(tmp_path / "orchestration.duckdb") as writer:
        writer.write(decoded.batch)
        writer.sync()
        reader = writer.reader()
        ids = [str(x) for x in reader.query("SELECT DISTINCT trace_id FROM spans").column(0).to_pylist()]
        (trace,) = load_traces(reader, ids)
    names = dict(zip(trace.spans["span_id"].to_list(), trace.spans["name"].to_list(), strict=True))
    return CausalConsistency().detect(trace), names


def test_sdk_recorded_sibling_stale_read_across_services(tmp_path: Path) -> None:
    findings, names = detect(tmp_path, read_version=1)
    [f] = findings
    assert (f.kind, names[f.origin_span_id]) == ("stale_read", "search_memory claims-board")
    assert f.agents[:2] == ("notifier", "assessor_scorer")
    assert f.evidence["newer_write"]["service"] == "assessment-svc"
    assert f.evidence["observed_write"]["version"] == "1"


def test_sdk_recorded_fresh_read_is_clean(tmp_path: Path) -> None:
    findings, _ = detect(tmp_path, read_version=2)
    assert findings == []


def test_sdk_recorded_overlapping_siblings_are_only_realtime(tmp_path: Path) -> None:
    findings, names = detect(tmp_path, read_version=1, overlap=True)
    assert [(f.kind, names[f.origin_span_id]) for f in findings] == [
        ("realtime_stale_read", "search_memory claims-board")
    ]
