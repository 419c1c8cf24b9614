"""Derived data, brought up to date after commits for the traces a batch touched.

Runs on the writer thread, off the acknowledgement path, in one transaction per pass:
1. agent resolution (``resolved_agent_*``), also for spans whose agent ancestor arrived later;
2. the GenAI log-event join: message/reasoning content carried by log records fills the span's
   empty columns, whichever arrived first;
3. the ``traces`` summary row; its ``last_ingested_ns`` also moves when only log records of the
   trace arrive (their content changes what an analysis of the trace sees).
Every step reads whole touched traces, so its cost follows the size of what changed, not the store:
no index finds a trace's spans, but a bound on their start times (``start_bound``) lets DuckDB skip
the row groups of older spans by their min/max statistics instead of scanning every span's trace id
(a pass over 160 traces of a 3-million-span store took ~280 ms without it). Log records are read
from ``LOG_CLOCK_SKEW_NS`` before that bound on (``_recent_logs``), not by every stored record's
trace id (``bench/log_join.py``, 1,000 records a second: the log reads of a pass over 3 million
records took ~225 ms without it, ~58 ms with it, ~45 ms over 300,000).
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import groupby

import duckdb
import orjson
import pyarrow as pa

from store import schema
from store.agents import Agent, resolve_agents
from store.database import LOG_FILL_TABLE, unregister_quietly

#: Span content columns that GenAI log events may carry (those present in both schemas).
CONTENT_COLUMNS: tuple[str, ...] = tuple(
    c
    for c in ("input_messages", "output_messages", "system_instructions", "reasoning")
    if c in schema.LOGS.names and c in schema.SPANS.names
)
_TEXT_COLUMNS = frozenset({"reasoning"})  # plain text; the others are JSON arrays

_TOUCHED = "_faultlens_touched"
#: The table the ``spans`` view reads: updates go there, by rowid. A column of ``CONTENT_COLUMNS``
#: that holds a moved attribute is never updated (log content only fills empty columns).
_ROWS = schema.SPAN_ROWS_TABLE


#: ``new_from`` for a pass whose traces received no spans since the last one.
NO_NEW_SPANS = 2**63 - 1
#: How much earlier than its span's start a GenAI log event may be stamped and still be joined
#: (``join_log_content``). Instrumentations emit these events inside the span, on the span's own
#: clock; the margin is for events stamped by another host's clock. Events with no time (0) are
#: always joined.
LOG_CLOCK_SKEW_NS = 5 * 60 * 10**9


def run_maintenance(
    con: duckdb.DuckDBPyConnection, trace_ids: Collection[str], new_from: int | None = None
) -> None:
    """Resolve agents, join log content and upsert ``traces`` for ``trace_ids``, in one
    transaction on ``con`` (the writer's connection). ``new_from``: the earliest ``start_ns`` of
    the spans committed since these traces' last successful pass (``NO_NEW_SPANS`` if none), which
    bounds the spans read (see ``start_bound``); None reads every span of the traces."""
    if not trace_ids:
        return
    con.register(_TOUCHED, pa.table({"trace_id": pa.array(sorted(trace_ids), pa.string())}))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            bound = start_bound(con, new_from)
            resolve_touched_agents(con, bound)
            if CONTENT_COLUMNS:
                join_log_content(con, bound)
            upsert_traces(con, bound)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        unregister_quietly(con, _TOUCHED)


def unmaintained_traces(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Traces with spans or log records committed after the last maintenance pass that finished
    (the process stopped in between, e.g. killed): the writer maintains them when it opens the
    store. Their commits are the latest, so the statistics of ``ingested_ns`` skip the rest."""
    since = "coalesce((SELECT max(last_ingested_ns) FROM traces), -1)"
    rows = con.execute(
        f"SELECT trace_id FROM {_ROWS} WHERE ingested_ns > {since} "
        f"UNION SELECT trace_id FROM logs WHERE ingested_ns > {since} AND trace_id IS NOT NULL"
    ).fetchall()
    return {r[0] for r in rows}


def start_bound(con: duckdb.DuckDBPyConnection, new_from: int | None) -> int | None:
    """A start time no span of the touched traces is earlier than (None: no bound, when
    ``new_from`` is None): a span is either committed since the last pass (so it starts at
    ``new_from`` or later) or was summarized by it, so it starts no earlier than its trace's
    ``traces.start_ns``. Spans without a start time are always read (``_starting``)."""
    if new_from is None:
        return None
    row = con.execute(
        f"SELECT min(start_ns) FROM traces WHERE trace_id IN (SELECT trace_id FROM {_TOUCHED})"
    ).fetchone()
    return new_from if row is None or row[0] is None else min(new_from, int(row[0]))


def _starting(bound: int | None, column: str = "start_ns") -> str:
    """SQL: ``column`` at ``bound`` or later (or unknown)."""
    return "TRUE" if bound is None else f"({column} >= {int(bound)} OR {column} IS NULL)"


def _recent_logs(bound: int | None, column: str = "time_ns") -> str:
    """SQL: the log records that may belong to spans starting at ``bound`` or later: stamped no
    more than ``LOG_CLOCK_SKEW_NS`` before it, or not stamped. Lets DuckDB skip the row groups of
    older records by their time statistics instead of scanning every record's trace id."""
    if bound is None:
        return "TRUE"
    return f"({column} >= {max(0, int(bound) - LOG_CLOCK_SKEW_NS)} OR {column} <= 0 OR {column} IS NULL)"


def _update_spans(con: duckdb.DuckDBPyConnection, updates: pa.Table, columns: Collection[str]) -> None:
    """Set ``columns`` of the spans whose ``rowid`` is in ``updates`` (column ``row``). Joining on
    rowid lets DuckDB prune to the row groups holding them instead of scanning every key."""
    view = "_faultlens_updates"
    assignments = ", ".join(f"{c} = u.{c}" for c in columns)
    con.register(view, updates)
    try:
        con.execute(f"UPDATE {_ROWS} SET {assignments} FROM {view} u WHERE {_ROWS}.rowid = u.row")
    finally:
        unregister_quietly(con, view)


def _agent(agent_id: str | None, agent_name: str | None) -> Agent | None:
    return None if agent_id is None and agent_name is None else (agent_id, agent_name)


def resolve_touched_agents(con: duckdb.DuckDBPyConnection, bound: int | None = None) -> int:
    """Re-resolve the spans of the touched traces that have no agent yet; return how many changed.
    ``bound``: see ``start_bound``."""
    # Only traces with a span still unresolved: most spans resolve within their own batch. The
    # unresolved are found first, by a scan that reads the trace ids of only those rows (~2 ms per
    # 57,344 spans where every span is resolved, against ~13 for reading every touched span).
    starting = _starting(bound)
    rows = con.execute(
        "SELECT trace_id, span_id, parent_span_id, agent_id, agent_name, resolved_agent_id, "
        f"resolved_agent_name, rowid FROM {_ROWS} WHERE {starting} AND trace_id IN ("
        f"SELECT trace_id FROM {_ROWS} WHERE resolved_agent_id IS NULL AND resolved_agent_name IS NULL "
        f"AND {starting} AND trace_id IN (SELECT trace_id FROM {_TOUCHED})) ORDER BY trace_id"
    ).fetchall()
    out_row: list[int] = []
    out_id: list[str | None] = []
    out_name: list[str | None] = []
    for _, group in groupby(rows, key=lambda r: r[0]):
        spans = list(group)
        own = [_agent(r[3], r[4]) for r in spans]
        known = [_agent(r[5], r[6]) for r in spans]
        resolved = resolve_agents([r[1] for r in spans], [r[2] for r in spans], own, known)
        for r, k, agent in zip(spans, known, resolved, strict=True):
            if agent != k:
                out_row.append(r[7])
                out_id.append(agent[0] if agent else None)
                out_name.append(agent[1] if agent else None)
    if out_row:
        updates = pa.table(
            {
                "row": pa.array(out_row, pa.int64()),
                "resolved_agent_id": pa.array(out_id, pa.string()),
                "resolved_agent_name": pa.array(out_name, pa.string()),
            }
        )
        _update_spans(con, updates, ("resolved_agent_id", "resolved_agent_name"))
    return len(out_row)


def _concat(column: str, values: list[str]) -> str:
    """Several events' content for one column, in time order, as one value."""
    if len(values) == 1:
        return values[0]
    if column in _TEXT_COLUMNS:
        return "\n".join(values)
    merged: list[object] = []
    for v in values:
        try:
            parsed = orjson.loads(v)
        except orjson.JSONDecodeError:
            parsed = v  # not JSON: kept as one opaque element rather than lost
        if isinstance(parsed, list):
            merged.extend(parsed)
        else:
            merged.append(parsed)
    return orjson.dumps(merged).decode()


def join_log_content(con: duckdb.DuckDBPyConnection, bound: int | None = None) -> int:
    """Fill empty content columns of the touched traces' spans from their log events (time order;
    a column filled from events earlier is rebuilt when more events arrive). Return spans changed.
    ``bound``: see ``start_bound``; with one, events stamped more than ``LOG_CLOCK_SKEW_NS`` before
    it are not read (a span without a start time, which only a hand-built batch can hold, gets only
    the events after that)."""
    cols = ", ".join(f"l.{c}" for c in CONTENT_COLUMNS)
    any_content = " OR ".join(f"l.{c} IS NOT NULL" for c in CONTENT_COLUMNS)
    logs = con.execute(
        f"SELECT l.trace_id, l.span_id, {cols} FROM logs l "
        f"WHERE l.trace_id IN (SELECT trace_id FROM {_TOUCHED}) AND l.span_id IS NOT NULL "
        f"AND ({any_content}) AND {_recent_logs(bound, 'l.time_ns')} "
        "ORDER BY l.trace_id, l.span_id, l.time_ns, l.log_id"
    ).fetchall()
    if not logs:
        return 0
    from_logs: dict[tuple[str, str], list[str | None]] = {}
    for key, group in groupby(logs, key=lambda r: (r[0], r[1])):
        events = list(group)
        from_logs[key] = [
            _concat(c, vals) if (vals := [e[2 + i] for e in events if e[2 + i] is not None]) else None
            for i, c in enumerate(CONTENT_COLUMNS)
        ]
    keys = pa.table(
        {
            "trace_id": pa.array([k[0] for k in from_logs], pa.string()),
            "span_id": pa.array([k[1] for k in from_logs], pa.string()),
        }
    )
    con.register("_faultlens_log_keys", keys)
    try:
        spans = con.execute(
            f"SELECT s.trace_id, s.span_id, {', '.join(f's.{c}' for c in CONTENT_COLUMNS)}, "
            f"coalesce(f.mask, 0), s.rowid FROM {_ROWS} s "
            "JOIN _faultlens_log_keys k USING (trace_id, span_id) "
            f"LEFT JOIN {LOG_FILL_TABLE} f USING (trace_id, span_id) WHERE {_starting(bound, 's.start_ns')}"
        ).fetchall()
    finally:
        unregister_quietly(con, "_faultlens_log_keys")
    changed: list[tuple[str, str, list[str | None], int, int]] = []
    for row in spans:
        current: list[str | None] = list(row[2 : 2 + len(CONTENT_COLUMNS)])
        old_mask = mask = int(row[-2])
        new = list(current)
        for i, value in enumerate(from_logs[(row[0], row[1])]):
            bit = 1 << i
            if value is not None and (current[i] is None or mask & bit):
                new[i] = value
                mask |= bit
        if new != current or mask != old_mask:
            changed.append((row[0], row[1], new, mask, row[-1]))
    if not changed:
        return 0
    data: dict[str, pa.Array] = {
        "trace_id": pa.array([c[0] for c in changed], pa.string()),
        "span_id": pa.array([c[1] for c in changed], pa.string()),
    }
    for i, c in enumerate(CONTENT_COLUMNS):
        data[c] = pa.array([ch[2][i] for ch in changed], pa.string())
    data["mask"] = pa.array([ch[3] for ch in changed], pa.int8())
    data["row"] = pa.array([ch[4] for ch in changed], pa.int64())
    updates = pa.table(data)
    _update_spans(con, updates, CONTENT_COLUMNS)
    # Upsert without ON CONFLICT (planned as a MERGE that scans the table, see store.ingest).
    con.register("_faultlens_fill", updates)
    try:
        con.execute(
            f"DELETE FROM {LOG_FILL_TABLE} f USING _faultlens_fill u "
            "WHERE f.trace_id = u.trace_id AND f.span_id = u.span_id"
        )
        con.execute(f"INSERT INTO {LOG_FILL_TABLE} SELECT trace_id, span_id, mask FROM _faultlens_fill")
    finally:
        unregister_quietly(con, "_faultlens_fill")
    return len(changed)


def _clamp(expr: str) -> str:
    """``expr`` as BIGINT, saturated: absurd input (tokens near 2^63, negative times) must not
    overflow and fail the pass. NULL stays NULL (``greatest`` alone would skip it and give the
    minimum)."""
    value = f"({expr})::HUGEINT"
    return (
        f"CAST(CASE WHEN {value} IS NULL THEN NULL "
        f"ELSE least(greatest({value}, -9223372036854775808), 9223372036854775807) END AS BIGINT)"
    )


def _sorted_distinct(expr: str) -> str:
    """SQL aggregate: the JSON array of the distinct non-null values of ``expr``, sorted."""
    return f"coalesce(to_json(list_sort(list(DISTINCT {expr}) FILTER (WHERE {expr} IS NOT NULL))), '[]')"


# Tokens are summed over model calls only: agent/workflow spans may repeat their children's usage.
# One aggregate per trace, no sort (``bench/maintenance.py``: 57,344 spans in ~42 ms instead of
# ~56 with DISTINCT ON for the root and ordered DISTINCT lists): the root is the span that is first
# by (has a parent, start, id), the lists are sorted after they are made distinct.
_UPSERT_TRACES = f"""
INSERT INTO traces ({", ".join(schema.TRACES.names)})
WITH s AS (
    SELECT trace_id, span_id, parent_span_id, name, service_name, start_ns, end_ns, status_code,
        resolved_agent_name, request_model, response_model, operation, input_tokens, output_tokens,
        ingested_ns
    FROM {schema.SPAN_ROWS_TABLE} WHERE trace_id IN (SELECT trace_id FROM {_TOUCHED}) AND {{bound}}
),
orphans AS (
    SELECT c.trace_id, count(*) AS n FROM s c
    ANTI JOIN s p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
    WHERE c.parent_span_id IS NOT NULL
    GROUP BY c.trace_id
),
agg AS (
    SELECT trace_id,
        arg_min(struct_pack(span_id, name, service_name), (parent_span_id IS NOT NULL, start_ns, span_id))
            AS root,
        {_sorted_distinct("service_name")} AS services,
        {_sorted_distinct("resolved_agent_name")} AS agents,
        {_sorted_distinct("coalesce(response_model, request_model)")} AS models,
        min(start_ns) AS start_ns, max(end_ns) AS end_ns,
        count(*) AS span_count, count(*) FILTER (WHERE status_code = 2) AS error_count,
        {_clamp("coalesce(sum(input_tokens) FILTER (WHERE {llm}), 0)")} AS input_tokens,
        {_clamp("coalesce(sum(output_tokens) FILTER (WHERE {llm}), 0)")} AS output_tokens,
        max(ingested_ns) AS last_ingested_ns
    FROM s GROUP BY trace_id
),
log_times AS (
    SELECT trace_id, max(ingested_ns) AS n FROM logs
    WHERE trace_id IN (SELECT trace_id FROM {_TOUCHED}) AND {{recent_logs}} GROUP BY trace_id
)
SELECT a.trace_id, a.root.span_id, a.root.name, a.root.service_name, a.services, a.agents, a.models,
    a.start_ns, a.end_ns, {_clamp("a.end_ns::HUGEINT - a.start_ns")}, a.span_count, a.error_count,
    coalesce(o.n, 0),
    a.input_tokens, a.output_tokens, greatest(a.last_ingested_ns, l.n)
FROM agg a LEFT JOIN orphans o USING (trace_id) LEFT JOIN log_times l USING (trace_id)
""".replace("{llm}", "coalesce(operation, '') NOT IN ('invoke_agent', 'create_agent', 'invoke_workflow')")


def upsert_traces(con: duckdb.DuckDBPyConnection, bound: int | None = None) -> None:
    """Recompute the ``traces`` row of every touched trace that has spans (delete + insert: an
    upsert without ON CONFLICT, see ``store.ingest``). ``bound``: see ``start_bound``; its
    ``last_ingested_ns`` counts the log records ``join_log_content`` reads (the others cannot
    change the trace's content)."""
    con.execute(f"DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM {_TOUCHED})")
    con.execute(
        _UPSERT_TRACES.replace("{bound}", _starting(bound)).replace("{recent_logs}", _recent_logs(bound))
    )
