"""The ``Claim`` record shared by the extractors (``claims``, ``dates``) and everything downstream."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.detectors.hallucination.numbers import Quantity


@dataclass(frozen=True)
class Claim:
    kind: str
    text: str
    start: int
    end: int
    keys: tuple[str, ...]  # keys[0] is the canonical normalized form
    covers: frozenset[str]  # what this claim supports when it occurs in a source
    strong: bool = True
    quantity: Quantity | None = None
    tokens: tuple[str, ...] = field(default=())
    #: worth checking when emitted; small bare numbers ("3 options", list numbering) are extracted
    #: only so that they can support other claims ("refund_window_days": 30 → "30-day")
    checkable: bool = True

    @property
    def key(self) -> str:
        return self.keys[0]
