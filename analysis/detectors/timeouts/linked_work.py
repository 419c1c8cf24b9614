"""Linked work joins the wait it belongs to (SPEC §5.3: cascades go through callers *and links*).

An async job leaves a tree that context propagation does not describe: a producer span enqueues it
and returns at once, a consumer span in another service runs it — connected to the producer by a
span link (the consumer itself, or a worker tree in the same trace, wherever it hangs), or parented
to a PRODUCER-kind span as OTel messaging instrumentations do — and meanwhile a third span of the
caller awaits it (an ``await_job`` tool, a long poll). The await's time is the job's time, so
the job is moved under the span that waits for it, for the critical path, the cascade's callers and
the wasted work alike.

Which span waits, for a link between a span that started earlier (the origin) and one that started
later (the work):
- the origin itself, when it is a waiter — a call that waited for what it started, or an awaiter
  that recorded a link to the job it awaits;
- else, when the work outlives the origin (a producer that enqueued and returned), the best waiter
  among the other descendants of the origin's caller that started no earlier than the origin: the
  one overlapping the work longest (then the deepest, then the earliest); without one, the
  nearest caller of the origin that itself waits (an agent run held open until the job ends).
A waiter is not a model call (that time is the model's), overlaps the work for most of its own
life (``TimeoutConfig.waiter_min_share``), and either ends with or after the work (it saw the
result) or failed while the work still ran (it gave up). No waiter: the tree stays as it is.

What moves is the work's consumer span when its parent is on the producer's side (none, the
producer, or one of the producer's callers); when the work sits inside another tree of the trace
(a worker's own root), that tree's root moves. Cycle-safe: nothing moves under its own descendant.
O(n log n) for the ordering, plus, per link whose work outlives its origin, a scan of the spans of
the origin's caller that start inside the work's time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from analysis.detectors.timeouts.config import TimeoutConfig

if TYPE_CHECKING:
    from analysis.detectors.timeouts.spans import Span, SpanIndex

PRODUCER = 4  # OTel SpanKind
#: model calls never wait for linked work: their time is the model's
_MODEL_OPS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _waits_for(span: Span, work: Span, config: TimeoutConfig) -> bool:
    if span.operation in _MODEL_OPS or span.duration <= 0:
        return False
    shared = _overlap(span, work)
    if shared <= 0 or shared < config.waiter_min_share * span.duration:
        return False
    saw_result = span.end >= work.end - config.end_tolerance_ns
    return saw_result or span.failed


class _Scope:
    """The spans below one caller, by start time. Built once per caller and not rebuilt as work
    moves (that would make many jobs under one caller quadratic): a job moved in later is not a
    candidate waiter for another job of the same caller."""

    def __init__(self, index: SpanIndex, caller: Span) -> None:
        members = sorted(index.subtree(caller), key=lambda s: (s.start, s.id))
        self.members = members
        self.starts = [s.start for s in members]

    def between(self, lo: int, hi: int) -> list[Span]:
        return self.members[bisect_left(self.starts, lo) : bisect_right(self.starts, hi)]


def rehost_linked_work(index: SpanIndex, config: TimeoutConfig) -> set[str]:
    """Move linked work under the span that waits for it (see the module docstring). Returns the
    ids of the spans that moved. Call before depths are set."""
    moved: set[str] = set()
    scopes: dict[str, _Scope] = {}
    # a message's consumer parented to its producer is the same hand-over as a link
    pairs = [(a, b) for a, b, kind in index.causal_edges if kind == "link"]
    pairs += [
        (s.parent, s.id) for s in index.spans.values() if s.parent and index.spans[s.parent].kind == PRODUCER
    ]
    for a, b in pairs:
        origin, work = index.spans[a], index.spans[b]
        if (work.start, work.id) < (origin.start, origin.id):
            origin, work = work, origin
        if work.id in moved:
            continue
        if _waits_for(origin, work, config):
            waiter: Span | None = origin
        elif work.end > origin.end + config.end_tolerance_ns:
            waiter = _find_waiter(index, origin, work, config, scopes)
        else:
            continue  # work the origin contains without waiting for it
        if waiter is None:
            continue
        unit = _unit(index, origin, work)
        if unit is None or unit.parent == waiter.id or unit.id == waiter.id:
            continue
        if unit.id in {s.id for s in index.ancestors(waiter)}:
            continue  # never under its own descendant
        _move(index, unit, waiter)
        moved.add(unit.id)
    return moved


def _find_waiter(
    index: SpanIndex, origin: Span, work: Span, config: TimeoutConfig, scopes: dict[str, _Scope]
) -> Span | None:
    caller = index.parent(origin)
    if caller is None:
        return None
    scope = scopes.get(caller.id)
    if scope is None:
        scope = scopes[caller.id] = _Scope(index, caller)
    excluded = {
        origin.id,
        work.id,
        *(s.id for s in index.subtree(work)),
        *(s.id for s in index.ancestors(work)),
    }
    best: tuple[int, int, int, str] | None = None
    chosen: Span | None = None
    for span in scope.between(origin.start, work.end):
        if span.id in excluded or not _waits_for(span, work, config):
            continue
        rank = (_overlap(span, work), len(index.ancestors(span)), -span.start, span.id)
        if best is None or rank > best:
            best, chosen = rank, span
    if chosen is None:
        # no span of its own awaits the job: the nearest caller that stayed for it waited itself
        chosen = next((a for a in index.ancestors(origin) if _waits_for(a, work, config)), None)
    return chosen


def _unit(index: SpanIndex, origin: Span, work: Span) -> Span | None:
    """What moves: the work itself when it hangs on the producer's side, else its tree's root."""
    producer_side = {origin.id, *(s.id for s in index.ancestors(origin))}
    if work.parent is None or work.parent in producer_side:
        return work
    chain = index.ancestors(work)
    root = chain[-1] if chain else work
    if root.parent is not None or root.id in producer_side:
        return None  # a parent cycle, or the producer's own tree: leave it
    return root


def _move(index: SpanIndex, unit: Span, host: Span) -> None:
    if unit.parent is None:
        index.roots.remove(unit.id)
    else:
        index.spans[unit.parent].children.remove(unit.id)
    unit.parent = host.id
    host.children.append(unit.id)
