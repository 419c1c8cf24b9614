"""Timeout recognition: which spans timed out, and from which signal.

Signals, strongest first: ``error_type`` (``TimeoutError``, ``asyncio.TimeoutError``,
``DEADLINE_EXCEEDED``, ``APITimeoutError``, ``ReadTimeout``, ...), HTTP 408 / 504 (and the 524 / 598 /
599 gateway variants), the status message of an error span, OTel ``exception`` events, an error tool
result that says so, and the duration: a span ending just after a configured deadline (a ``timeout``
argument of the call) or, without output and not OK, at a round value (1 s and up) that is either
an error naming no other cause, a give-up while its callee still ran, or the ceiling where several
spans of the same operation end and none runs longer (a deadline cluster).

A span whose own status is OK but that recorded a timeout exception handled it (``failed=False``):
it counts as an observed timeout, never as a link of a cascade.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import orjson

from analysis.detectors.timeouts.config import ROUND_DEADLINES_NS, TimeoutConfig
from analysis.detectors.timeouts.spans import Span, SpanIndex

_TIMEOUT_RE = re.compile(
    r"time[ds]?[\s_-]?out|deadline[\s_-]?exceeded|deadlineexceeded|\betimedout\b|took too long", re.IGNORECASE
)
_TIMEOUT_HTTP = frozenset({408, 504, 524, 598, 599})
#: argument names that configure a call's deadline, with their unit in ns
_TIMEOUT_ARGS: dict[str, int] = {
    "timeout": 1_000_000_000, "timeout_s": 1_000_000_000, "timeout_sec": 1_000_000_000,
    "timeout_seconds": 1_000_000_000, "deadline_s": 1_000_000_000, "deadline_seconds": 1_000_000_000,
    "timeout_ms": 1_000_000, "deadline_ms": 1_000_000,
}  # fmt: skip


@dataclass(frozen=True)
class TimeoutSignal:
    span_id: str
    source: str  # error_type | http_status | status_message | exception | tool_result | deadline
    detail: str
    failed: bool  # the span itself failed with it (vs. a timeout it caught and handled)
    deadline_ns: int | None = None  # the deadline it hit, when known


def says_timeout(text: str | None) -> bool:
    return bool(text) and _TIMEOUT_RE.search(text or "") is not None


def configured_timeout_ns(span: Span) -> int | None:
    """A deadline the call was given in its arguments (``{"timeout": 30}``, ``timeout_ms``, ...)."""
    text = span.tool_arguments
    if not text or ("time" not in text and "deadline" not in text):
        return None
    try:
        args = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    # the arguments themselves, then one level of nesting (OpenLLMetry records {"args", "kwargs"})
    scopes = [args] if isinstance(args, dict) else []
    scopes += [v for scope in list(scopes) for v in scope.values() if isinstance(v, dict)]
    for scope in scopes:
        for key, unit in _TIMEOUT_ARGS.items():
            value = scope.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return int(value * unit)
    return None


def round_deadline(duration_ns: int, config: TimeoutConfig) -> int | None:
    """The round deadline a span of this duration stopped at, if it sits just above one."""
    for deadline in reversed(ROUND_DEADLINES_NS):
        if deadline <= duration_ns <= deadline + config.slack(deadline):
            return deadline
    return None


def _explicit(span: Span, index: SpanIndex) -> TimeoutSignal | None:
    if says_timeout(span.error_type):
        return TimeoutSignal(span.id, "error_type", span.error_type or "", True)
    if span.http_status in _TIMEOUT_HTTP:
        return TimeoutSignal(span.id, "http_status", str(span.http_status), True)
    if span.status == 2 and says_timeout(span.status_message):
        return TimeoutSignal(span.id, "status_message", (span.status_message or "")[:200], True)
    for ev in index.exceptions.get(span.id, ()):
        if says_timeout(ev.type) or says_timeout(ev.message):
            detail = f"{ev.type}: {ev.message}"[:200]
            # handled when the span still succeeded (OK status, or it produced its output)
            failed = span.failed or (span.status != 1 and (ev.escaped or not span.has_output))
            return TimeoutSignal(span.id, "exception", detail, failed)
    result = span.tool_result or ""
    if span.status != 1 and says_timeout(result[:500]) and span.failed:
        return TimeoutSignal(span.id, "tool_result", result[:200], True)
    return None


def recognize(index: SpanIndex, config: TimeoutConfig) -> dict[str, TimeoutSignal]:
    """Every span with a timeout signal, by span id. O(n)."""
    out: dict[str, TimeoutSignal] = {}
    # candidates for the duration signal: not OK and without output, grouped by operation and deadline
    clusters: dict[tuple[str, str, int], list[Span]] = defaultdict(list)
    for span in index.spans.values():
        signal = _explicit(span, index)
        configured = configured_timeout_ns(span)
        if signal is not None:
            deadline = configured or round_deadline(span.duration, config)
            out[span.id] = TimeoutSignal(
                signal.span_id, signal.source, signal.detail, signal.failed, deadline
            )
            continue
        if span.status == 1 or span.has_output:
            continue
        if configured is not None and configured <= span.duration <= configured + config.slack(configured):
            out[span.id] = TimeoutSignal(span.id, "deadline", f"configured {configured} ns", True, configured)
            continue
        deadline = round_deadline(span.duration, config)
        if deadline is None:
            continue
        if span.status == 2:
            if not span.error_type:  # an error that names itself is that error, whatever its duration
                out[span.id] = TimeoutSignal(span.id, "deadline", f"error at {deadline} ns", True, deadline)
        elif any(index.spans[c].end > span.end + config.end_tolerance_ns for c in span.children):
            # it stopped at a round deadline while its callee was still running: it gave up
            out[span.id] = TimeoutSignal(span.id, "deadline", f"gave up at {deadline} ns", True, deadline)
        else:
            clusters[(span.who, span.op_key, deadline)].append(span)
    longest: dict[tuple[str, str], int] = defaultdict(int)
    for span in index.spans.values():
        key = (span.who, span.op_key)
        longest[key] = max(longest[key], span.duration)
    for (who, op, deadline), members in clusters.items():
        # a deadline is a ceiling: no call of the operation runs past it
        if len(members) >= config.deadline_cluster_min and longest[(who, op)] <= deadline + config.slack(
            deadline
        ):
            for span in members:
                detail = f"{len(members)} spans of {span.op_key} end at {deadline} ns"
                out[span.id] = TimeoutSignal(span.id, "deadline", detail, True, deadline)
    return out
