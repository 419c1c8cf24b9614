"""Reads-from and version order: which write each read observed, and how a key's writes are ordered.

Reads-from (SPEC §5.2): by version when the read carries one, else by value; a read that found
nothing observes the key's initial absence, or a delete. Among several candidate writes, the latest
one that had ended when the read started is the source (else the earliest): a value written twice
is read from its most recent writing, which never invents a staleness.

A read matches no write when it observed a value nobody in the trace wrote (``THIN``), or when the
key has writes of unrecorded value (``UNKNOWN``: nothing can be said). Failed reads are ``UNKNOWN``.

Version order per key: by version number when every write of the key carries an integer version
(the store's own arbitration), else the topological order of happens-before (which only orders
writes that are causally related; the checks treat unrelated ones as concurrent). Ranks are
(major, minor) pairs so observed versions that no write in the trace produced (data that existed
before the trace) still compare.

Lookups go through per-key hash maps: O(1) expected per read, O(M) overall.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.detectors.causal.history import MemoryOp

INITIAL = -1  # the key's state before any write of the trace (absent, or pre-existing data)
THIN = -2  # a value or version no write of the trace produced
UNKNOWN = -3  # not checkable

Rank = tuple[int, int]
BOTTOM: Rank = (-(1 << 62), -(1 << 62))

Key = tuple[str, str]


@dataclass
class KeyIndex:
    """The operations on one (store, key), as op indices."""

    writes: list[int] = field(default_factory=list)
    reads: list[int] = field(default_factory=list)
    by_version: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_value: dict[str | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    unknown_writes: bool = False
    created: bool = False  # a create (or version 0/1) shows the key did not exist before the trace
    versioned: bool = False  # every write carries an integer version
    aligned: bool = True  # version order agrees with topological order
    writes_by_pos: list[int] = field(default_factory=list)  # writes in topological order
    writes_pos: list[int] = field(default_factory=list)  # their topological positions


def index_keys(ops: Sequence[MemoryOp]) -> dict[Key, KeyIndex]:
    keys: dict[Key, KeyIndex] = defaultdict(KeyIndex)
    for i, op in enumerate(ops):
        k = keys[(op.store, op.key)]
        if op.kind == "read":
            k.reads.append(i)
            continue
        k.writes.append(i)
        if op.version is not None:
            k.by_version[op.version].append(i)
        if op.known:
            k.by_value[op.value].append(i)
        else:
            k.unknown_writes = True
        if op.create or op.version_int in (0, 1):
            k.created = True
    for k in keys.values():
        k.versioned = bool(k.writes) and all(ops[w].version_int is not None for w in k.writes)
    return dict(keys)


def _pick(cands: list[int], read: MemoryOp, ops: Sequence[MemoryOp]) -> int:
    before = [w for w in cands if ops[w].end_ns <= read.start_ns]
    if before:
        return max(before, key=lambda w: (not ops[w].failed, ops[w].end_ns, w))
    return min(cands, key=lambda w: (ops[w].start_ns, w))


def match_reads(ops: Sequence[MemoryOp], keys: dict[Key, KeyIndex]) -> dict[int, int]:
    """read op index → the write op index it observed, or ``INITIAL`` / ``THIN`` / ``UNKNOWN``."""
    src: dict[int, int] = {}
    for k in keys.values():
        for r in k.reads:
            read = ops[r]
            if read.failed:
                src[r] = UNKNOWN
                continue
            if read.version is not None and (k.by_version or read.value is None):
                cands = [w for w in k.by_version.get(read.version, ()) if ops[w].span_id != read.span_id]
                if len(cands) > 1 and read.value is not None:
                    cands = [w for w in cands if ops[w].value == read.value] or cands
            elif read.value is not None:
                cands = [w for w in k.by_value.get(read.value, ()) if ops[w].span_id != read.span_id]
            else:
                # Absence is read from a delete that had finished, else from the initial state.
                deletes = [
                    w for w in k.by_value.get(None, ()) if ops[w].delete and ops[w].end_ns <= read.start_ns
                ]
                src[r] = _pick(deletes, read, ops) if deletes else INITIAL
                continue
            if cands:
                src[r] = _pick(cands, read, ops)
            else:
                src[r] = UNKNOWN if k.unknown_writes else THIN
    return src


def rank_writes(ops: Sequence[MemoryOp], keys: dict[Key, KeyIndex], pos_of_op: Sequence[int]) -> list[Rank]:
    """The version-order rank of every write (reads get ``BOTTOM``); also fills each key's
    ``writes_by_pos`` / ``writes_pos`` and ``aligned``."""
    rank: list[Rank] = [BOTTOM] * len(ops)
    for k in keys.values():
        for w in k.writes:
            vi = ops[w].version_int
            rank[w] = (vi, pos_of_op[w]) if k.versioned and vi is not None else (pos_of_op[w], 0)
        k.writes_by_pos = sorted(k.writes, key=lambda w: (pos_of_op[w], w))
        k.writes_pos = [pos_of_op[w] for w in k.writes_by_pos]
        k.aligned = all(
            rank[a] <= rank[b] for a, b in zip(k.writes_by_pos, k.writes_by_pos[1:], strict=False)
        )
    return rank


def observed_rank(
    read: int, ops: Sequence[MemoryOp], src: dict[int, int], rank: Sequence[Rank], key: KeyIndex
) -> Rank | None:
    """Where the value a read observed sits in its key's version order; None when unknown."""
    s = src.get(read, UNKNOWN)
    if s >= 0:
        return rank[s]
    if s == INITIAL:
        return BOTTOM
    vi = ops[read].version_int
    if s == THIN and key.versioned and vi is not None:
        return (vi, -1)  # a version from before the trace: below the trace's writes of that number
    return None
