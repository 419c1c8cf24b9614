"""Retry storms: the same call (same tool and arguments, or same model and input) repeated after
failures without a growing back-off, or repeated in lock-step by several callers.

A retry run is a caller's sequence of identical calls in which every attempt but the last failed
(a successful call is never retried, so repetition after success is another detector's business:
``step_repetition``). A run of at least ``retry_min_attempts`` is a storm when its gaps (end of one
attempt to start of the next) do not grow: fixed, shrinking, zero (hedged / parallel) or irregular.
Growing gaps are a back-off and stay clean. Several callers whose failed identical calls start at
the same moments (within a tolerance) are a synchronized storm even when each backs off: without
jitter they hammer the dependency together.

Amplification: attempts per logical call (per run; per caller when synchronized). O(n log n).
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from analysis.detectors.timeouts.config import TimeoutConfig
from analysis.detectors.timeouts.signals import TimeoutSignal
from analysis.detectors.timeouts.spans import LLM_OPS, Span, SpanIndex


@dataclass(frozen=True)
class RetryStorm:
    target: str  # the tool or model called
    identity: str  # digest of the call identity (target + arguments)
    attempts: tuple[str, ...]  # start order
    failed: int
    callers: tuple[str, ...]
    gaps_ns: tuple[int, ...]
    pattern: str  # fixed | shrinking | irregular | synchronized
    amplification: float


def _canonical(text: str | None) -> str:
    if text is None:
        return ""
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONDecodeError:
        return " ".join(text.split())


def call_identity(span: Span) -> tuple[str, str] | None:
    """(target, identity) of a call whose repetition means a retry, or None for non-calls.
    Memoized on the span: the retry and breaker scans both ask."""
    if not span.identity_known:
        span.identity, span.identity_known = _identity(span), True
    return span.identity


def _identity(span: Span) -> tuple[str, str] | None:
    if span.tool_name and span.operation in (None, "execute_tool"):
        target = f"tool {span.tool_name}"
        body = _canonical(span.tool_arguments)
    elif span.operation in LLM_OPS and span.input_messages:
        target = f"model {span.model or span.provider or span.name}"
        body = _canonical(span.input_messages)
    else:
        return None
    return target, hashlib.blake2b(f"{target}\x00{body}".encode(), digest_size=8).hexdigest()


def _gaps(spans: list[Span]) -> list[int]:
    return [max(0, b.start - a.end) for a, b in itertools.pairwise(spans)]


def backs_off(gaps: list[int], config: TimeoutConfig) -> bool:
    """Gaps that grow: the later half of them on average ``backoff_growth`` x the earlier half.
    Averaging halves keeps a jittered back-off (full jitter: any gap up to the growing cap) a
    back-off, and a fixed or shrinking schedule none."""
    if len(gaps) < 2:
        return False
    k = len(gaps) // 2
    early, late = sum(gaps[:k]) / k, sum(gaps[-k:]) / k
    return late > 0 and late >= config.backoff_growth * early


def caller_key(span: Span) -> str:
    """Who makes the call, for telling retries from other callers' calls: the agent (its retries
    may sit under different turn spans), else the parent span."""
    return f"agent {span.agent}" if span.agent else f"span {span.parent or ''}"


def _pattern(gaps: list[int]) -> str:
    med = statistics.median(gaps)
    if all(abs(g - med) <= 0.25 * med + 1_000_000 for g in gaps):
        return "fixed"
    return "shrinking" if gaps[-1] < gaps[0] else "irregular"


def find_retry_storms(
    index: SpanIndex, signals: dict[str, TimeoutSignal], config: TimeoutConfig
) -> list[RetryStorm]:
    groups: dict[tuple[str, str], dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
    for span in index.spans.values():  # start order
        ident = call_identity(span)
        if ident is not None:
            groups[ident][caller_key(span)].append(span)

    def failed(span: Span) -> bool:
        sig = signals.get(span.id)
        return span.failed or (sig is not None and sig.failed)

    out: list[RetryStorm] = []
    for (target, identity), by_caller in groups.items():
        runs: dict[str, list[Span]] = {}
        for caller, calls in by_caller.items():
            run = _longest_retry_run(calls, failed)
            if len(run) >= 2:
                runs[caller] = run
        synced = _synchronized(list(runs.values()), config) if len(runs) >= 2 else False
        if synced and sum(len(r) for r in runs.values()) >= config.retry_min_attempts:
            attempts = sorted((s for r in runs.values() for s in r), key=lambda s: (s.start, s.id))
            out.append(_storm(target, identity, attempts, "synchronized", len(runs), failed))
            continue
        for run in runs.values():
            gaps = _gaps(run)
            if len(run) >= config.retry_min_attempts and not backs_off(gaps, config):
                out.append(_storm(target, identity, run, _pattern(gaps), 1, failed))
    out.sort(key=lambda r: (index.spans[r.attempts[0]].start, r.attempts[0]))
    return out


def _storm(
    target: str,
    identity: str,
    attempts: list[Span],
    pattern: str,
    logical: int,
    failed: Callable[[Span], bool],
) -> RetryStorm:
    return RetryStorm(
        target=target,
        identity=identity,
        attempts=tuple(s.id for s in attempts),
        failed=sum(1 for s in attempts if failed(s)),
        callers=tuple(sorted({s.parent for s in attempts if s.parent})),  # the calling spans
        gaps_ns=tuple(_gaps(attempts)) if pattern != "synchronized" else (),
        pattern=pattern,
        amplification=round(len(attempts) / max(1, logical), 2),
    )


def _longest_retry_run(calls: list[Span], failed: Callable[[Span], bool]) -> list[Span]:
    """The longest stretch of identical calls in which every attempt but the last failed."""
    best: list[Span] = []
    run: list[Span] = []
    for span in calls:
        if run and not failed(run[-1]):
            run = []
        run.append(span)
        if len(run) > len(best):
            best = list(run)
    return best


def _synchronized(runs: list[list[Span]], config: TimeoutConfig) -> bool:
    """Every attempt index shared by the callers starts at (nearly) the same moment in each."""
    depth = min(len(r) for r in runs)
    gaps = [g for r in runs for g in _gaps(r)]
    tolerance = max(config.sync_tolerance_ns, int(config.sync_tolerance_rel * statistics.median(gaps or [0])))
    for i in range(depth):
        starts = [r[i].start for r in runs]
        if max(starts) - min(starts) > tolerance:
            return False
    return depth >= 2
