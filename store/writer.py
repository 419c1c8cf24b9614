"""``DuckStoreWriter``: the one owner of the write connection (``StoreWriter`` + ``FindingsWriter``).

Callers enqueue and block; one thread commits. The queue is bounded by items (spans + log records
+ metric points, still counted while their commit runs); a batch that does not fit is refused at
once with ``StoreBusy``. The writer thread takes every job that is ready, inserts them in ONE
transaction (group commit), COMMITs (DuckDB's WAL makes the commit durable), and only then resolves
each caller's future - so nothing is acknowledged that is not committed. Rows already stored are
dropped before the insert, by the hashes of the stored keys the writer holds (``store.stored_keys``,
read from the file at the first write of a batch; see ``store.ingest``); a group that fails is
retried job by job, so a bad batch fails alone. After commits - when writes pause, and at least
every ``maintenance_interval_s`` under load - the maintenance pass (``store.maintenance``) updates
agents, log content and ``traces`` for the traces touched since the last pass.

Checkpoints (compressing the WAL into the file) are what a commit costs most when DuckDB runs them
at its default 16 MB of WAL: each one rewrites the table's open row groups, so small ones add up to
more than the inserts (``bench/store_insert.py``). The writer raises the automatic threshold to
``_CHECKPOINT_THRESHOLD`` and checkpoints itself once writes pause (``_IDLE_CHECKPOINT_S``) with
more than ``_IDLE_CHECKPOINT_BYTES`` of WAL - durability does not depend on it: every commit is in
the WAL, which the next open replays.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from store import ingest
from store.api import IngestBatch, WriteResult
from store.config import StoreConfig
from store.database import cursor, open_database, read_meta, translate_errors, write_meta
from store.errors import StoreBusy, StoreClosed, StoreError
from store.journal import Journal, Record, holds_kept_aside, holds_records, journal_dir
from store.maintenance import NO_NEW_SPANS, run_maintenance, unmaintained_traces
from store.reader import ConnectionReader
from store.stored_keys import StoredKeys

log = logging.getLogger(__name__)

#: DuckDB's automatic checkpoint threshold under sustained load (its default is 16MB). Bounds the
#: WAL replayed after a crash (a few seconds) and the memory held by not yet checkpointed rows.
_CHECKPOINT_THRESHOLD = "256MB"
#: Quiet time after the last write before the writer checkpoints a WAL of more than
#: ``_IDLE_CHECKPOINT_BYTES`` (a smaller one waits for more: each checkpoint rewrites open row groups).
_IDLE_CHECKPOINT_S = 1.0
_IDLE_CHECKPOINT_BYTES = 16 << 20
_IDLE_CHECKPOINT_MIN_ITEMS = 4096  # committed since the last checkpoint before the WAL is looked at
_CHECKPOINT_RETRY_S = 10.0  # after a failed idle checkpoint
#: Least time between maintenance passes while writes keep coming: each pass has a fixed cost of
#: tens of ms whatever it touches (a few queries and their planning), and under load passes took
#: up to a third of the writer thread at 0.5 s. Inside the 2 s read-visibility bound.
_BUSY_MAINTENANCE_S = 1.0
#: ``faultlens_meta`` key of the last journal record applied (committed with the rows it applied).
_APPLIED_KEY = "journal_applied_seq"


@dataclass(eq=False)
class _Job:
    """One queued unit of work: an ingest ``batch`` (all of a group's batches are inserted
    together), or ``run``, executed inside the group's open transaction."""

    items: int
    batch: IngestBatch | None = None
    run: Callable[[duckdb.DuckDBPyConnection], Any] | None = None
    touched: set[str] = field(default_factory=set)
    earliest_start: int = NO_NEW_SPANS  # of the batch's spans: bounds maintenance's reads
    future: Future[Any] = field(default_factory=Future)  # resolved once applied to DuckDB
    # With the journal: the batch's record (0: none), resolved once it is journaled; ``urgent``
    # asks the writer thread to apply it at once (a caller waits for it), not in a later group.
    seq: int = 0
    logged: Future[None] = field(default_factory=Future)
    urgent: bool = False
    queued_at: float = 0.0


class DuckStoreWriter:
    """Writes to the DuckDB file at ``path`` (created or migrated on open). See ``store.api`` for
    the contracts of ``write``, ``replace_findings`` and ``close``.

    Thread-safe: any number of threads may call ``write`` / ``replace_findings`` / ``reader``."""

    def __init__(self, path: str | os.PathLike[str], config: StoreConfig | None = None) -> None:
        self.config = (config or StoreConfig()).validate()
        self.path = Path(path)
        self._con = open_database(path, memory_limit=self.config.memory_limit, threads=self.config.threads)
        with translate_errors("configuring the store"):
            self._con.execute(f"SET checkpoint_threshold = '{_CHECKPOINT_THRESHOLD}'")
            self._positional = ingest.positional_tables(self._con)
        # The keys stored in the ingest tables: read by the writer thread when it first needs them.
        self._stored_keys: dict[str, StoredKeys] | None = None
        self._wal = self.path.with_name(self.path.name + ".wal")
        self._checkpoint_retry_at = 0.0
        self._items_since_checkpoint = 0
        # Reader cursors are created from this root under a lock: the write connection itself is
        # only ever used by the writer thread.
        self._read_root = cursor(self._con)
        self._read_lock = threading.Lock()
        self._cond = threading.Condition()
        self._queue: deque[_Job] = deque()
        self._pending_items = 0  # queued + being committed
        self._closing = False
        self._closed = False
        with translate_errors("opening the store"):
            # Commits a stopped process did not maintain yet: the first pass does, reading all.
            self._touched: set[str] = unmaintained_traces(self._con)
        self._touched_from = NO_NEW_SPANS  # earliest start_ns committed since the last pass
        self._unbounded = set(self._touched)  # e.g. their last pass failed: read all their spans
        self._maintain_waiters: list[Future[None]] = []
        self._last_maintenance = time.monotonic()
        self._maintenance_cost = 0.0  # seconds the last pass took
        self._last_activity = time.monotonic()  # last job arrival or commit
        self._items_per_s = 50_000.0  # running estimate for retry_after hints
        # The journal (None: batches are acknowledged once committed to DuckDB), the batches
        # waiting to be journaled, the last record acknowledged and the last applied, and the
        # readers waiting for a record to be applied (``_await_visible``).
        self._journal: Journal | None = None
        self._to_log: deque[_Job] = deque()
        self._acked_seq = 0
        self._applied_seq = 0
        self._journaled_items = 0  # of the journaled batches in _queue (not yet taken to apply)
        self._barriers: list[tuple[int, Future[None]]] = []
        self._log_closing = False
        self._thread = threading.Thread(target=self._run, name="faultlens-store-writer", daemon=True)
        self._log_thread: threading.Thread | None = None
        if self.config.journal or holds_records(self.path) or holds_kept_aside(self.path):
            # Also without the journal: what a stopped server acknowledged into it is applied,
            # and what an earlier run kept aside is tried again.
            try:
                self._open_journal()
            except BaseException:
                self._con.close()
                raise
        if self._journal is not None and not self.config.journal:
            self._journal.close()
            self._journal = None
        if self._journal is not None:
            self._log_thread = threading.Thread(
                target=self._run_journal, name="faultlens-store-journal", daemon=True
            )
            self._log_thread.start()
        self._thread.start()

    # -- public API -------------------------------------------------------------------------------

    def write(self, batch: IngestBatch, timeout: float | None = None) -> WriteResult:
        job = self._batch_job(batch)
        if job is None:
            return WriteResult(0, 0, 0, 0)
        if self._journal is None:
            result: WriteResult = self._submit_and_wait(job, timeout)
            return result
        job.urgent = True
        deadline = time.monotonic() + (self.config.write_timeout_s if timeout is None else timeout)
        self._submit(job)
        self._wait(job.logged, timeout)
        result = self._wait(job.future, max(0.001, deadline - time.monotonic()))
        return result

    def append(self, batch: IngestBatch, timeout: float | None = None) -> None:
        """See ``store.api.StoreWriter.append``. With the journal (``StoreConfig.journal``) this
        returns once the batch is journaled and fsync'd; DuckDB gets it in a later group, and
        every read through this writer waits for that first (``_await_visible``). Without it,
        this is ``write``."""
        job = self._batch_job(batch)
        if job is None:
            return
        if self._journal is None:
            self._submit_and_wait(job, timeout)
            return
        self._submit(job)
        self._wait(job.logged, timeout)

    def _batch_job(self, batch: IngestBatch) -> _Job | None:
        if not batch.conformed:  # e.g. conformed in a decode worker already
            batch = ingest.conform_batch(batch)
        if batch.item_count == 0 and batch.span_events.num_rows == 0 and batch.span_links.num_rows == 0:
            return None
        return _Job(
            items=batch.item_count,
            batch=batch,
            touched=ingest.touched_traces(batch),
            earliest_start=ingest.earliest_start(batch),
        )

    def replace_findings(
        self, trace_ids: Sequence[str], findings: pa.Table, analysis: pa.Table, timeout: float | None = None
    ) -> None:
        """See ``store.api.FindingsWriter``. Never refused with ``StoreBusy``: it waits its turn
        behind queued ingest instead (analysis paces itself)."""
        findings = ingest.conform_table(findings, "findings")
        analysis = ingest.conform_table(analysis, "trace_analysis")
        ids = list(trace_ids)
        job = _Job(
            items=0,  # analysis paces itself; the bound protects memory from ingest
            run=lambda con: ingest.replace_findings(con, ids, findings, analysis),
        )
        self._submit_and_wait(job, timeout)

    def write_report(self, report: pa.Table, timeout: float | None = None) -> None:
        """Store rows of ``store.schema.REPORTS`` (a report id already stored is replaced)."""
        report = ingest.conform_table(report, "reports")
        job = _Job(
            items=0,
            run=lambda con: ingest.replace_rows(con, "reports", report),
        )
        self._submit_and_wait(job, timeout)

    def sync(self, timeout: float | None = None) -> None:
        """Block until every write acknowledged so far has been through maintenance (agents
        resolved, log content joined, ``traces`` updated). For batch tools and tests; the server
        does not need it."""
        waiter: Future[None] = Future()
        with self._cond:
            if self._closing:
                raise StoreClosed("the store is closed")
            self._maintain_waiters.append(waiter)
            self._cond.notify_all()
        self._wait(waiter, timeout)

    def reader(self, *, see_acknowledged: bool = True) -> ConnectionReader:
        """A ``StoreReader`` on this process's connection (each query gets its own cursor). It sees
        every acknowledged write: with the journal, each query first has the acknowledged batches
        applied. ``see_acknowledged=False`` skips that wait, for a reader that only needs what is
        applied already (the incremental analysis, which reads traces that have been quiet for
        seconds): it sees journaled batches within ``apply_max_delay_s``. Valid until
        ``close()``."""
        return ConnectionReader(self._new_cursor if see_acknowledged else self._applied_cursor)

    def close(self) -> None:
        if self._log_thread is not None:  # journal what is queued, then apply it all
            with self._cond:
                self._log_closing = True
                self._cond.notify_all()
            self._log_thread.join()
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        if self._journal is not None:
            self._journal.close()
            self._journal.release(self._applied_seq)
        with self._read_lock:
            if self._closed:
                return
            self._closed = True
            with translate_errors("closing the store"):
                self._con.close()

    def __enter__(self) -> DuckStoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pending_items(self) -> int:
        """Items queued or being committed (what the bound applies to)."""
        return self._pending_items

    # -- callers' side ----------------------------------------------------------------------------

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        self._await_visible()
        return self._applied_cursor()

    def _applied_cursor(self) -> duckdb.DuckDBPyConnection:
        with self._read_lock:
            if self._closed:
                raise StoreClosed("the store is closed")
            with translate_errors("opening a read cursor"):
                return cursor(self._read_root)

    def _await_visible(self) -> None:
        """With the journal: wait until every batch acknowledged so far is applied to DuckDB, so
        a read sees every acknowledged write (it asks the writer thread to apply them now)."""
        if self._journal is None or threading.current_thread() is self._thread:
            return
        with self._cond:
            target = self._acked_seq
            if self._applied_seq >= target or self._closed:
                return
            waiter: Future[None] = Future()
            self._barriers.append((target, waiter))
            self._cond.notify_all()
        self._wait(waiter, None)

    def _submit_and_wait(self, job: _Job, timeout: float | None) -> Any:
        self._submit(job)
        return self._wait(job.future, timeout)

    def _submit(self, job: _Job) -> None:
        """Queue ``job`` (to the journal first when it is a batch and there is one), or refuse it
        with ``StoreBusy`` when the bound is reached."""
        with self._cond:
            if self._closing or self._log_closing:
                raise StoreClosed("the store is closed")
            limit = self.config.queue_max_items
            if self._journal is not None:
                limit = min(limit, self.config.journal_max_items)
            # An empty queue takes any batch, so one larger than the bound is not refused forever.
            if job.items and self._pending_items and self._pending_items + job.items > limit:
                retry_after = min(5.0, max(0.1, self._pending_items / self._items_per_s))
                raise StoreBusy(
                    f"write queue full ({self._pending_items} of {limit} items pending)", retry_after
                )
            if job.batch is not None and self._journal is not None:
                self._to_log.append(job)
            else:
                self._queue.append(job)
            self._pending_items += job.items
            self._last_activity = time.monotonic()
            self._cond.notify_all()

    def _wait(self, future: Future[Any], timeout: float | None) -> Any:
        limit = self.config.write_timeout_s if timeout is None else timeout
        try:
            return future.result(limit)
        except FutureTimeout:
            if future.cancel():
                raise StoreError(f"not committed within {limit:g}s; nothing was stored") from None
            raise StoreError(
                f"commit did not finish within {limit:g}s; it may still complete (writes are idempotent: "
                "retrying is safe)"
            ) from None

    # -- writer thread ----------------------------------------------------------------------------

    def _open_journal(self) -> None:
        """Open the journal beside the file and apply the batches it holds past the applied mark
        (acknowledged by a process that stopped before applying them)."""
        with translate_errors("reading the ingest journal's state"):
            state = read_meta(self._con, "journal_id", _APPLIED_KEY)
        known = state.get("journal_id")
        journal = Journal(journal_dir(self.path), known)
        if known != journal.id:
            with translate_errors("recording the ingest journal"):
                self._con.execute("BEGIN TRANSACTION")
                write_meta(self._con, {"journal_id": journal.id, _APPLIED_KEY: "0"})
                self._con.execute("COMMIT")
            state = {}
        self._journal = journal
        self._applied_seq = int(state.get(_APPLIED_KEY) or 0)
        group: list[_Job] = []
        replayed = items = 0
        for record in journal.recover(self._applied_seq):
            job = self._batch_job(record.batch)
            if job is None:
                continue
            job.seq = record.seq
            group.append(job)
            replayed += 1
            items += job.items
            self._pending_items += job.items  # released as each is applied, as for queued jobs
            if items >= self.config.apply_min_items:
                self._commit_group(group)
                group, items = [], 0
        if group:
            self._commit_group(group)
        self._acked_seq = self._applied_seq = max(self._applied_seq, journal.last_seq)
        journal.release(self._applied_seq)
        if replayed:
            log.info("applied %d journaled batches that a stopped process had acknowledged", replayed)
        self._apply_quarantined(journal)

    def _apply_quarantined(self, journal: Journal) -> None:
        """Try again the acknowledged batches an earlier run could not apply and kept under
        ``failed/`` (``_fail``): the cause may be gone (a full disk, a fault since fixed). A batch
        applied now leaves ``failed/``; one refused again stays there with the new reason."""
        for path, record in journal.quarantined():
            job = self._batch_job(record.batch)
            if job is not None:
                try:
                    self._commit([job])
                except Exception as e:
                    log.warning(
                        "journaled batch %d kept in %s still cannot be applied: %s", record.seq, path, e
                    )
                    with contextlib.suppress(OSError):
                        journal.quarantine(record, repr(e))
                    continue
            try:
                journal.forget_quarantined(path)
            except OSError:
                log.exception("applied journaled batch %d, but could not delete %s", record.seq, path)
                continue
            log.info("applied journaled batch %d that an earlier run had kept aside", record.seq)

    def _run_journal(self) -> None:
        """Journal thread: append every queued batch (one fsync for all that are ready),
        acknowledge them, and hand them to the writer thread to apply."""
        journal = self._journal
        assert journal is not None
        while True:
            with self._cond:
                while not self._to_log and not self._log_closing:
                    self._cond.wait()
                jobs = list(self._to_log)
                self._to_log.clear()
                closing = self._log_closing
            live = [j for j in jobs if j.logged.set_running_or_notify_cancel()]
            dropped = sum(j.items for j in jobs) - sum(j.items for j in live)
            if dropped:
                self._release(dropped)
            if live:
                self._journal_jobs(journal, live)
            if closing:
                with self._cond:
                    if not self._to_log:
                        return

    def _journal_jobs(self, journal: Journal, jobs: list[_Job]) -> None:
        try:
            seqs = journal.append([j.batch for j in jobs if j.batch is not None])
        except Exception as e:
            self._release(sum(j.items for j in jobs))
            error = StoreError(f"could not journal the batch, nothing was stored: {e}")
            error.__cause__ = e
            for j in jobs:
                j.logged.set_exception(error)
            return
        now = time.monotonic()
        with self._cond:
            for j, seq in zip(jobs, seqs, strict=True):
                j.seq, j.queued_at = seq, now
                self._queue.append(j)
                self._journaled_items += j.items
            self._acked_seq = seqs[-1]
            self._cond.notify_all()
            # Pace acknowledgements to the writer thread: while a whole group already waits for
            # it, hold these back, so CPU goes to applying rather than to decoding more, and the
            # backlog a read waits for stays about two groups. They are durable already.
            while self._journaled_items >= self.config.apply_min_items and not self._log_closing:
                self._cond.wait()
        for j in jobs:
            j.logged.set_result(None)

    def _apply_due_in(self) -> float | None:
        """Seconds until the queued jobs are due to be applied (None: nothing is queued). Without
        the journal, at once. With it, once they hold ``apply_min_items`` items, or one is not a
        journaled batch or is ``urgent``, or the oldest has waited ``apply_max_delay_s``."""
        if not self._queue:
            return None
        if self._journal is None:
            return 0.0
        if self._journaled_items >= self.config.apply_min_items:
            return 0.0
        if any(not job.seq or job.urgent for job in self._queue):
            return 0.0
        return self._queue[0].queued_at + self.config.apply_max_delay_s - time.monotonic()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not self._maintain_waiters and not self._barriers:
                    apply_in = self._apply_due_in()
                    due = _earliest(
                        apply_in, _earliest(self._maintenance_due_in(), self._checkpoint_due_in())
                    )
                    if due is not None and due <= 0:
                        break
                    self._cond.wait(due)
                apply_in = self._apply_due_in()
                take = (
                    self._closing
                    or self._maintain_waiters
                    or self._barriers
                    or (apply_in is not None and apply_in <= 0)
                )
                jobs = list(self._queue) if take else []
                if take:
                    self._queue.clear()
                    self._journaled_items = 0
                    self._cond.notify_all()
                closing = self._closing
            # A journaled batch is applied even when its caller stopped waiting: it is acknowledged.
            live = [j for j in jobs if j.future.set_running_or_notify_cancel() or j.seq]
            cancelled = sum(j.items for j in jobs) - sum(j.items for j in live)
            if cancelled:
                self._release(cancelled)
            if live:
                self._commit_group(live)
            with self._cond:
                # A read waits for what is queued: apply it first, maintain after (unless reads
                # keep coming so that maintenance would wait for more than a busy interval).
                overdue = self._maintenance_due_in()
                if (
                    self._barriers
                    and self._queue
                    and not closing
                    and (overdue is None or overdue > -_BUSY_MAINTENANCE_S)
                ):
                    continue
                idle = not self._queue and not self._to_log
                waiters, self._maintain_waiters = self._maintain_waiters, []
            due = self._maintenance_due_in()
            if waiters or closing or (due is not None and due <= 0):
                self._maintain()
            for w in waiters:
                w.set_result(None)
            if closing and idle:
                break
            due = self._checkpoint_due_in()
            if idle and due is not None and due <= 0 and not self._touched:
                self._checkpoint()
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error:
            # Not fatal: every commit is in the WAL, which the next open replays.
            log.exception("final checkpoint of %s failed", self.path)

    def _maintenance_due_in(self) -> float | None:
        """Seconds until maintenance is due (None: nothing touched): ``maintenance_interval_s``
        (or ``_BUSY_MAINTENANCE_S`` or three times the last pass's cost, if more) after the last
        pass under steady load, or the interval after the last write activity when writes pause -
        so readers get derived data sooner without a pass per commit. (A shorter pause is not
        one: requests of a steady stream arrive tens of ms apart.)"""
        if not self._touched:
            return None
        interval = self.config.maintenance_interval_s
        # Under load, keep maintenance to about a quarter of the writer thread's time, and pay its
        # fixed cost per pass (a few scans, tens of ms) at most every _BUSY_MAINTENANCE_S.
        busy_due = self._last_maintenance + max(interval, _BUSY_MAINTENANCE_S, 3 * self._maintenance_cost)
        due = min(busy_due, self._last_activity + interval)
        return due - time.monotonic()

    def _checkpoint_due_in(self) -> float | None:
        """Seconds until an idle checkpoint is due (None: the WAL is small)."""
        if self._items_since_checkpoint < _IDLE_CHECKPOINT_MIN_ITEMS:
            return None  # not worth a stat of the WAL on every idle moment
        try:
            if self._wal.stat().st_size < _IDLE_CHECKPOINT_BYTES:
                return None
        except OSError:  # no WAL: nothing to checkpoint
            return None
        due = max(self._last_activity + _IDLE_CHECKPOINT_S, self._checkpoint_retry_at)
        return due - time.monotonic()

    def _checkpoint(self) -> None:
        try:
            self._con.execute("CHECKPOINT")
            self._items_since_checkpoint = 0
        except duckdb.Error as e:
            # Not fatal (the WAL keeps every commit); e.g. a long read transaction holds it back.
            log.warning("idle checkpoint of %s failed (%s); retrying later", self.path, e)
            self._checkpoint_retry_at = time.monotonic() + _CHECKPOINT_RETRY_S

    def _maintain(self) -> None:
        started = time.monotonic()
        try:
            self._maintain_traces()
        finally:
            self._last_maintenance = time.monotonic()
            self._maintenance_cost = self._last_maintenance - started

    def _maintain_traces(self) -> None:
        touched, self._touched = self._touched, set()
        new_from, self._touched_from = self._touched_from, NO_NEW_SPANS
        # A trace whose last pass failed may have spans its traces row does not cover: no bound.
        bound = None if touched & self._unbounded else new_from
        try:
            run_maintenance(self._con, touched, bound)
            self._unbounded -= touched
            return
        except Exception:
            if len(touched) > 1:
                log.warning("store maintenance of %d traces failed; redoing them one by one", len(touched))
        # Derived data only: the rows are committed, and the next write to a trace that still
        # fails retries it, then reading all its spans. One bad trace must not hold back the others.
        for trace_id in sorted(touched):
            try:
                run_maintenance(self._con, {trace_id}, None)
                self._unbounded.discard(trace_id)
            except Exception:
                log.exception("store maintenance failed for trace %s", trace_id)
                self._unbounded.add(trace_id)

    def _release(self, items: int) -> None:
        with self._cond:
            self._pending_items -= items

    def _commit_group(self, jobs: list[_Job]) -> None:
        started = time.monotonic()
        try:
            results = self._commit(jobs)
        except Exception as e:
            if len(jobs) == 1:
                self._fail(jobs[0], e)
            else:
                log.warning("group commit of %d jobs failed (%s); committing them one by one", len(jobs), e)
                for job in jobs:
                    try:
                        (result,) = self._commit([job])
                    except Exception as one_error:
                        self._fail(job, one_error)
                    else:
                        self._done(job, result)
            self._mark_applied(jobs)
            return
        items = sum(j.items for j in jobs)
        elapsed = time.monotonic() - started
        if items and elapsed > 0:
            self._items_per_s = 0.8 * self._items_per_s + 0.2 * (items / elapsed)
        for job, result in zip(jobs, results, strict=True):
            self._done(job, result)

    def _commit(self, jobs: list[_Job]) -> list[Any]:
        con = self._con
        now = time.time_ns()
        writes = [j for j in jobs if j.batch is not None]
        stored = self._loaded_stored_keys() if writes else {}
        with ingest.keyed_transaction(con, stored):
            written = ingest.insert_group(
                con,
                [j.batch for j in writes if j.batch is not None],
                now,
                stored,
                positional=self._positional,
            )
            by_job: dict[int, Any] = {id(j): r for j, r in zip(writes, written, strict=True)}
            for job in jobs:
                if job.run is not None:
                    by_job[id(job)] = job.run(con)
            applied = max((j.seq for j in jobs), default=0)
            if applied > self._applied_seq:
                write_meta(con, {_APPLIED_KEY: str(applied)})
        for job in jobs:
            self._touched |= job.touched
            self._touched_from = min(self._touched_from, job.earliest_start)
            self._items_since_checkpoint += job.items
        self._last_activity = time.monotonic()
        if applied > self._applied_seq:
            self._set_applied(applied)
        return [by_job[id(j)] for j in jobs]

    def _loaded_stored_keys(self) -> dict[str, StoredKeys]:
        """The keys stored in the ingest tables, read from the file at the first write of a batch
        (a process that only writes findings, ``faultlens analyze``, never reads them): ~0.1 s per
        million rows."""
        if self._stored_keys is None:
            with translate_errors("reading the stored keys"):
                self._stored_keys = ingest.load_stored_keys(self._con)
        return self._stored_keys

    def _set_applied(self, seq: int) -> None:
        """Journal records up to ``seq`` are applied (or quarantined): wake the readers waiting
        for them, and delete journal segments that hold nothing else."""
        with self._cond:
            self._applied_seq = seq
            ready = [w for target, w in self._barriers if target <= seq]
            self._barriers = [(t, w) for t, w in self._barriers if t > seq]
        for w in ready:
            w.set_result(None)
        if self._journal is not None:
            try:
                self._journal.release(seq)
            except OSError:
                log.exception("could not delete applied ingest journal segments")

    def _mark_applied(self, jobs: list[_Job]) -> None:
        """After a group whose last journaled jobs failed (and were quarantined by ``_fail``):
        move the applied mark past them, so they are not replayed."""
        applied = max((j.seq for j in jobs), default=0)
        if applied <= self._applied_seq:
            return
        try:
            write_meta(self._con, {_APPLIED_KEY: str(applied)})
        except duckdb.Error:
            # Replaying them after a restart is harmless: duplicates are stored once.
            log.exception("could not record journal record %d as handled", applied)
        self._set_applied(applied)

    def _done(self, job: _Job, result: Any) -> None:
        self._release(job.items)
        if not job.future.cancelled():
            job.future.set_result(result)

    def _fail(self, job: _Job, error: Exception) -> None:
        self._release(job.items)
        if job.seq and job.batch is not None and self._journal is not None:
            # Acknowledged already: keep it where an operator can find it, not only in the log.
            try:
                kept = self._journal.quarantine(Record(job.seq, job.batch), repr(error))
                log.error("could not apply journaled batch %d (%s); kept in %s", job.seq, error, kept)
            except OSError:
                log.exception("could not apply journaled batch %d (%s), nor keep it aside", job.seq, error)
        if job.future.cancelled():
            return
        if isinstance(error, StoreError):
            job.future.set_exception(error)
            return
        wrapped = StoreError(f"commit failed: {str(error).splitlines()[0] if str(error) else error!r}")
        wrapped.__cause__ = error
        job.future.set_exception(wrapped)


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)
