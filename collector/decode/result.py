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
    """Counts rejected items and keeps the first few distinct reasons for the error message; also
    keeps warnings about items stored but not fully decoded (OTLP allows ``error_message`` with
    nothing rejected, as a warning)."""

    _MAX_REASONS = 3

    def __init__(self) -> None:
        self.count = 0
        self._reasons: list[str] = []
        self._warnings: list[str] = []

    def add(self, reason: str) -> None:
        self.count += 1
        if len(self._reasons) < self._MAX_REASONS and reason not in self._reasons:
            self._reasons.append(reason)

    def warn(self, warning: str) -> None:
        if len(self._warnings) < self._MAX_REASONS and warning not in self._warnings:
            self._warnings.append(warning)

    def message(self, unit: str) -> str | None:
        parts = []
        if self.count:
            parts.append(f"rejected {self.count} {unit}: " + "; ".join(self._reasons))
        if self._warnings:
            parts.append("stored with warnings: " + "; ".join(self._warnings))
        return " | ".join(parts) or None
