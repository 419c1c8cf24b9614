"""Timeout cascades and timeout inversions.

Cascade: timed-out spans joined through their callers (the nearest timed-out ancestor, unless a span
in between handled the failure with an OK status; links and hand-offs between timed-out spans; a
root reached only by a link or hand-off hangs under its cause, and an async job's linked work under
the span that awaits it, see ``SpanIndex`` and ``linked_work``). A group is a
cascade when it holds at least two distinct calls: a child that is its parent's only work (same
actor, covering nearly all of it, ending with it) is the same call seen by two layers of
instrumentation, not a second one; a single handled timeout is never a cascade. For each cascade:
the outermost timed-out span (top), the root cause on its critical path
(``critical_path.find_root_cause``), every affected span and agent, and the wasted work: tokens and
seconds of calls still running after a caller that had timed out gave up on them.

Inversion: a callee whose deadline (observed: it timed out; or configured in its arguments) lies
after its caller's deadline: the caller can never use its answer. Only for real calls: work placed
under a span by a link (a queued job) was given no deadline by it.

O(n log n) overall (union-find over the parent tree, one critical path per cascade).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.detectors.timeouts.config import TimeoutConfig
from analysis.detectors.timeouts.critical_path import Baseline, RootCause, find_root_cause
from analysis.detectors.timeouts.signals import TimeoutSignal, configured_timeout_ns
from analysis.detectors.timeouts.spans import LLM_OPS, Span, SpanIndex, union_length


@dataclass(frozen=True)
class Cascade:
    top: str  # the outermost timed-out span
    timeouts: tuple[str, ...]  # timed-out spans, in start order
    calls: int  # distinct calls among them (wrappers folded)
    root_cause: RootCause
    affected: tuple[str, ...]  # origin first, then start order
    agents: tuple[str, ...]
    wasted_spans: tuple[str, ...]
    wasted_tokens: int
    wasted_ns: int


@dataclass(frozen=True)
class Inversion:
    callee: str
    caller: str
    callee_deadline_ns: int  # absolute
    caller_deadline_ns: int  # absolute
    how: str  # observed | configured


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _is_wrapper_of(parent: Span, child: Span, config: TimeoutConfig) -> bool:
    """One call seen by two layers of instrumentation (a tool span and its HTTP span): the parent's
    only work is the child, which covers nearly all of it. An agent invocation is a call of its own,
    whatever it contains."""
    return (
        len(parent.children) == 1
        and parent.operation != "invoke_agent"
        and parent.who == child.who
        and child.duration >= config.wrapper_cover * parent.duration
        and abs(parent.end - child.end) <= config.end_tolerance_ns + config.slack(parent.duration)
    )


def find_cascades(
    index: SpanIndex, signals: dict[str, TimeoutSignal], config: TimeoutConfig
) -> list[Cascade]:
    failed = {sid for sid, sig in signals.items() if sig.failed}
    uf = _UnionFind()
    # the nearest timed-out ancestor, unless a span on the way handled the failure (OK status)
    above = index.nearest_above(lambda s: s.id in failed, lambda s: s.status == 1)
    caller_of: dict[str, str] = {}
    for sid in failed:
        uf.find(sid)
        caller = above.get(sid)
        if caller is not None:
            caller_of[sid] = caller
            uf.union(sid, caller)
    for a, b, _ in index.causal_edges:
        if a in failed and b in failed:
            uf.union(a, b)
    groups: dict[str, list[str]] = {}
    for sid in failed:
        groups.setdefault(uf.find(sid), []).append(sid)
    callees = Counter(caller_of.values())
    baseline: Baseline | None = None
    out: list[Cascade] = []
    for members in groups.values():
        members.sort(key=lambda s: (index.spans[s].start, s))
        wrappers = sum(
            1
            for s in members
            if s in caller_of
            and callees[caller_of[s]] == 1
            and _is_wrapper_of(index.spans[caller_of[s]], index.spans[s], config)
        )
        calls = len(members) - wrappers
        if calls < 2:
            continue
        tops = [index.spans[s] for s in members if s not in caller_of]
        top = min(tops, key=lambda s: (s.start, -s.end, s.id))
        baseline = baseline or Baseline.of_trace(index)
        out.append(_describe(index, top, members, calls, baseline, config))
    out.sort(key=lambda c: (index.spans[c.top].start, c.top))
    return out


def _describe(
    index: SpanIndex, top: Span, members: list[str], calls: int, baseline: Baseline, config: TimeoutConfig
) -> Cascade:
    root = find_root_cause(index, top, baseline, config)
    wasted, tokens, wasted_ns = _wasted_work(index, [index.spans[m] for m in members], config)
    involved = dict.fromkeys([root.span_id, *members, *root.path, *wasted])
    ordered = [
        root.span_id,
        *sorted((s for s in involved if s != root.span_id), key=lambda s: index.spans[s].start),
    ]
    agents = tuple(dict.fromkeys(a for a in (index.spans[s].agent for s in ordered) if a))
    return Cascade(
        top.id, tuple(members), calls, root, tuple(ordered), agents, tuple(wasted), tokens, wasted_ns
    )


def _wasted_work(
    index: SpanIndex, callers: Sequence[Span], config: TimeoutConfig
) -> tuple[list[str], int, int]:
    """Spans still running after a timed-out caller above them gave up; their model tokens (calls
    that ended after the give-up) and the seconds they ran past it (overlaps counted once). One
    top-down and one bottom-up pass: O(n)."""
    caller_end = {c.id: c.end for c in callers}
    gave_up: dict[str, int] = {}  # earliest end of a timed-out caller above the span
    for sid in index.preorder:
        parent = index.parent(index.spans[sid])
        if parent is None:
            continue
        ends = [e for e in (gave_up.get(parent.id), caller_end.get(parent.id)) if e is not None]
        if ends:
            gave_up[sid] = min(ends)
    token_below: set[str] = set()  # spans with a token-carrying descendant
    for sid in reversed(index.preorder):
        span = index.spans[sid]
        if (span.tokens or sid in token_below) and span.parent is not None:
            token_below.add(span.parent)
    ids = [s for s in gave_up if index.spans[s].end > gave_up[s] + config.end_tolerance_ns]
    ids.sort(key=lambda s: (index.spans[s].start, s))
    # tokens of model calls only: agent spans may repeat their children's usage as a total
    tokens = sum(
        index.spans[s].tokens
        for s in ids
        if index.spans[s].tokens and (index.spans[s].operation in LLM_OPS or s not in token_below)
    )
    intervals = [(max(index.spans[s].start, gave_up[s]), index.spans[s].end) for s in ids]
    return ids, tokens, union_length(intervals)


def _deadline(span: Span, signals: dict[str, TimeoutSignal]) -> tuple[int, str] | None:
    """The span's absolute deadline: configured in its arguments, or observed (it timed out)."""
    configured = configured_timeout_ns(span)
    if configured is not None:
        return span.start + configured, "configured"
    sig = signals.get(span.id)
    if sig is not None and sig.failed:
        return span.end, "observed"
    return None


def find_inversions(
    index: SpanIndex, signals: dict[str, TimeoutSignal], config: TimeoutConfig
) -> list[Inversion]:
    out: list[Inversion] = []
    # parent → child only: a hand-off or a link does not make the cause wait for the effect, and
    # linked work (a queued job) was given no deadline by the span that waits for it
    pairs = [
        (index.spans[s.parent], s)
        for s in index.spans.values()
        if s.parent is not None and s.id not in index.link_hosted
    ]
    for caller, callee in pairs:
        theirs = _deadline(callee, signals)
        if theirs is None:
            continue
        mine = _deadline(caller, signals)
        if mine is None:
            continue
        tolerance = config.end_tolerance_ns + config.slack(max(0, mine[0] - caller.start))
        if theirs[0] > mine[0] + tolerance:
            how = "configured" if "configured" in (theirs[1], mine[1]) else "observed"
            out.append(Inversion(callee.id, caller.id, theirs[0], mine[0], how))
    out.sort(key=lambda i: (index.spans[i.callee].start, i.callee))
    return out
