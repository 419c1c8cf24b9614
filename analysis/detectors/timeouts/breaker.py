"""Missing circuit breaker: calls keep going to a dependency (a tool, a model) whose error rate over a
rolling window is already above the threshold.

The rolling window is what a breaker would know when a call starts: the results of the last
``breaker_window_calls`` calls to the dependency that had finished by then, within
``breaker_window_ns``. With at least ``breaker_min_calls`` results and an error rate at or above
``breaker_error_rate``, and the latest of them a failure (a success closes a half-open breaker),
a breaker would have been open; the call is a violation. A finding needs
``breaker_min_violations`` violations that are new calls, not retries of a failed call by the same
caller (those are ``retries``' business).

The same scan runs per trace and over a window of traces (``CircuitBreakerWindowDetector``); the
window finding is only made where the per-trace one is not. Origin (``detector.breaker_finding``):
where the failure starts, the first failed call of the window that should have opened the breaker.
O(n log n) per dependency.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.detectors.timeouts.config import TimeoutConfig
from analysis.detectors.timeouts.retries import call_identity, caller_key
from analysis.detectors.timeouts.signals import TimeoutSignal
from analysis.detectors.timeouts.spans import LLM_OPS, Span, SpanIndex


@dataclass(frozen=True)
class DepCall:
    trace_id: str
    span_id: str
    dependency: str
    identity: str
    start: int
    end: int
    failed: bool
    agent: str | None
    retry: bool = False  # the same caller's identical call failed before: a retry, not new work


@dataclass(frozen=True)
class BreakerViolation:
    dependency: str
    tripped_by: tuple[DepCall, ...]  # the window of results that should have opened the breaker
    violations: tuple[DepCall, ...]  # calls made while it should have been open, start order
    error_rate: float


def dependency_of(span: Span) -> str | None:
    if span.tool_name and span.operation in (None, "execute_tool"):
        return f"tool {span.tool_name}"
    if span.operation in LLM_OPS:
        return f"model {span.model or span.provider or span.name}"
    return None


def dependency_calls(index: SpanIndex, signals: dict[str, TimeoutSignal]) -> list[DepCall]:
    out: list[DepCall] = []
    failed_before: set[tuple[str, str]] = set()  # (caller, identity) that already failed
    for span in index.spans.values():  # start order
        dep = dependency_of(span)
        if dep is None:
            continue
        ident = call_identity(span)
        identity = ident[1] if ident else span.id
        sig = signals.get(span.id)
        failed = span.failed or (sig is not None and sig.failed)
        retry = (caller_key(span), identity) in failed_before
        if failed:
            failed_before.add((caller_key(span), identity))
        out.append(
            DepCall(index.trace_id, span.id, dep, identity, span.start, span.end, failed, span.agent, retry)
        )
    return out


def scan(calls: Iterable[DepCall], config: TimeoutConfig) -> list[BreakerViolation]:
    """Violations per dependency, before ``significant`` judges them."""
    by_dep: dict[str, list[DepCall]] = defaultdict(list)
    for call in calls:
        by_dep[call.dependency].append(call)
    out: list[BreakerViolation] = []
    for dep in sorted(by_dep):
        ordered = sorted(by_dep[dep], key=lambda c: (c.start, c.trace_id, c.span_id))
        pending: list[tuple[int, int, DepCall]] = []  # heap of running calls by end
        window: deque[DepCall] = deque()
        tripped: tuple[DepCall, ...] = ()
        rate = 0.0
        violations: list[DepCall] = []
        for n, call in enumerate(ordered):
            while pending and pending[0][0] <= call.start:
                window.append(heapq.heappop(pending)[2])
            while window and (
                len(window) > config.breaker_window_calls
                or window[0].end < call.start - config.breaker_window_ns
            ):
                window.popleft()
            errors = sum(1 for c in window if c.failed)
            # the latest result must be a failure too: a success would have closed a half-open breaker
            if (
                len(window) >= config.breaker_min_calls
                and errors >= config.breaker_error_rate * len(window)
                and window[-1].failed
            ):
                if not violations:
                    tripped, rate = tuple(window), errors / len(window)
                violations.append(call)
            heapq.heappush(pending, (call.end, n, call))
        if violations:
            out.append(BreakerViolation(dep, tripped, tuple(violations), round(rate, 3)))
    return out


def significant(v: BreakerViolation, config: TimeoutConfig) -> bool:
    """Enough new calls made while the breaker should have been open. Retries of a failed call
    (same caller, same call) do not count: they are the retry storm's business."""
    return sum(1 for c in v.violations if not c.retry) >= config.breaker_min_violations
