"""Send sample multi-agent traffic to an OTLP endpoint through the real OTel SDK exporters.

``run_demo`` replays the scenario generators (sample_traces.scenarios) with fresh random ids and
current timestamps. When pydantic-ai or LangChain with OpenInference is installed, runs of real
agents in those frameworks are mixed in.
There is one ``TracerProvider`` per service. Each has a ``BatchSpanProcessor``, and they all feed
one shared OTLP exporter (gRPC or HTTP/protobuf). It flushes at the end and reports how many spans
the endpoint acknowledged. Repeated demos add new traces.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from sample_traces import real_agents, real_langchain
from sample_traces.scenarios.registry import Scenario, all_scenarios
from sample_traces.scenarios.run import run_variant, seed_of
from sample_traces.scenarios.telemetry import Providers, random_ids

OtlpProtocol = Literal["grpc", "http"]
DEFAULT_ENDPOINTS: dict[str, str] = {"grpc": "http://127.0.0.1:4317", "http": "http://127.0.0.1:4318"}
#: traces start this long before "now", so even the longest scenario (~2 min) ends in the past
BACKDATE_NS = 150 * 1_000_000_000
#: with pydantic-ai / LangChain installed, every REAL_EVERY-th demo trace is a run of real agents
#: (real_agents.py, real_langchain.py), alternating between the installed frameworks
REAL_EVERY = 8


class DemoError(Exception):
    """The demo could not deliver its traffic (endpoint unreachable, nothing acknowledged)."""


@dataclass(frozen=True)
class DemoResult:
    endpoint: str
    protocol: OtlpProtocol
    traces: int
    spans_sent: int  # spans handed to the exporter
    spans_acked: int  # spans in export requests the endpoint answered with success
    failed_exports: int  # export requests that failed after the exporter's own retries
    elapsed_s: float


class CountingExporter(SpanExporter):
    """Wraps the OTLP exporter: counts what was sent and what the endpoint acknowledged. Shared by
    every provider's processor, so ``shutdown`` is a no-op; the owner shuts the inner exporter."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.sent = 0
        self.acked = 0
        self.failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        with self._lock:
            self.sent += len(spans)
            if result is SpanExportResult.SUCCESS:
                self.acked += len(spans)
            else:
                self.failed += 1
        return result

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _check_reachable(endpoint: str) -> None:
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise DemoError(f"cannot connect to {endpoint} ({reason}); is `faultlens serve` running?") from e


def _exporter(endpoint: str, protocol: OtlpProtocol, token: str | None) -> SpanExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        grpc_headers = {"authorization": f"Bearer {token}"} if token else None
        insecure = not endpoint.startswith("https://")
        return GrpcExporter(endpoint=endpoint, insecure=insecure, headers=grpc_headers, timeout=10)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    http_headers = {"Authorization": f"Bearer {token}"} if token else None
    return HttpExporter(endpoint=url, headers=http_headers, timeout=10)


def _run_real(framework: str, providers: Providers, *, fabricate: bool) -> None:
    if framework == "pydantic-ai":
        real_agents.run_flow(providers, fabricate=fabricate)
        return
    with real_langchain.instrumented(providers.provider("research-crew")):
        real_langchain.run_flow(fabricate=fabricate)


def _plan(scenarios: Sequence[Scenario], traces: int, rng: random.Random) -> list[tuple[Scenario, int]]:
    """``traces`` (scenario, variant) pairs: every pair once in a shuffled round, then again."""
    pairs = [(s, v) for s in scenarios for v in range(s.variants)]
    rng.shuffle(pairs)
    return [pairs[i % len(pairs)] for i in range(traces)]


def run_demo(
    endpoint: str,
    protocol: OtlpProtocol,
    traces: int,
    rate: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    token: str | None = None,
) -> DemoResult:
    """Send ``traces`` scenario traces to ``endpoint`` over ``protocol``; ``rate`` caps traces per
    second (None: as fast as the exporter takes them). ``progress(done, total)`` is called after
    each trace; ``token`` is sent as a bearer token. Raises ``DemoError`` when the endpoint refuses
    connections or acknowledges nothing."""
    if traces < 1:
        raise DemoError("--traces must be at least 1")
    _check_reachable(endpoint)
    started = time.monotonic()
    counting = CountingExporter(_exporter(endpoint, protocol, token))

    def processors(_service: str) -> list[SpanProcessor]:
        return [BatchSpanProcessor(counting, schedule_delay_millis=200, max_export_batch_size=512)]

    providers = Providers(random_ids(), processors)
    rng = random.Random()
    real = [
        name
        for name, ok in (("pydantic-ai", real_agents.available()), ("langchain", real_langchain.available()))
        if ok
    ]
    try:
        for i, (scn, v) in enumerate(_plan(all_scenarios(), traces, rng)):
            if real and i % REAL_EVERY == REAL_EVERY - 1:
                # every REAL_EVERY-th trace comes from real agent frameworks (scripted models, no LLM)
                _run_real(real[(i // REAL_EVERY) % len(real)], providers, fabricate=rng.random() < 0.5)
            else:
                base = time.time_ns() - BACKDATE_NS
                run_variant(scn, v, providers, base_ns=base, seed=seed_of(scn.name, v, rng.getrandbits(32)))
            if progress is not None:
                progress(i + 1, traces)
            if rate:
                delay = started + (i + 1) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        providers.force_flush()
    finally:
        providers.shutdown()
        counting.inner.shutdown()
    result = DemoResult(
        endpoint=endpoint,
        protocol=protocol,
        traces=traces,
        spans_sent=counting.sent,
        spans_acked=counting.acked,
        failed_exports=counting.failed,
        elapsed_s=time.monotonic() - started,
    )
    if result.spans_acked == 0:
        raise DemoError(f"{endpoint} acknowledged none of the {result.spans_sent} spans sent over {protocol}")
    return result
