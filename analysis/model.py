"""What a detector sees and what it returns. These types are the contract between the analysis
engine and every detector; a detector is a small pure unit: ``Trace`` in, ``Finding``s out.

- ``Trace``: one trace, columnar. ``spans`` has every column of ``store.schema.SPANS`` (one row per
  span, sorted by ``start_ns``), ``events`` / ``links`` those of ``SPAN_EVENTS`` / ``SPAN_LINKS``.
  ``agent_of`` maps span id → resolved agent name (nearest agent ancestor, the span itself when it
  is an agent span), ``hb`` is the happens-before relation built by the engine.
- ``HappensBefore``: parent→child, program order of one agent's non-overlapping spans, links
  (cause → effect), memory reads-from (write → read) and agent hand-offs
  (``execute_tool transfer_*`` → ``invoke_agent``). Structure over timestamps.
- ``Finding``: SPEC §5.5 FINDING. Its ``id`` is stable: the same detector version finding the same
  thing in the same trace gives the same id, so re-running analysis is idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import polars as pl

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")


class HappensBefore(Protocol):
    def precedes(self, a: str, b: str) -> bool:
        """True when span ``a`` happens strictly before span ``b`` (a path a → … → b exists)."""
        ...

    def past(self, span_id: str) -> frozenset[str]:
        """Every span that happens before ``span_id`` (its causal past), excluding itself."""
        ...

    def order(self) -> Sequence[str]:
        """All span ids in one topological order of the relation (ties broken by start time)."""
        ...

    def edges(self) -> Iterable[tuple[str, str, str]]:
        """(cause, effect, edge kind) with kinds parent, program_order, link, reads_from, handoff."""
        ...


@dataclass(frozen=True)
class Trace:
    trace_id: str
    spans: pl.DataFrame
    events: pl.DataFrame
    links: pl.DataFrame
    agent_of: Mapping[str, str | None]
    hb: HappensBefore


@dataclass(frozen=True)
class Finding:
    detector: str
    kind: str
    trace_id: str
    origin_span_id: str
    span_ids: tuple[str, ...]  # every involved span, origin included
    agents: tuple[str, ...]
    severity: Severity
    mast: tuple[str, ...]  # MAST ids, e.g. ("FM-3.2",)
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    detector_version: str = ""
    #: what makes two findings "the same" for the stable id, beyond detector/kind/trace/origin
    #: (e.g. the claim text); defaults to nothing.
    key: str = ""

    @property
    def id(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        for part in (
            self.detector,
            self.detector_version,
            self.kind,
            self.trace_id,
            self.origin_span_id,
            self.key,
        ):
            h.update(part.encode())
            h.update(b"\x00")
        return h.hexdigest()


class Detector(Protocol):
    """A per-trace detector. ``name`` is the findings' ``detector`` field; bump ``version`` when its
    output changes. ``detect`` must be pure and deterministic."""

    name: ClassVar[str]
    version: ClassVar[str]

    def detect(self, trace: Trace) -> list[Finding]: ...


class WindowDetector(Protocol):
    """A detector over many traces in a time window (e.g. a circuit breaker that should have opened
    across traces, noisy neighbours). Gets the traces of the window, in start order."""

    name: ClassVar[str]
    version: ClassVar[str]

    def detect_window(self, traces: Sequence[Trace]) -> list[Finding]: ...
