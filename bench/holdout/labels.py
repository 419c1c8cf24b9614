"""What a hold-out scenario says about its trace: the expected findings (or none: a clean control)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.holdout.conv import Convention
from bench.holdout.otelkit import Handle, Recorder, Transport


@dataclass(frozen=True)
class Expected:
    """One labelled failure. ``origin`` is where it starts; ``also`` are spans a reasonable reader
    could also call the origin (counted by the lenient origin score only)."""

    detector: str
    kind: str
    origin: Handle
    also: tuple[Handle, ...] = ()
    note: str = ""


#: A scenario records one trace and returns its labels (empty for a clean control).
Build = Callable[[Recorder, Convention], list[Expected]]


@dataclass(frozen=True)
class Scenario:
    name: str
    convention: str
    build: Build
    clean: bool
    note: str = ""


@dataclass
class Case:
    """A recorded scenario: the trace it produced and its labels."""

    scenario: Scenario
    transport: Transport
    trace_id: str
    expected: list[Expected]
    spans: dict[str, Handle] = field(default_factory=dict)

    def span_label(self, span_id: str | None) -> str:
        if span_id is None:
            return "<none>"
        h = self.spans.get(span_id)
        return f"{span_id[:8]}:{h.name}@{h.service}" if h else f"{span_id[:8]}:<not ours>"
