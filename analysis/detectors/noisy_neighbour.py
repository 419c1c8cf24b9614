"""Noisy neighbour (a window detector): one agent class makes most of the calls to a shared,
rate-limited dependency while other agent classes get rate-limited (HTTP 429, RESOURCE_EXHAUSTED,
``RateLimitError``...).

Calls (LLM calls, tool calls, client spans) of all traces in the window are split into bursts
(``GAP_NS`` of silence ends one). Per burst, per dependency (provider+model, tool, peer) and for the
burst as one pool (a shared quota behind different tools is common): reported when the busiest
agent class makes at least ``SHARE`` of the calls and ``MIN_CALLS`` calls, the other classes got at
least ``MIN_VICTIM_429`` rate-limit errors, and the busy class is rate-limited less often than the
others. One finding per victim trace; the origin is the noisy agent's first call of the burst in
that trace (else the first rate-limited call).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import ClassVar

from analysis.detectors.common import LLM_OPS, Row, finding, rows
from analysis.happens_before import handoff_target
from analysis.messages import loads
from analysis.model import Finding, Trace

GAP_NS = 60 * 1_000_000_000
SHARE = 0.5
MIN_CALLS = 5
MIN_VICTIM_429 = 2
_RATE_LIMIT = re.compile(r"429|rate.?limit|too.?many.?requests|resource.?exhausted|throttl|quota", re.I)
_PEER_KEYS = ("server.address", "net.peer.name", "peer.service", "http.host", "url.full", "http.url")


def _dependency(r: Row, attributes: str | None) -> str | None:
    """What a span calls: an LLM provider/model, a tool, or a client span's peer; None otherwise."""
    if r.op in LLM_OPS or r.op == "embeddings":
        return f"llm:{r['provider'] or '?'}/{r['request_model'] or '?'}"
    if r.is_tool and r["tool_name"]:
        return f"tool:{r['tool_name']}"
    if r["kind"] == 3:
        attrs = loads(attributes)
        if isinstance(attrs, dict):
            for k in _PEER_KEYS:
                if attrs.get(k):
                    host = re.sub(r"^\w+://([^/:]+).*$", r"\1", str(attrs[k]))
                    return f"peer:{host}"
        return f"peer:{r['name']}"
    return None


def is_rate_limited(r: Row) -> bool:
    return r["http_status_code"] == 429 or (r.failed and bool(_RATE_LIMIT.search(r.error_text())))


class NoisyNeighbour:
    name: ClassVar[str] = "noisy_neighbour"
    version: ClassVar[str] = "1"

    def detect_window(self, traces: Sequence[Trace]) -> list[Finding]:
        calls: list[tuple[str | None, Trace, Row]] = []
        for t in traces:
            attrs = dict(zip(t.spans["span_id"].to_list(), t.spans["attributes"].to_list(), strict=True))
            for r in rows(t):
                if not r.agent or (r.is_tool and handoff_target(r["tool_name"])):
                    continue
                dep = _dependency(r, attrs.get(r.id) if r["kind"] == 3 and not r.op else None)
                if dep is not None:
                    calls.append((dep, t, r))
        out: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        for window in _windows(calls):
            by_dep: dict[str, list[tuple[Trace, Row]]] = defaultdict(list)
            for dep, t, r in window:
                by_dep[dep or "?"].append((t, r))
            for dep, items in by_dep.items():
                out.extend(self._report(dep, items, seen))
            # The shared quota is often not visible as one dependency (an embeddings tool and the
            # chat model behind one API key): judge the whole window as one pool as well.
            out.extend(self._report("shared quota", [(t, r) for _, t, r in window], seen))
        return out

    def _report(self, dep: str, items: list[tuple[Trace, Row]], seen: set[tuple[str, str]]) -> list[Finding]:
        per_agent = Counter(r.agent for _, r in items)
        limited = Counter(r.agent for _, r in items if is_rate_limited(r))
        if len(per_agent) < 2 or not limited:
            return []
        hog, hog_calls = per_agent.most_common(1)[0]
        total = sum(per_agent.values())
        victims_429 = sum(n for a, n in limited.items() if a != hog)
        hog_rate = limited.get(hog, 0) / hog_calls
        victim_rate = victims_429 / max(1, total - hog_calls)
        if (
            hog_calls < MIN_CALLS
            or hog_calls / total < SHARE
            or victims_429 < MIN_VICTIM_429
            or hog_rate >= victim_rate
        ):
            return []
        evidence = {
            "dependency": dep,
            "noisy_agent": hog,
            "share": round(hog_calls / total, 3),
            "calls_by_agent": dict(per_agent.most_common()),
            "rate_limited_by_agent": dict(limited.most_common()),
            "window_start_ns": min(r.start for _, r in items),
            "window_end_ns": max(r.end for _, r in items),
            "traces": len({t.trace_id for t, _ in items}),
        }
        by_trace: dict[str, list[tuple[Trace, Row]]] = defaultdict(list)
        for t, r in items:
            by_trace[t.trace_id].append((t, r))
        out: list[Finding] = []
        for tid, its in by_trace.items():
            victims = [r for _, r in its if r.agent != hog and is_rate_limited(r)]
            if not victims or (tid, str(hog)) in seen:
                continue
            seen.add((tid, str(hog)))
            trace = its[0][0]
            hogs = sorted((r for _, r in its if r.agent == hog), key=lambda r: r.start)
            origin = hogs[0] if hogs else victims[0]
            out.append(
                finding(
                    self,
                    trace,
                    "noisy_neighbour",
                    origin,
                    [*hogs[:50], *victims],
                    "medium",
                    f"{hog} made {hog_calls} of {total} calls to {dep} ({hog_calls * 100 // total}%) "
                    f"while {victims_429} calls of other agents were rate-limited",
                    evidence,
                    key=f"{hog}:{evidence['window_start_ns']}",
                )
            )
        return out


def _windows(calls: list[tuple[str | None, Trace, Row]]) -> list[list[tuple[str | None, Trace, Row]]]:
    """Calls split into bursts: a new window starts after ``GAP_NS`` without any call."""
    calls = sorted(calls, key=lambda c: c[2].start)
    out: list[list[tuple[str | None, Trace, Row]]] = []
    last_end = None
    for c in calls:
        if last_end is None or c[2].start - last_end > GAP_NS:
            out.append([])
        out[-1].append(c)
        last_end = max(last_end or 0, c[2].end)
    return out
