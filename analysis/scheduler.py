"""Incremental analysis inside the serving process: each trace is analysed once it has been quiet
(no span or log stored for ``quiet_seconds``), and again whenever late data arrives.

"Quiet" and "late" come from the store alone: ``traces.last_ingested_ns`` (moved by every write
that touches the trace) against ``trace_analysis.last_ingested_ns`` (what the last analysis saw).
Nothing is kept in memory between polls, so a restart picks up exactly where it stopped.
``options`` (``analysis.options``) configure the detectors of every analysis it runs.
"""

from __future__ import annotations

import logging
import threading
import time

from analysis.engine import analyze
from analysis.options import AnalysisOptions
from store.api import FindingsWriter, StoreReader
from store.errors import StoreClosed, StoreError

log = logging.getLogger(__name__)

_DUE = """
SELECT t.trace_id, t.last_ingested_ns
FROM traces t LEFT JOIN trace_analysis a ON a.trace_id = t.trace_id
WHERE (a.trace_id IS NULL OR a.last_ingested_ns IS NULL OR a.last_ingested_ns < t.last_ingested_ns)
  AND t.last_ingested_ns <= ?
ORDER BY t.last_ingested_ns, t.trace_id
LIMIT ?
"""


class AnalysisScheduler:
    """A daemon thread polling every ``poll_seconds``; ``start()`` / ``stop()``. ``run_once()``
    does one poll synchronously (tests, batch tools) and returns how many traces it analysed.

    A trace whose analysis raises is logged and skipped until new data arrives for it, so one bad
    trace cannot make the scheduler spin."""

    def __init__(
        self,
        reader: StoreReader,
        writer: FindingsWriter,
        quiet_seconds: float = 5.0,
        poll_seconds: float = 1.0,
        batch: int = 100,
        options: AnalysisOptions | None = None,
    ) -> None:
        if quiet_seconds < 0 or poll_seconds <= 0 or batch < 1:
            raise ValueError("quiet_seconds must be >= 0, poll_seconds > 0 and batch >= 1")
        self._reader = reader
        self._writer = writer
        self.options = options
        self.quiet_ns = int(quiet_seconds * 1e9)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: dict[str, int] = {}  # trace id → last_ingested_ns that failed
        self.analysed = 0

    def due(self, now_ns: int | None = None) -> list[str]:
        """Trace ids that are quiet and not analysed since their last data."""
        now = time.time_ns() if now_ns is None else now_ns
        table = self._reader.query(_DUE, [now - self.quiet_ns, self.batch + len(self._failed)])
        out: list[str] = []
        for tid, last in zip(
            table.column("trace_id").to_pylist(), table.column("last_ingested_ns").to_pylist(), strict=True
        ):
            if self._failed.get(tid) != last:
                out.append(tid)
        return out[: self.batch]

    def run_once(self, now_ns: int | None = None) -> int:
        ids = self.due(now_ns)
        if not ids:
            return 0
        try:
            stats = analyze(self._reader, self._writer, trace_ids=ids, batch=self.batch, options=self.options)
        except StoreClosed:
            raise
        except Exception:
            log.exception("analysis of %d trace(s) failed; analysing them one by one", len(ids))
            return self._one_by_one(ids)
        self.analysed += stats.traces
        return stats.traces

    def _one_by_one(self, ids: list[str]) -> int:
        done = 0
        for tid in ids:
            try:
                done += analyze(self._reader, self._writer, trace_ids=[tid], options=self.options).traces
            except StoreClosed:
                raise
            except Exception:
                log.exception("analysis of trace %s failed; skipped until new data arrives", tid)
                last = self._reader.query("SELECT last_ingested_ns FROM traces WHERE trace_id = ?", [tid])
                self._failed[tid] = last.column(0).to_pylist()[0] if last.num_rows else 0
        self.analysed += done
        return done

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once() >= self.batch
            except StoreClosed:
                return
            except StoreError:
                log.exception("analysis poll failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="faultlens-analysis", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the batch in progress (findings are written per batch, never half)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
