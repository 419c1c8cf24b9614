"""The store's interface: one Protocol to write, one to read. Their docstrings are the contract.

Writers hand over columnar batches (Arrow tables in the schemas of ``store.schema``); readers get
Arrow tables back. A conformance suite (tests/store/test_conformance.py) runs against every
implementation of these Protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self

import pyarrow as pa

from store import schema


def _empty(table_schema: pa.Schema) -> Callable[[], pa.Table]:
    # Schema.empty_table() costs ~2 ms for the spans schema: build each once and share it (tables
    # are immutable), rather than per batch - most batches leave four of the five tables empty.
    table = table_schema.empty_table()
    return lambda: table


@dataclass(frozen=True)
class IngestBatch:
    """What one export request decoded into. Every table uses the schema of the same name in
    ``store.schema``, ``spans`` either ``SPANS`` (attributes whole) or the stored form
    ``SPAN_ROWS`` (the decoder's, and the default); empty tables are allowed. ``ingested_ns`` and
    the ``resolved_agent_*`` columns are filled by the writer, whatever the batch holds.

    ``conformed`` is a promise, not a check: True means the tables are exactly what
    ``store.ingest.conform_batch`` returned (which sets it), so the writer does not conform them
    again. Only ``conform_batch`` and faithful copies of its output (the decode pool's Arrow IPC
    round trip) set it; ``dataclasses.replace`` keeps it, so pass ``conformed=False`` when replacing
    a table. It takes no part in equality: a batch equals its conformed copy when the tables do.

    ``encoded``, when set, is the conformed batch as the ingest journal stores it
    (``store.journal.encode``, one buffer) and that buffer's CRC-32: a decode worker makes them
    beside the tables, which it reads back from the same bytes, and the journal then writes them
    as they are instead of encoding the batch again. The same promise as ``conformed`` (pass
    ``encoded=None`` when replacing a table), and no part in equality either."""

    spans: pa.Table = field(default_factory=_empty(schema.SPAN_ROWS))
    span_events: pa.Table = field(default_factory=_empty(schema.SPAN_EVENTS))
    span_links: pa.Table = field(default_factory=_empty(schema.SPAN_LINKS))
    logs: pa.Table = field(default_factory=_empty(schema.LOGS))
    metrics: pa.Table = field(default_factory=_empty(schema.METRICS))
    conformed: bool = field(default=False, compare=False, kw_only=True)
    encoded: tuple[pa.Buffer, int] | None = field(default=None, compare=False, kw_only=True)

    @property
    def item_count(self) -> int:
        """Spans + log records + metric points: the unit the bounded queue counts."""
        return int(self.spans.num_rows + self.logs.num_rows + self.metrics.num_rows)


@dataclass(frozen=True)
class WriteResult:
    spans_written: int  # new rows; duplicates of already stored (trace_id, span_id) are not counted
    spans_duplicate: int
    logs_written: int
    metric_points_written: int


class StoreWriter(Protocol):
    def write(self, batch: IngestBatch, timeout: float | None = None) -> WriteResult:
        """Store ``batch`` and return only once it is committed: after this returns, the rows survive
        a kill -9 of the process, and every reader sees them.

        Idempotent: a (trace_id, span_id) already stored is kept as first written and not duplicated;
        the same holds for span events/links (by span and index), logs (by ``log_id``) and metric
        points (by ``point_id``). Spans whose parent is not stored are kept as orphans and attach
        when the parent arrives. Agent resolution (``resolved_agent_*``) and the ``traces`` summary
        are brought up to date shortly after the commit (within the read-visibility bound), not
        necessarily by the time this returns.

        Raises ``store.errors.StoreBusy`` at once when the bounded queue cannot take the batch
        (the caller should answer "retry later"), ``store.errors.StoreClosed`` after ``close()``,
        and ``store.errors.StoreError`` when the commit failed (nothing of the batch is stored).
        """
        ...

    def append(self, batch: IngestBatch, timeout: float | None = None) -> None:
        """``write`` without the counts: return once ``batch`` is durable - it survives a kill -9
        of the process one instant later, and every read through this store sees it - which may
        be before it is in the database's tables (a store with an ingest journal applies it there
        in a later group; a read first waits for that). Duplicates are resolved when it is
        applied, as for ``write``. Raises what ``write`` raises. What the receivers call."""
        ...

    def close(self) -> None:
        """Drain the queue, commit, checkpoint and release the file."""
        ...


class RecordBatchStream(Iterator[pa.RecordBatch], Protocol):
    """One query result, batch by batch (what ``StoreReader.query_batches`` returns).

    ``schema`` is known before the first batch, so an empty result still has its columns.
    Iterating raises ``store.errors.QueryError`` when the statement fails partway through the
    result (rows already yielded stay valid, but the result is incomplete), and
    ``store.errors.StoreError`` when the path to the store breaks. ``close()`` (also on ``with``
    exit, after the last batch, after an error, and when the stream is garbage-collected) releases
    the cursor and read transaction behind it - call it when stopping early; closing twice is
    fine."""

    @property
    def schema(self) -> pa.Schema: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class StoreReader(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run one read-only SQL statement (SELECT / WITH / EXPLAIN / DESCRIBE / SHOW / SUMMARIZE)
        and return its result. A statement that could change anything raises
        ``store.errors.ReadOnlyViolation``; invalid SQL raises ``store.errors.QueryError``.
        Sees every batch whose ``write`` has returned."""
        ...

    def query_batches(self, sql: str, params: Sequence[Any] = ()) -> RecordBatchStream:
        """``query``, streamed: the result arrives as record batches of bounded size, so neither
        side holds a large result whole. Same read-only rules and snapshot as ``query`` (the
        stream reads one snapshot, taken when the call is made).

        The statement runs up to its first batch before this returns, so everything ``query``
        would raise for it - ``ReadOnlyViolation``, ``QueryError`` for invalid SQL or a failure
        before the first batch, ``StoreClosed``, ``StoreError`` - is raised by this call itself.
        A failure later in the result is raised as ``QueryError`` by the iterator. The stream
        holds a cursor (and, through ``faultlens serve``, a server thread) until it is read out
        or closed: close streams you abandon (``with reader.query_batches(...) as batches:``)."""
        ...

    def close(self) -> None: ...


class FindingsWriter(Protocol):
    def replace_findings(
        self, trace_ids: Sequence[str], findings: pa.Table, analysis: pa.Table, timeout: float | None = None
    ) -> None:
        """In one transaction: delete every finding and trace_analysis row of ``trace_ids``, then
        insert ``findings`` (schema ``store.schema.FINDINGS``) and ``analysis``
        (``store.schema.TRACE_ANALYSIS``). Durable when it returns, like ``StoreWriter.write``.
        Re-running an analysis therefore leaves exactly its latest result."""
        ...
