"""Batch preparation (caller side) and idempotent inserts (writer thread side).

Dedup strategy (measured in ``bench/store_insert.py``): a group commit inserts each ingest table
with ONE plain ``INSERT``, after dropping the group's internal duplicates (the earliest job's row
wins) and the rows whose key is stored already. Those tables have no primary key
(``schema.KEYS_CHECKED_BY_WRITER``): the writer's ``store.stored_keys.StoredKeys`` says which rows
may be stored, and only those are looked up in the table - first among the stored rows of their
times, whose row groups DuckDB finds by their statistics, then, for any not found there, in all
of them. Duplicates of stored rows are rare (lost acknowledgements, a journal replayed after a
crash). DuckDB's own ways cost more: a primary key keeps its index resident and cost the writer
~1.1-1.9 µs per span, and ``INSERT OR IGNORE`` (planned as a MERGE) or a NOT EXISTS anti-join
scan the whole table on EVERY statement in DuckDB 2.0.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.acero  # Table.group_by imports it on first use: ~40 ms of the first group
import pyarrow.compute as pc

from store import schema
from store.agents import Agent, resolve_agents
from store.api import IngestBatch, WriteResult
from store.database import unregister_quietly
from store.errors import StoreError
from store.maintenance import NO_NEW_SPANS
from store.stored_keys import StoredKeys, hashes, sorted_unique

log = logging.getLogger(__name__)

_KEYS = {name: key for name, _, key in schema.TABLES}
#: Per table of ``schema.TABLES``: the stored table and the Arrow schema batches are conformed to.
_STORED = {name: schema.stored(name, s) for name, s, _ in schema.TABLES}
_SCHEMAS = {name: s for name, (_, s) in _STORED.items()}
#: Batch tables in insert order, with the columns the writer fills whatever the batch holds.
_BATCH_TABLES = tuple(schema.KEYS_CHECKED_BY_WRITER)
_STAMPED = ("spans", "logs", "metrics")  # tables whose ingested_ns the writer sets at commit


def conform(table: pa.Table, name: str) -> pa.Table:
    """Return ``table`` in the exact Arrow schema table ``name`` is stored in: columns in schema
    order, cast to the schema's types, absent columns as nulls. Rows with a null key column are
    logged, counted and dropped (they could never be addressed). Raises ``StoreError`` for unknown
    columns or values that do not cast. Spans come as ``schema.SPAN_ROWS`` (from the decoder) or
    with ``attributes`` whole (``schema.SPANS``: stored as ``attributes_rest``, nothing moved)."""
    target = _SCHEMAS[name]
    if name == "spans" and "attributes" in table.column_names:
        if "attributes_rest" in table.column_names or "attributes_in_columns" in table.column_names:
            raise StoreError(
                "spans: give attributes whole or as attributes_rest + attributes_in_columns, not both"
            )
        at = table.column_names.index("attributes")
        table = table.rename_columns(
            [*table.column_names[:at], "attributes_rest", *table.column_names[at + 1 :]]
        )
    if not table.schema.equals(target):
        unknown = sorted(set(table.column_names) - set(target.names))
        if unknown:
            raise StoreError(f"{name}: unknown columns {unknown}")
        columns: list[pa.ChunkedArray | pa.Array] = []
        for f in target:
            if f.name in table.column_names:
                try:
                    columns.append(table.column(f.name).cast(f.type))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                    raise StoreError(f"{name}.{f.name}: cannot cast to {f.type}: {e}") from e
            else:
                columns.append(pa.nulls(table.num_rows, f.type))
        table = pa.Table.from_arrays(columns, schema=target)
    if table.num_rows == 0:
        return table
    valid = None
    for k in _KEYS[name]:
        col_valid = pc.is_valid(table.column(k))
        valid = col_valid if valid is None else pc.and_(valid, col_valid)
    if valid is not None and not pc.all(valid).as_py():
        dropped = table.num_rows - pc.sum(valid).as_py()
        log.warning("%s: dropped %d rows without a key (%s)", name, dropped, ", ".join(_KEYS[name]))
        table = table.filter(valid)
    return table


def conform_batch(batch: IngestBatch) -> IngestBatch:
    """``conform`` every table of ``batch`` and resolve the agents it can resolve by itself. Pure,
    so it runs off the writer thread: in the caller's thread, or in a decode worker process. The
    result is marked ``conformed`` and ``DuckStoreWriter.write`` takes it as it is."""
    tables = {name: conform(getattr(batch, name), name) for name in _BATCH_TABLES}
    tables["spans"] = resolve_batch_agents(tables["spans"])
    return IngestBatch(**tables, conformed=True)


def conform_table(table: pa.Table, name: str) -> pa.Table:
    """``conform`` for the non-batch tables (findings, trace_analysis, reports)."""
    return conform(table, name)


def _stamp(table: pa.Table, name: str, ingested_ns: int) -> pa.Table:
    if name not in _STAMPED:
        return table
    i = table.schema.get_field_index("ingested_ns")
    return table.set_column(
        i, table.schema.field(i), pa.repeat(pa.scalar(ingested_ns, pa.int64()), table.num_rows)
    )


def resolve_batch_agents(spans: pa.Table) -> pa.Table:
    """Set ``resolved_agent_*`` from what the batch itself knows (whatever the batch held there):
    a span whose agent ancestor is in the same batch is final at once, so maintenance only has to
    update the spans whose chain leaves the batch (UPDATEs cost far more than inserts in DuckDB).

    A span that names its own agent resolves to it; only the traces holding a span that names
    none are walked (in Python, ``store.agents.resolve_agents``), the rest is Arrow."""
    if spans.num_rows == 0:
        return spans
    agent_id = spans.column("agent_id").combine_chunks()
    agent_name = spans.column("agent_name").combine_chunks()
    resolved_id, resolved_name = agent_id, agent_name
    lacking = pc.and_(pc.is_null(agent_id), pc.is_null(agent_name))
    if pc.any(lacking).as_py():
        trace_col = spans.column("trace_id").combine_chunks()
        walked = pc.is_in(trace_col, value_set=pc.unique(pc.filter(trace_col, lacking)))
        sub = spans.filter(walked)
        out_id, out_name = _walk_agents(sub)
        resolved_id = pc.replace_with_mask(agent_id, walked, pa.array(out_id, pa.string()))
        resolved_name = pc.replace_with_mask(agent_name, walked, pa.array(out_name, pa.string()))
    for column, values in (("resolved_agent_id", resolved_id), ("resolved_agent_name", resolved_name)):
        i = spans.schema.get_field_index(column)
        spans = spans.set_column(i, spans.schema.field(i), values)
    return spans


def _walk_agents(spans: pa.Table) -> tuple[list[str | None], list[str | None]]:
    """The resolved agent id and name of each span of ``spans`` (whole traces), walking up to the
    nearest span that names an agent."""
    trace_ids = spans.column("trace_id").to_pylist()
    span_ids = spans.column("span_id").to_pylist()
    parents = spans.column("parent_span_id").to_pylist()
    agent_ids = spans.column("agent_id").to_pylist()
    agent_names = spans.column("agent_name").to_pylist()
    by_trace: dict[str, list[int]] = {}
    for i, t in enumerate(trace_ids):
        by_trace.setdefault(t, []).append(i)
    out_id: list[str | None] = [None] * spans.num_rows
    out_name: list[str | None] = [None] * spans.num_rows
    for rows in by_trace.values():
        own: list[Agent | None] = [
            (agent_ids[i], agent_names[i]) if agent_ids[i] is not None or agent_names[i] is not None else None
            for i in rows
        ]
        resolved = resolve_agents([span_ids[i] for i in rows], [parents[i] for i in rows], own)
        for i, agent in zip(rows, resolved, strict=True):
            if agent is not None:
                out_id[i], out_name[i] = agent
    return out_id, out_name


def positional_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The batch tables whose stored column order is their Arrow schema's (true unless a
    migration appended a column that the schema lists elsewhere): ``insert_plain`` may insert
    conformed tables into them by position, which skips planning a view over 50 columns (about
    1 ms of CPU per insert)."""
    ok = set()
    for name in _BATCH_TABLES:
        stored = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
                "ORDER BY column_index",
                [_STORED[name][0]],
            ).fetchall()
        ]
        if stored == _SCHEMAS[name].names:
            ok.add(name)
    return frozenset(ok)


def insert_plain(
    con: duckdb.DuckDBPyConnection, name: str, table: pa.Table, *, positional: bool = False
) -> int:
    """Plain ``INSERT`` of ``table`` into the table that stores ``name`` (inside the caller's
    transaction); in a table with a primary key, a key that is already stored raises
    ``duckdb.ConstraintException`` and aborts the transaction. ``positional``: ``table`` is
    conformed and ``name`` is in ``positional_tables``."""
    if table.num_rows == 0:
        return 0
    target = _STORED[name][0]
    if positional:
        con.from_arrow(table).insert_into(target)
        return int(table.num_rows)
    view = f"_faultlens_in_{name}"
    cols = ", ".join(table.column_names)
    con.register(view, table)
    try:
        con.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {view}")
    finally:
        unregister_quietly(con, view)
    return int(table.num_rows)


def _first_occurrences(keys: pa.Table) -> pa.Array | None:
    """Row numbers of the first row of each distinct key, ascending; None when all are distinct."""
    numbered = keys.append_column("_row", pa.array(range(keys.num_rows), pa.int64()))
    firsts = numbered.group_by(keys.column_names, use_threads=False).aggregate([("_row", "min")])
    if firsts.num_rows == keys.num_rows:
        return None
    rows = firsts.column("_row_min")
    return pc.take(rows, pc.sort_indices(rows)).combine_chunks()


def _stored_rows(
    con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table, where: str = "TRUE"
) -> npt.NDArray[np.intp]:
    """Row numbers of ``rows`` whose key is already stored in ``name`` among its rows that match
    ``where`` (SQL; all of them by default: one scan of its key columns)."""
    key = ", ".join(_KEYS[name])
    numbered = rows.select(list(_KEYS[name]))
    numbered = numbered.append_column("_row", pa.array(range(rows.num_rows), pa.int64()))
    con.register("_faultlens_keys", numbered)
    try:
        found = con.execute(
            f"SELECT k._row FROM _faultlens_keys k SEMI JOIN (SELECT {key} FROM {_STORED[name][0]} "
            f"WHERE {where}) s USING ({key})"
        ).fetchall()
    finally:
        unregister_quietly(con, "_faultlens_keys")
    return np.array([r[0] for r in found], dtype=np.intp)


def _stored_of(con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table) -> npt.NDArray[np.intp]:
    """Row numbers of ``rows`` (of table ``name``) whose key is stored already. A duplicate is
    nearly always the same row sent again, with the same time: those are looked up among the
    stored rows of those times first (``schema.KEYS_CHECKED_BY_WRITER``); the rest in the whole
    table."""
    found = np.zeros(rows.num_rows, dtype=np.bool_)
    time = schema.KEYS_CHECKED_BY_WRITER[name]
    if time is not None:
        lo, hi = pc.min(rows.column(time)).as_py(), pc.max(rows.column(time)).as_py()
        if lo is not None:
            found[_stored_rows(con, name, rows, f"{time} BETWEEN {int(lo)} AND {int(hi)}")] = True
    rest = np.flatnonzero(~found)
    if len(rest):
        found[rest[_stored_rows(con, name, rows.take(rest))]] = True
    return np.flatnonzero(found)


def _drop_rows(tables: Sequence[pa.Table | pa.Array], rows: npt.NDArray[np.intp], n: int) -> list[Any]:
    """``tables`` (of ``n`` rows each) without the row numbers ``rows``."""
    keep = np.ones(n, dtype=np.bool_)
    keep[rows] = False
    mask = pa.array(keep)
    return [t.filter(mask) for t in tables]


def _new_rows(
    con: duckdb.DuckDBPyConnection, name: str, rows: pa.Table, job: pa.Array, stored: StoredKeys
) -> tuple[pa.Table, pa.Array]:
    """``rows`` of table ``name`` and their ``job`` numbers without the group's internal
    duplicates (the earliest row wins) and without the rows stored already; their key hashes are
    staged in ``stored`` for the commit."""
    key = list(_KEYS[name])
    h = hashes(rows.select(key))
    distinct = sorted_unique(h)
    if len(distinct) < len(h):  # equal hashes: compare the keys themselves
        keep = _first_occurrences(rows.select(key))
        if keep is not None:
            rows, job, h = rows.take(keep), job.take(keep), h[keep.to_numpy()]
    hit = stored.maybe_stored(distinct)  # ascending values: a faster search
    if hit.any():
        maybe = np.flatnonzero(np.isin(h, distinct[hit]))
        found = maybe[_stored_of(con, name, rows.take(maybe))]
        if len(found):
            rows, job = _drop_rows((rows, job), found, len(h))
    stored.stage(distinct[~hit])  # the hashes found are in the set already
    return rows, job


def _insert_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    tables: Sequence[pa.Table],
    stored: StoredKeys,
    *,
    positional: bool = False,
) -> list[int]:
    """Insert the ``tables`` of one group's jobs into the ingest table ``name`` with ONE
    statement, without the rows whose key is in the group already or stored (``stored``: its
    keys); return the new rows per job."""
    counts = [0] * len(tables)
    parts = [(i, t) for i, t in enumerate(tables) if t.num_rows]
    if not parts:
        return counts
    combined = pa.concat_tables([t for _, t in parts])
    job = pa.concat_arrays([pa.repeat(pa.scalar(i, pa.int32()), t.num_rows) for i, t in parts])
    combined, job = _new_rows(con, name, combined, job, stored)
    insert_plain(con, name, combined, positional=positional)
    for entry in pc.value_counts(job).to_pylist():
        counts[entry["values"]] = entry["counts"]
    return counts


def load_stored_keys(con: duckdb.DuckDBPyConnection) -> dict[str, StoredKeys]:
    """The keys stored in each ingest table, for ``insert_group`` (~0.1 s per million rows)."""
    return {name: StoredKeys.load(con, _STORED[name][0], _KEYS[name]) for name in _BATCH_TABLES}


@contextlib.contextmanager
def keyed_transaction(con: duckdb.DuckDBPyConnection, stored: dict[str, StoredKeys]) -> Iterator[None]:
    """One transaction on ``con`` for ``insert_group``s: COMMIT when the block ends, then the key
    hashes they staged in ``stored`` count as stored; on an exception, ROLLBACK and discard them."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        for keys in stored.values():
            keys.discard()
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended it
            con.execute("ROLLBACK")
        raise
    for keys in stored.values():
        keys.commit()


def insert_group(
    con: duckdb.DuckDBPyConnection,
    batches: Sequence[IngestBatch],
    ingested_ns: int,
    stored: dict[str, StoredKeys],
    *,
    positional: frozenset[str] = frozenset(),
) -> list[WriteResult]:
    """Insert the conformed ``batches`` of one group commit inside the current transaction; return
    what was new per batch. ``stored``: ``load_stored_keys(con)``, kept up to date by the caller,
    which commits or discards the hashes staged in them with the transaction
    (``keyed_transaction``); ``positional``:
    ``positional_tables(con)``."""
    if not batches:
        return []
    written: dict[str, list[int]] = {}
    for name in _BATCH_TABLES:
        tables = [_stamp(getattr(b, name), name, ingested_ns) for b in batches]
        written[name] = _insert_table(con, name, tables, stored[name], positional=name in positional)
    return [
        WriteResult(
            spans_written=written["spans"][i],
            spans_duplicate=b.spans.num_rows - written["spans"][i],
            logs_written=written["logs"][i],
            metric_points_written=written["metrics"][i],
        )
        for i, b in enumerate(batches)
    ]


def touched_traces(batch: IngestBatch) -> set[str]:
    """Trace ids whose derived data (agents, log content, ``traces`` row) the batch may change."""
    ids: set[str] = set()
    for table in (batch.spans, batch.logs):
        if table.num_rows:
            ids.update(t for t in pc.unique(table.column("trace_id")).to_pylist() if t)
    return ids


def earliest_start(batch: IngestBatch) -> int:
    """The earliest ``start_ns`` of the batch's spans (``maintenance.NO_NEW_SPANS`` if none has one):
    maintenance reads no span of the touched traces that starts before this and the traces'
    summarized start (see ``store.maintenance.start_bound``)."""
    if batch.spans.num_rows == 0:
        return NO_NEW_SPANS
    earliest = pc.min(batch.spans.column("start_ns")).as_py()
    return NO_NEW_SPANS if earliest is None else int(earliest)


def replace_findings(
    con: duckdb.DuckDBPyConnection, trace_ids: Sequence[str], findings: pa.Table, analysis: pa.Table
) -> None:
    """Delete the findings and trace_analysis rows of ``trace_ids`` (and any row whose key the new
    rows reuse: the latest run wins), insert the new ones (conformed), in the current transaction."""
    replace_rows(con, "findings", findings, "trace_id", list(trace_ids))
    replace_rows(con, "trace_analysis", analysis, "trace_id", list(trace_ids))


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: pa.Table,
    scope_column: str | None = None,
    scope: Sequence[str] = (),
) -> None:
    """Delete the rows of ``name`` whose ``scope_column`` is in ``scope`` or whose key ``table``
    reuses, then insert ``table`` - an upsert without DuckDB's ON CONFLICT, whose cost grows with
    the table. ``table`` must be conformed and free of duplicate keys."""
    (key,) = _KEYS[name]
    ids = pa.table({"id": pa.array([*scope, *table.column(key).to_pylist()], pa.string())})
    con.register("_faultlens_replace", ids)
    try:
        where = f"{key} IN (FROM _faultlens_replace)"
        if scope_column is not None and scope:
            where += f" OR {scope_column} IN (FROM _faultlens_replace)"
        con.execute(f"DELETE FROM {name} WHERE {where}")
    finally:
        unregister_quietly(con, "_faultlens_replace")
    insert_plain(con, name, table)
