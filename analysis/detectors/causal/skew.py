"""Clock skew between services, estimated from parent/child pairs.

A child span cannot start before its parent: when one does, by more than the tolerance, the two
services' clocks disagree. For every (parent service, child service) pair the estimate is
``max(parent.start - child.start)`` over its parent/child spans: a lower bound of the offset (the
true one also absorbs the call's latency). The child's clock is the one behind, unless the child's
service agrees with another parent service, or the parent's spans precede the children of several
services: then the parent's clock is ahead. A child ending after its parent is *not* evidence:
callers that time out or fire and forget leave callees running.

The per-service corrections (``offsets``) feed the real-time checks, so skew never passes for a
stale read. One vectorised join: O(S) in the trace's spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: Skew below this is ordinary NTP noise and not reported.
DEFAULT_TOLERANCE_NS = 50_000_000
#: Spans listed per finding (the evidence keeps the count).
MAX_LISTED = 20


@dataclass(frozen=True)
class ServiceSkew:
    """One service whose clock runs behind (or, ``ahead``, ahead of) ``other_service``'s by
    ``skew_ns`` at least."""

    service: str
    other_service: str
    ahead: bool
    skew_ns: int
    origin: str  # the service's earliest span in a child-before-parent pair
    pairs: tuple[tuple[str, str, int], ...]  # (parent span, child span, child-before-parent ns)
    violations: int


@dataclass(frozen=True)
class SkewEstimate:
    skewed: tuple[ServiceSkew, ...]
    offsets: dict[str, int] = field(default_factory=dict)  # ns to add to a service's timestamps


def estimate_skew(spans: pl.DataFrame, tolerance_ns: int = DEFAULT_TOLERANCE_NS) -> SkewEstimate:
    """Services whose spans start before their parents' by more than ``tolerance_ns``."""
    cols = spans.select("span_id", "parent_span_id", "service_name", "start_ns")
    pairs = (
        cols.filter(pl.col("parent_span_id").is_not_null())
        .join(
            cols.select(
                pl.col("span_id").alias("parent_span_id"),
                pl.col("service_name").alias("parent_service"),
                pl.col("start_ns").alias("parent_start"),
            ),
            on="parent_span_id",
        )
        .filter(
            pl.col("service_name").is_not_null()
            & pl.col("parent_service").is_not_null()
            & (pl.col("service_name") != pl.col("parent_service"))
        )
        .with_columns((pl.col("parent_start") - pl.col("start_ns")).alias("ahead"))
    )
    if pairs.height == 0:
        return SkewEstimate(())
    worst_by_pair = pairs.group_by(["parent_service", "service_name"]).agg(pl.col("ahead").max()).rows()
    bad_pairs = {(p, c) for p, c, a in worst_by_pair if a > tolerance_ns}
    good_pairs = {(p, c) for p, c, a in worst_by_pair if a <= tolerance_ns}
    bad = pairs.filter(pl.col("ahead") > tolerance_ns).sort(["start_ns", "span_id"])
    # Which side of a violating pair is off: the child's clock is behind, unless the child agrees
    # with another parent service or the parent "precedes" several services' children: then the
    # parent's clock is ahead.
    culprit: dict[tuple[str, str], tuple[str, bool]] = {}
    for p, c in bad_pairs:
        agrees_elsewhere = any(q != p and child == c for q, child in good_pairs)
        several = len({child for q, child in bad_pairs if q == p}) >= 2
        culprit[(p, c)] = (p, True) if agrees_elsewhere or several else (c, False)
    by_service: dict[tuple[str, bool], list[tuple[str, str, int, str, str]]] = {}
    for parent, child, ahead, p_service, c_service in bad.select(
        "parent_span_id", "span_id", "ahead", "parent_service", "service_name"
    ).iter_rows():
        by_service.setdefault(culprit[(p_service, c_service)], []).append(
            (parent, child, int(ahead), p_service, c_service)
        )
    skewed: list[ServiceSkew] = []
    offsets: dict[str, int] = {}
    for (service, ahead_clock), rows in by_service.items():
        worst = max(rows, key=lambda r: r[2])
        skewed.append(
            ServiceSkew(
                service=service,
                other_service=worst[4] if ahead_clock else worst[3],
                ahead=ahead_clock,
                skew_ns=worst[2],
                origin=rows[0][0] if ahead_clock else rows[0][1],
                pairs=tuple((p, c, a) for p, c, a, _, _ in rows[:MAX_LISTED]),
                violations=len(rows),
            )
        )
        offsets[service] = -worst[2] if ahead_clock else worst[2]
    skewed.sort(key=lambda s: s.service)
    return SkewEstimate(tuple(skewed), offsets)
