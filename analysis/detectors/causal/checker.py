"""The consistency checks over one history: each violation names the operation where it starts.

Given the history (``history``), reads-from and version order (``matching``) and the causal graph
(``graph``), for every read that observed a write of rank ``o``:

- **stale_read** (Bouajjani et al.'s WriteCORead): a write of the same key, later in version order
  (and, for unversioned keys, causally after the write observed: concurrent writes may be seen in
  either order), happens before the read (through structure, or through memory).
- **causal_inversion**: the same, when the reader had first observed an *effect* of the newer
  write: a value of another key written causally after it (by another agent, or by anyone when
  the reader learnt of the newer write through memory only). It saw the effect, not the cause.
- **thin_air_read**: a value or version no write produced, on a key created in the trace or a store
  that started empty in it.
- **lost_update**: two transactions read the same version of a key and both write it back; the
  origin is the second write in version order.
- **realtime_stale_read**: (linearizability, weaker) the read began after a newer write had
  finished in real time (clocks corrected for estimated skew, beyond a tolerance), and the write it
  observed had finished before that newer one began.

Complexity: each read scans the writes of its key that lie between its source and itself in the
topological order (O(1) for a fresh read, the concurrent writes otherwise); inversions look back
over at most ``EFFECT_SCAN`` earlier reads; real-time checks are a binary search per read over
a prefix maximum. With the graph's O((S + E) log S + (S + E)·W), the whole check is near-linear in
the history.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.detectors.causal.graph import CausalGraph
from analysis.detectors.causal.history import MemoryOp
from analysis.detectors.causal.matching import INITIAL, THIN, Key, KeyIndex, Rank, observed_rank

#: earlier reads examined to find the effect a causal inversion observed
EFFECT_SCAN = 4096


@dataclass(frozen=True)
class Violation:
    kind: str
    origin: int  # op index
    ops: tuple[int, ...]  # op indices involved, origin first
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class History:
    """Everything the checks share. ``node`` maps op index → graph node."""

    ops: Sequence[MemoryOp]
    keys: dict[Key, KeyIndex]
    src: dict[int, int]
    rank: Sequence[Rank]
    node: Sequence[int]
    graph: CausalGraph

    def before(self, a: int, b: int, *, full: bool = True) -> bool:
        """Op ``a`` happens before op ``b`` (ops of one span are simultaneous)."""
        return self.graph.precedes(self.node[a], self.node[b], full=full)

    def pos(self, op: int) -> int:
        return self.graph.pos[self.node[op]]

    def key_of(self, op: int) -> KeyIndex:
        o = self.ops[op]
        return self.keys[(o.store, o.key)]


def _newer_in_past(h: History, r: int, seen: Rank) -> int | None:
    """The newest write of r's key, later than what r observed, in r's causal past."""
    k = h.key_of(r)
    s = h.src.get(r, INITIAL)
    pr = h.pos(r)
    for j in range(bisect.bisect_left(k.writes_pos, pr) - 1, -1, -1):
        w = k.writes_by_pos[j]
        if h.ops[w].failed or h.ops[w].span_id == h.ops[r].span_id:
            continue
        if h.rank[w] <= seen:
            if k.aligned:
                break
            continue
        if not k.versioned and s >= 0 and not h.before(s, w):
            continue  # concurrent with the write observed: either order is causal
        if h.before(w, r):
            return w
    return None


def _effect_read(
    h: History, r: int, cause: int, reads_by_pos: Sequence[int], read_pos: Sequence[int]
) -> int | None:
    """An earlier read, by r's agent or what structurally precedes r, of another key, that observed
    a write made causally after the ``cause`` write: r saw the effect, then missed its cause.

    The effect's author must be another agent (SPEC §5.2: it read B's write, which B made after
    reading A's write), unless the cause reaches r only through memory (A changed x then y; r, never
    handed anything by A, saw y then the old x): an effect by A itself on a path A handed r
    explicitly is a plain stale read."""
    key = (h.ops[r].store, h.ops[r].key)
    author = h.ops[cause].agent or h.ops[cause].txn
    own_effects = not h.before(cause, r, full=False)
    hi = bisect.bisect_right(read_pos, h.pos(r))
    for j in range(hi - 1, max(hi - 1 - EFFECT_SCAN, -1), -1):
        e = reads_by_pos[j]
        if e == r or (h.ops[e].store, h.ops[e].key) == key:
            continue
        s = h.src.get(e, INITIAL)
        if s < 0 or (not own_effects and (h.ops[s].agent or h.ops[s].txn) == author):
            continue
        if not (h.node[e] == h.node[r] or h.before(e, r, full=False)):
            continue
        if h.before(cause, s):
            return e
    return None


def check_reads(h: History) -> list[Violation]:
    """stale_read, causal_inversion and thin_air_read, one violation per read at most."""
    out: list[Violation] = []
    reads = [i for i, o in enumerate(h.ops) if o.kind == "read"]
    reads_by_pos = sorted(reads, key=lambda i: (h.pos(i), i))
    read_pos = [h.pos(i) for i in reads_by_pos]
    first_op = _store_starts(h)
    for r in reads_by_pos:
        k = h.key_of(r)
        s = h.src.get(r, INITIAL)
        if s == THIN and not h.ops[r].failed and (k.created or first_op.get(h.ops[r].store, True)):
            out.append(Violation("thin_air_read", r, (r,), {"writes": tuple(k.writes)}))
            continue
        seen = observed_rank(r, h.ops, h.src, h.rank, k)
        if seen is None:
            continue
        w = _newer_in_past(h, r, seen)
        if w is None or (h.ops[w].known and h.ops[w].value == h.ops[r].value):
            continue  # nothing newer, or newer but equal: nothing observable was missed
        observed = (s,) if s >= 0 else ()
        e = _effect_read(h, r, w, reads_by_pos, read_pos)
        if e is not None:
            es = h.src[e]
            evidence = {"effect_read": e, "effect_write": es}
            out.append(Violation("causal_inversion", r, (r, w, e, es, *observed), evidence))
            continue
        path = "structural" if h.before(w, r, full=False) else "reads_from"
        out.append(Violation("stale_read", r, (r, w, *observed), {"path": path}))
    return out


def _store_starts(h: History) -> dict[str, bool]:
    """store → whether it started empty in this trace: its first operation in causal order is a
    write, or a read that found nothing. A first write of integer version 2 or more is not such
    evidence: the store numbered versions before the trace, so it held data then."""
    first: dict[str, int] = {}
    for i, o in enumerate(h.ops):
        cur = first.get(o.store)
        if cur is None or (h.pos(i), o.kind != "write") < (h.pos(cur), h.ops[cur].kind != "write"):
            first[o.store] = i
    out: dict[str, bool] = {}
    for s, i in first.items():
        o = h.ops[i]
        if o.kind == "write":
            out[s] = o.create or o.version_int is None or o.version_int <= 1
        else:
            out[s] = o.value is None
    return out


def check_lost_updates(h: History, flagged: set[int]) -> list[Violation]:
    """Two transactions' read-modify-writes from the same observed version of one key. ``flagged``
    reads (already stale) are not bases: their write is a consequence of that finding."""
    # The base of a write is the last read of the key in the same transaction (agent turn): a read
    # turns ago, with other writes since, is not what a blind write "writes back".
    last: dict[tuple[str, str, str], int] = {}
    groups: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
    order = sorted(range(len(h.ops)), key=lambda i: (h.pos(i), h.ops[i].kind != "read", i))
    for i in order:
        o = h.ops[i]
        if o.failed:
            continue  # a failed write did not happen (its retry keeps the base); a failed read saw nothing
        base = last.get((o.txn, o.store, o.key))
        last[(o.txn, o.store, o.key)] = i
        if o.kind == "read":
            continue
        if base is None or h.ops[base].kind != "read" or base in flagged:
            continue
        s = h.src.get(base, INITIAL)
        if s < INITIAL or not (h.node[base] == h.node[i] or h.before(base, i, full=False)):
            continue
        groups[(o.store, o.key, s)].append((base, i))
    out: list[Violation] = []
    for pairs in groups.values():
        if len({h.ops[w].txn for _, w in pairs}) < 2:
            continue
        pairs.sort(key=lambda p: h.rank[p[1]])
        b1, w1 = pairs[0]
        for b2, w2 in pairs[1:]:
            if h.ops[w2].txn == h.ops[w1].txn:
                continue
            if h.before(w1, b2):
                continue  # its base saw the first write: a stale read, reported as such
            others = tuple(x for p in pairs for x in p if x not in (w2, b2, w1, b1))
            out.append(Violation("lost_update", w2, (w2, b2, w1, b1, *others[:16]), {"base": h.src.get(b1)}))
            break
    return out


def check_realtime(
    h: History, flagged: set[int], offsets: Mapping[str, int], tolerance_ns: int
) -> list[Violation]:
    """Reads that began after a newer write finished in (skew-corrected) real time."""

    def start(i: int) -> int:
        return h.ops[i].start_ns + offsets.get(h.ops[i].service, 0)

    def end(i: int) -> int:
        return h.ops[i].end_ns + offsets.get(h.ops[i].service, 0)

    out: list[Violation] = []
    for k in h.keys.values():
        done = sorted((w for w in k.writes if not h.ops[w].failed), key=end)
        ends = [end(w) for w in done]
        best: list[int] = []
        for w in done:
            best.append(w if not best or h.rank[w] > h.rank[best[-1]] else best[-1])
        for r in k.reads:
            if r in flagged:
                continue
            seen = observed_rank(r, h.ops, h.src, h.rank, k)
            if seen is None:
                continue
            c = bisect.bisect_left(ends, start(r) - tolerance_ns)
            if c == 0:
                continue
            w = best[c - 1]
            s = h.src.get(r, INITIAL)
            if h.rank[w] <= seen or (h.ops[w].known and h.ops[w].value == h.ops[r].value):
                continue
            if s >= 0 and end(s) + tolerance_ns >= start(w):
                continue  # the two writes overlapped in time: their real-time order is unknown
            gap = start(r) - end(w)
            out.append(
                Violation("realtime_stale_read", r, (r, w, *((s,) if s >= 0 else ())), {"gap_ns": gap})
            )
    return out
