"""Where scenario spans go: one real OTel SDK ``TracerProvider`` per service.

``Capture`` keeps finished spans in memory (the corpus writer encodes them); the demo plugs in
providers whose processors export over OTLP. Both hand out providers per ``service.name``, so every
service is a separate resource, as separate processes would be.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON


class SeededIds(IdGenerator):
    """Deterministic ids: ``reseed`` before each trace and the same scenario gets the same ids."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def reseed(self, seed: int) -> None:
        self._rng.seed(seed)

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


class Telemetry(Protocol):
    def provider(self, service: str) -> TracerProvider:
        """The provider of ``service`` (created on first use, then reused)."""
        ...


def service_resource(service: str) -> Resource:
    # Resource() rather than Resource.create(): no SDK version or environment leaks into the
    # attributes, so the corpus does not change when the SDK is upgraded.
    return Resource(
        {
            "service.name": service,
            "service.namespace": "faultlens-samples",
            "service.version": "1.4.2",
            "deployment.environment.name": "staging",
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
        }
    )


class Providers:
    """Lazily builds one ``TracerProvider`` per service, each with processors from ``make_processors``."""

    def __init__(self, ids: IdGenerator, make_processors: Callable[[str], list[SpanProcessor]]) -> None:
        self._ids = ids
        self._make = make_processors
        self._providers: dict[str, TracerProvider] = {}

    def provider(self, service: str) -> TracerProvider:
        tp = self._providers.get(service)
        if tp is None:
            tp = TracerProvider(resource=service_resource(service), id_generator=self._ids, sampler=ALWAYS_ON)
            for proc in self._make(service):
                tp.add_span_processor(proc)
            self._providers[service] = tp
        return tp

    def force_flush(self, timeout_ms: int = 30_000) -> bool:
        return all(tp.force_flush(timeout_ms) for tp in self._providers.values())

    def shutdown(self) -> None:
        for tp in self._providers.values():
            tp.shutdown()
        self._providers.clear()


class Capture(Providers):
    """Providers with seeded ids whose spans are kept in memory, in end order."""

    def __init__(self) -> None:
        self.ids = SeededIds()
        self.exporter = InMemorySpanExporter()
        super().__init__(self.ids, lambda _service: [SimpleSpanProcessor(self.exporter)])

    def take(self) -> list[ReadableSpan]:
        """The spans finished since the last call."""
        spans = list(self.exporter.get_finished_spans())
        self.exporter.clear()
        return spans


def random_ids() -> IdGenerator:
    return RandomIdGenerator()
