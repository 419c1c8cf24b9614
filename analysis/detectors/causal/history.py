"""The recorded history of one trace: every read and write of shared state, as the checker sees it.

Two sources map onto one ``MemoryOp`` record:

- GenAI memory spans (SPEC §5.2): ``operation`` ``search_memory`` (read) or ``create_memory`` /
  ``update_memory`` / ``upsert_memory`` / ``delete_memory`` (write), ``memory_store_id`` (store),
  ``memory_record_id`` (key), ``memory_records`` (JSON of the value(s) written or returned) and
  ``memory_version``. A payload that is a list of records each carrying an id becomes one op per
  record (a search that returned several keys reads each of them).
- ``db.*`` client spans of key-value stores (``analysis.detectors.causal.kv``), where the key and
  the value are visible.

A read whose result was not recorded (NULL ``memory_records``) is left out: nothing can be checked
about it. A read that returned nothing observes the key's absence (``value is None``). A write whose
value is unknown (``INCR``) keeps ``known=False``, which turns value matching off for its key.

Values are compared in a canonical form (``canonical_value``): the record's content when it has a
content-like field, else the record without bookkeeping fields (ids, scores, timestamps), as
sorted-key JSON; so the record a store returns matches the record an agent wrote even when the store
decorates it. Extraction is one pass over the memory rows: O(n) in the number of memory operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from analysis.detectors.causal.kv import KV_SYSTEMS, KvOp, kv_ops
from analysis.detectors.causal.values import canonical_value, loads, record_id
from analysis.model import Trace

READ_OPS = frozenset({"search_memory"})
WRITE_OPS = frozenset({"create_memory", "update_memory", "upsert_memory", "delete_memory"})
AGENT_OPS = frozenset({"invoke_agent", "create_agent"})

OpKind = Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class MemoryOp:
    """One read or write of one key. ``value`` is canonical (``canonical_value``); None means the
    key's absence (a read that found nothing, a delete)."""

    span_id: str
    kind: OpKind
    store: str
    key: str
    version: str | None
    value: str | None
    known: bool  # False for a write whose value was not recorded (e.g. INCR)
    create: bool  # a create_memory: the key did not exist before
    delete: bool
    failed: bool  # the span ended in error: the write may not have taken effect
    agent: str | None
    txn: str  # the enclosing agent span (the "transaction" of Elle's dependency graph)
    service: str
    start_ns: int
    end_ns: int
    source: Literal["memory", "db"]

    @property
    def where(self) -> str:
        """``store/key``, for summaries and evidence."""
        return f"{self.store}/{self.key}" if self.store else self.key

    @property
    def version_int(self) -> int | None:
        if self.version is None:
            return None
        try:
            return int(self.version)
        except ValueError:
            return None


def _split_records(
    payload: Any, key: str | None, version: str | None
) -> list[tuple[str, str | None, str | None]]:
    """(key, version, canonical value) per record of one memory span's payload. Several records
    that each name their id are one key each (a search returning several records); otherwise the
    record id column names the key and the payload is its value, whatever its shape."""
    single = payload[0] if isinstance(payload, list) and len(payload) == 1 else payload
    if version is None and isinstance(single, dict) and single.get("version") is not None:
        version = str(single["version"])
    records = payload if isinstance(payload, list) else [payload]
    several = len(records) > 1 and all(record_id(r) is not None for r in records)
    if key is not None and not several:
        return [(key, version, canonical_value(payload))]
    out = []
    for r in records:
        rid = record_id(r)
        if rid is None:
            continue
        rv = r.get("version") if isinstance(r, dict) else None
        v = str(rv) if rv is not None else (version if len(records) == 1 else None)
        out.append((rid, v, canonical_value(r)))
    return out


def transactions(spans: pl.DataFrame, ids: Sequence[str]) -> dict[str, str]:
    """span id → its enclosing agent span (itself when it is one; else its parent, a plain call
    being its own caller's step). Memoised walk up the parent chain: linear, cycle-safe."""
    all_ids: list[str] = spans["span_id"].to_list()
    parent = dict(zip(all_ids, spans["parent_span_id"].to_list(), strict=True))
    op = dict(zip(all_ids, spans["operation"].to_list(), strict=True))
    memo: dict[str, str | None] = {}
    out: dict[str, str] = {}
    for sid in ids:
        chain: list[str] = []
        seen: set[str] = set()
        cur: str | None = parent.get(sid)
        found: str | None = None
        while cur is not None and cur not in seen:
            if cur in memo:
                found = memo[cur]
                break
            if op.get(cur) in AGENT_OPS:
                found = cur
                break
            seen.add(cur)
            chain.append(cur)
            cur = parent.get(cur)
        for c in chain:
            memo[c] = found
        out[sid] = found or parent.get(sid) or sid
    return out


_MEMORY_OPS = list(READ_OPS | WRITE_OPS)


def extract_history(trace: Trace) -> list[MemoryOp]:
    """Every memory operation of ``trace``, in span start order."""
    spans = trace.spans
    if spans.height == 0:
        return []
    is_memory = pl.col("operation").is_in(_MEMORY_OPS)
    rows = spans.filter(is_memory | pl.col("db_system").str.to_lowercase().is_in(list(KV_SYSTEMS))).select(
        "span_id",
        "operation",
        "memory_store_id",
        "memory_record_id",
        "memory_records",
        "memory_version",
        "status_code",
        "service_name",
        "start_ns",
        "end_ns",
        "db_system",
        "db_operation",
        "db_query_text",
        # raw attributes are only read for key-value client spans
        pl.when(is_memory).then(None).otherwise(pl.col("attributes")).alias("attributes"),
    )
    if rows.height == 0:
        return []
    txn = transactions(spans, rows["span_id"].to_list())
    agent_of = trace.agent_of
    out: list[MemoryOp] = []
    for row in zip(*(rows[c].to_list() for c in rows.columns), strict=True):
        sid, op, store, record, records, version, status, service, start, end, system, dbop, query, attrs = (
            row
        )
        start = int(start or 0)
        span = _Span(
            sid, status == 2, agent_of.get(sid), txn[sid], service or "", start, max(int(end or 0), start)
        )
        if op in _MEMORY_OPS:
            out.extend(_memory_ops(span, op, store or "", record, records, version))
        else:
            out.extend(_kv_ops(span, kv_ops(system, dbop, query, loads(attrs))))
    return out


@dataclass(frozen=True, slots=True)
class _Span:
    span_id: str
    failed: bool
    agent: str | None
    txn: str
    service: str
    start_ns: int
    end_ns: int


def _memory_ops(
    s: _Span, op: str, store: str, record: str | None, records: str | None, version: str | None
) -> list[MemoryOp]:
    is_read = op in READ_OPS
    if is_read and records is None:
        return []  # the result was not recorded: nothing to check
    delete = op == "delete_memory"
    recs = _split_records(None if delete else loads(records), record, version)
    if delete and record is None:
        named = loads(records)
        ids = [record_id(r) for r in (named if isinstance(named, list) else [named])]
        recs = [(i, None, None) for i in ids if i]
    kind: OpKind = "read" if is_read else "write"
    create = op == "create_memory"
    return [
        MemoryOp(
            s.span_id,
            kind,
            store,
            key,
            v,
            None if delete else value,
            True,
            create,
            delete,
            s.failed,
            s.agent,
            s.txn,
            s.service,
            s.start_ns,
            s.end_ns,
            "memory",
        )
        for key, v, value in recs
    ]


def _kv_ops(s: _Span, kvs: list[KvOp]) -> list[MemoryOp]:
    return [
        MemoryOp(
            s.span_id,
            kv.kind,
            kv.store,
            kv.key,
            None,
            kv.value,
            kv.known,
            False,
            kv.delete,
            s.failed,
            s.agent,
            s.txn,
            s.service,
            s.start_ns,
            s.end_ns,
            "db",
        )
        for kv in kvs
    ]
