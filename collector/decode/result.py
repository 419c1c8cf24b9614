"""The decoder's result type."""

from __future__ import annotations

from dataclasses import dataclass

from store.api import IngestBatch


@dataclass(frozen=True)
class Decoded:
    """One decoded export request: the batch to store, and what was rejected for OTLP
    ``partial_success`` (``rejected`` items; ``error_message`` names the first reasons, ``None``
    when nothing was rejected)."""

    batch: IngestBatch
    rejected: int
    error_message: str | None


class Rejections:
    """Counts rejected items and keeps the first few distinct reasons for the error message."""

    _MAX_REASONS = 3

    def __init__(self) -> None:
        self.count = 0
        self._reasons: list[str] = []

    def add(self, reason: str) -> None:
        self.count += 1
        if len(self._reasons) < self._MAX_REASONS and reason not in self._reasons:
            self._reasons.append(reason)

    def message(self, unit: str) -> str | None:
        if not self.count:
            return None
        return f"rejected {self.count} {unit}: " + "; ".join(self._reasons)
