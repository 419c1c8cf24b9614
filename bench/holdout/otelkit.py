"""Recording hand-built traces through the real OpenTelemetry SDK.

One ``TracerProvider`` per (transport, service), each with its own OTLP exporter, so a trace that
spans several services reaches faultlens the way a real deployment's would: several resources,
several requests. Every span is created and ended at once with explicit int64-ns timestamps and an
explicit parent context; a parent may be ended before its children are recorded (the SDK only needs
its ``SpanContext``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

Transport = Literal["grpc", "http"]
ErrStyle = Literal["attr", "event", "both", "status"]
Attrs = Mapping[str, Any]

MS = 1_000_000


@dataclass(frozen=True)
class Handle:
    """A recorded span: what children need (its context) and what labels need (its ids)."""

    context: trace.SpanContext
    name: str
    service: str

    @property
    def span_id(self) -> str:
        return f"{self.context.span_id:016x}"

    @property
    def trace_id(self) -> str:
        return f"{self.context.trace_id:032x}"


@dataclass(frozen=True)
class Err:
    """How a span failed. ``style`` chooses where the failure is written: ``attr`` sets
    ``error.type`` (GenAI style), ``event`` adds an ``exception`` event (OpenInference style),
    ``both`` does both. ``http`` adds an HTTP status code attribute."""

    error_type: str
    message: str
    style: ErrStyle = "attr"
    http: int | None = None


class Exporters:
    """The providers of one run, keyed by (transport, service)."""

    def __init__(self, grpc_endpoint: str, http_endpoint: str) -> None:
        self._grpc = grpc_endpoint
        self._http = http_endpoint
        self._providers: dict[tuple[Transport, str], TracerProvider] = {}

    def tracer(self, transport: Transport, service: str) -> trace.Tracer:
        key = (transport, service)
        provider = self._providers.get(key)
        if provider is None:
            resource = Resource.create(
                {"service.name": service, "service.namespace": "holdout", "deployment.environment": "bench"}
            )
            provider = TracerProvider(resource=resource)
            exporter: SpanExporter
            if transport == "grpc":
                exporter = GrpcExporter(endpoint=self._grpc, insecure=True)
            else:
                exporter = HttpExporter(endpoint=f"http://{self._http}/v1/traces")
            provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=256))
            self._providers[key] = provider
        return provider.get_tracer("holdout.generator", "0.1")

    def flush(self) -> bool:
        """Export everything recorded; True when every provider's flush completed."""
        return all(p.force_flush(30_000) for p in self._providers.values())

    def shutdown(self) -> None:
        for provider in self._providers.values():
            provider.shutdown()


@dataclass
class Recorder:
    """Records the spans of one trace. Times are milliseconds after ``base_ns``."""

    exporters: Exporters
    transport: Transport
    base_ns: int
    spans: dict[str, Handle] = field(default_factory=dict)
    trace_id: str = ""

    def span(
        self,
        service: str,
        name: str,
        parent: Handle | None,
        start_ms: float,
        end_ms: float,
        attrs: Attrs | None = None,
        *,
        err: Err | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        links: Sequence[Handle] = (),
        events: Sequence[tuple[str, Attrs, float]] = (),
    ) -> Handle:
        tracer = self.exporters.tracer(self.transport, service)
        ctx = trace.set_span_in_context(trace.NonRecordingSpan(parent.context)) if parent else Context()
        clean = {k: v for k, v in (attrs or {}).items() if v is not None}
        if err is not None and err.style in ("attr", "both"):
            clean["error.type"] = err.error_type
        if err is not None and err.http is not None:
            clean["http.response.status_code"] = err.http
        span = tracer.start_span(
            name,
            context=ctx,
            kind=kind,
            attributes=clean,
            links=[Link(h.context) for h in links],
            start_time=self._ns(start_ms),
        )
        for ev_name, ev_attrs, at_ms in events:
            span.add_event(ev_name, dict(ev_attrs), timestamp=self._ns(at_ms))
        if err is not None:
            if err.style in ("event", "both"):
                span.add_event(
                    "exception",
                    {"exception.type": err.error_type, "exception.message": err.message},
                    timestamp=self._ns(end_ms),
                )
            span.set_status(Status(StatusCode.ERROR, err.message))
        else:
            span.set_status(Status(StatusCode.OK))
        span.end(end_time=self._ns(end_ms))
        handle = Handle(span.get_span_context(), name, service)
        self.trace_id = self.trace_id or handle.trace_id
        self.spans[handle.span_id] = handle
        return handle

    def _ns(self, ms: float) -> int:
        return self.base_ns + round(ms * MS)
