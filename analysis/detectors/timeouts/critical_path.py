"""The critical path of a span (CRISP-style) and root-cause scoring on it.

Critical path (Zhang et al., "CRISP: Critical Path Analysis of Large-Scale Microservice
Architectures", ATC '22): from a span, the last child to return is on the path; then, walking back,
the latest child that returned before that one started, and so on; recurse into each. A child that
outlives its parent is truncated at the parent's end (its time past that is not the parent's
latency). A span's exclusive time on the path is its interval minus its on-path children's.

Root cause: the deepest span on the path whose exclusive time is anomalous against the baseline of
its (actor, operation): robust (median / MAD) when enough peers exist, else a share of the path.
O(n log n) for the path (children sorted by end), O(path) for the scoring.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.detectors.timeouts.config import TimeoutConfig
from analysis.detectors.timeouts.spans import Span, SpanIndex


@dataclass(frozen=True)
class PathStep:
    span_id: str
    depth: int  # levels below the path's top span
    lo: int  # the span's interval on the path (clipped / truncated)
    hi: int
    exclusive_ns: int


def critical_path(index: SpanIndex, top: Span) -> list[PathStep]:
    """The critical path below ``top`` (itself first), parents before children. Iterative."""
    out: list[PathStep] = []
    stack: list[tuple[Span, int, int, int]] = [(top, top.start, top.end, 0)]
    seen: set[str] = set()
    while stack:
        span, lo, hi, depth = stack.pop()
        if span.id in seen:  # parent cycles in bad data
            continue
        seen.add(span.id)
        on_path: list[tuple[Span, int, int]] = []
        cursor = hi
        children = sorted((index.spans[c] for c in span.children), key=lambda c: (-c.end, c.id))
        for child in children:
            c_hi = min(child.end, hi)
            c_lo = max(child.start, lo)
            if c_hi <= cursor and c_lo < c_hi:
                on_path.append((child, c_lo, c_hi))
                cursor = c_lo
        covered = sum(c_hi - c_lo for _, c_lo, c_hi in on_path)
        out.append(PathStep(span.id, depth, lo, hi, max(0, hi - lo - covered)))
        stack.extend((child, c_lo, c_hi, depth + 1) for child, c_lo, c_hi in on_path)
    return out


@dataclass(frozen=True)
class Stats:
    median: float
    mad: float
    count: int


class Baseline:
    """Exclusive-time statistics per (actor, operation key). Build it from one trace's spans
    (``Baseline.of_trace``) or from a whole fault-free period (``add`` then query)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._stats: dict[tuple[str, str], Stats] = {}

    @staticmethod
    def key(span: Span) -> tuple[str, str]:
        return (span.who, span.op_key)

    def add(self, key: tuple[str, str], exclusive_ns: int) -> None:
        self._values[key].append(exclusive_ns)
        self._stats.pop(key, None)

    def add_spans(self, index: SpanIndex, spans: Iterable[Span]) -> None:
        for span in spans:
            self.add(self.key(span), index.exclusive_time(span))

    @classmethod
    def of_trace(cls, index: SpanIndex, exclude: Iterable[str] = ()) -> Baseline:
        skip = set(exclude)
        base = cls()
        base.add_spans(index, (s for s in index.spans.values() if s.id not in skip))
        return base

    def stats(self, key: tuple[str, str]) -> Stats | None:
        if key not in self._values:
            return None
        if key not in self._stats:
            values = self._values[key]
            med = statistics.median(values)
            mad = statistics.median(abs(v - med) for v in values)
            self._stats[key] = Stats(float(med), float(mad), len(values))
        return self._stats[key]


@dataclass(frozen=True)
class RootCause:
    span_id: str
    exclusive_ns: int
    reason: str  # baseline | share | largest
    expected_ns: float | None  # the baseline median, when there was one
    path: tuple[str, ...]  # from the top span down to the root cause


def anomaly(
    step: PathStep, span: Span, baseline: Baseline, path_ns: int, config: TimeoutConfig
) -> str | None:
    """Why ``step``'s exclusive time is anomalous ("baseline" / "share"), or None."""
    excl = step.exclusive_ns
    if excl < config.anomaly_floor_ns:
        return None
    stats = baseline.stats(Baseline.key(span))
    if stats is not None and stats.count >= config.baseline_min_peers:
        spread = max(1.4826 * stats.mad, 0.05 * stats.median, float(config.anomaly_floor_ns))
        if excl > config.anomaly_ratio * stats.median and (excl - stats.median) / spread > config.anomaly_z:
            return "baseline"
        return None
    return "share" if path_ns > 0 and excl >= config.anomaly_share * path_ns else None


def find_root_cause(
    index: SpanIndex, top: Span, baseline: Baseline, config: TimeoutConfig, path: list[PathStep] | None = None
) -> RootCause:
    """The deepest anomalous span on ``top``'s critical path (the one with the largest exclusive
    time when none is anomalous)."""
    steps = path if path is not None else critical_path(index, top)
    path_ns = top.end - top.start
    best: tuple[int, int, PathStep, str] | None = None
    for step in steps:
        reason = anomaly(step, index.spans[step.span_id], baseline, path_ns, config)
        if reason is not None and (best is None or (step.depth, step.exclusive_ns) > (best[0], best[1])):
            best = (step.depth, step.exclusive_ns, step, reason)
    if best is None:
        chosen = max(steps, key=lambda s: (s.exclusive_ns, s.depth))
        reason = "largest"
    else:
        chosen, reason = best[2], best[3]
    stats = baseline.stats(Baseline.key(index.spans[chosen.span_id]))
    chain = [chosen.span_id, *(a.id for a in index.ancestors(index.spans[chosen.span_id]))]
    cut = chain.index(top.id) + 1 if top.id in chain else len(chain)
    return RootCause(
        chosen.span_id,
        chosen.exclusive_ns,
        reason,
        stats.median if stats else None,
        tuple(reversed(chain[:cut])),
    )
