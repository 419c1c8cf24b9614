"""Load traces from a ``StoreReader`` into ``analysis.model.Trace`` (polars, columnar).

Parameterized SQL only; columns are named from ``store.schema`` so a column added to the schema
never shifts what a detector reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import polars as pl
import pyarrow as pa

from analysis.happens_before import AGENT_OPS, build_happens_before
from analysis.model import Trace
from store import schema
from store.api import StoreReader

_SPAN_COLS = ", ".join(f.name for f in schema.SPANS)
_EVENT_COLS = ", ".join(f.name for f in schema.SPAN_EVENTS)
_LINK_COLS = ", ".join(f.name for f in schema.SPAN_LINKS)
#: traces per ``IN (...)`` query when loading in bulk
CHUNK = 200


def _frame(table: pa.Table, arrow_schema: pa.Schema) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0 and frame.width == 0:
        empty = pl.from_arrow(arrow_schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty
    return frame


def load_trace(reader: StoreReader, trace_id: str) -> Trace | None:
    """One trace, or None when the store has no span of it."""
    for trace in load_traces(reader, [trace_id]):
        return trace
    return None


def load_traces(reader: StoreReader, trace_ids: Sequence[str]) -> Iterator[Trace]:
    """Traces in ``trace_ids`` order (missing ones skipped), loaded ``CHUNK`` at a time."""
    for lo in range(0, len(trace_ids), CHUNK):
        chunk = list(trace_ids[lo : lo + CHUNK])
        marks = ", ".join("?" for _ in chunk)
        spans = _frame(
            reader.query(
                f"SELECT {_SPAN_COLS} FROM spans WHERE trace_id IN ({marks})"
                " ORDER BY trace_id, start_ns, span_id",
                chunk,
            ),
            schema.SPANS,
        )
        events = _frame(
            reader.query(
                f"SELECT {_EVENT_COLS} FROM span_events WHERE trace_id IN ({marks})"
                " ORDER BY trace_id, span_id, idx",
                chunk,
            ),
            schema.SPAN_EVENTS,
        )
        links = _frame(
            reader.query(
                f"SELECT {_LINK_COLS} FROM span_links WHERE trace_id IN ({marks})"
                " ORDER BY trace_id, span_id, idx",
                chunk,
            ),
            schema.SPAN_LINKS,
        )
        by_trace = spans.partition_by("trace_id", as_dict=True, maintain_order=True) if spans.height else {}
        ev = events.partition_by("trace_id", as_dict=True) if events.height else {}
        ln = links.partition_by("trace_id", as_dict=True) if links.height else {}
        for tid in chunk:
            part = by_trace.get((tid,))
            if part is None:
                continue
            yield build_trace(
                tid, part, ev.get((tid,), events.clear()), ln.get((tid,), links.clear()), presorted=True
            )


def build_trace(
    trace_id: str, spans: pl.DataFrame, events: pl.DataFrame, links: pl.DataFrame, presorted: bool = False
) -> Trace:
    """A ``Trace`` from its three frames (``store.schema`` columns); spans are sorted by start
    (``presorted``: the caller's query already did)."""
    if not presorted:
        spans = spans.sort(["start_ns", "span_id"], nulls_last=True)
    agent_of = resolve_agents(spans)
    return Trace(trace_id, spans, events, links, agent_of, build_happens_before(spans, links, agent_of))


def resolve_agents(spans: pl.DataFrame) -> Mapping[str, str | None]:
    """span id → agent name: the store's ``resolved_agent_name`` when it has filled it, else the
    nearest ancestor (the span itself included) that is an agent span. Iterative and cycle-safe:
    a 100k-deep or cyclic parent chain resolves in linear time."""
    ids: list[str] = spans["span_id"].to_list()
    parent = dict(zip(ids, spans["parent_span_id"].to_list(), strict=True))
    resolved = spans["resolved_agent_name"].to_list()
    own: dict[str, str | None] = {}
    for sid, op, name, aid in zip(
        ids,
        spans["operation"].to_list(),
        spans["agent_name"].to_list(),
        spans["agent_id"].to_list(),
        strict=True,
    ):
        if op in AGENT_OPS or name or aid:
            own[sid] = name or aid
    out: dict[str, str | None] = {}
    for sid, res in zip(ids, resolved, strict=True):
        if res:
            out[sid] = res
    for sid in ids:
        if sid in out:
            continue
        chain: list[str] = []
        seen: set[str] = set()
        cur: str | None = sid
        found: str | None = None
        while cur is not None and cur not in seen:
            if cur in out:
                found = out[cur]
                break
            if own.get(cur):
                found = own[cur]
                break
            seen.add(cur)
            chain.append(cur)
            cur = parent.get(cur)
        for c in chain:
            out[c] = found
        out[sid] = out.get(sid, found)
    return out


def trace_ids_since(reader: StoreReader, since_ns: int | None = None) -> list[str]:
    """Stored trace ids (``traces`` summary, falling back to ``spans``), in start order."""
    if since_ns is None:
        t = reader.query("SELECT trace_id FROM traces ORDER BY start_ns, trace_id")
    else:
        t = reader.query(
            "SELECT trace_id FROM traces WHERE start_ns >= ? ORDER BY start_ns, trace_id", [since_ns]
        )
    ids = [str(x) for x in t.column("trace_id").to_pylist()] if t.num_rows else []
    if ids:
        return ids
    cond, params = ("", []) if since_ns is None else ("WHERE start_ns >= ?", [since_ns])
    t = reader.query(
        f"SELECT trace_id FROM spans {cond} GROUP BY trace_id ORDER BY min(start_ns), trace_id", params
    )
    return [str(x) for x in t.column("trace_id").to_pylist()]
