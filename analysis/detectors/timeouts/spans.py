"""One pass over a ``Trace``'s columns into the light per-span records the timeout family walks.

Only normalized columns are read (``store.schema.SPANS``); exception events come from
``SPAN_EVENTS`` (OTel's ``exception`` event with ``exception.type`` / ``exception.message``).
Building the index is O(n log n): one column scan, children sorted once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl

from analysis.detectors.timeouts.config import DEFAULT, TimeoutConfig
from analysis.detectors.timeouts.linked_work import rehost_linked_work
from analysis.model import Trace

#: operations that are a call to a model: their tokens are the work a caller may waste
LLM_OPS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
_COLS = (
    "span_id", "parent_span_id", "name", "kind", "start_ns", "end_ns", "status_code", "status_message",
    "service_name", "operation", "provider", "request_model", "agent_name", "agent_id", "tool_name",
    "tool_arguments", "tool_result", "input_messages", "output_messages", "input_tokens", "output_tokens",
    "error_type", "http_status_code", "db_system",
)  # fmt: skip


@dataclass(slots=True)
class Span:
    id: str
    parent: str | None  # None when the parent is not in this trace
    name: str
    start: int
    end: int
    status: int  # 0 unset, 1 ok, 2 error
    status_message: str | None
    service: str | None
    operation: str | None
    provider: str | None
    model: str | None
    agent: str | None  # resolved agent (trace.agent_of)
    own_agent: str | None  # set on agent spans only
    tool_name: str | None
    tool_arguments: str | None
    tool_result: str | None
    input_messages: str | None
    output_messages: str | None
    tokens: int
    error_type: str | None
    http_status: int | None
    db_system: str | None
    kind: int = 0  # OTel SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
    depth: int = 0
    children: list[str] = field(default_factory=list)  # sorted by start
    identity: tuple[str, str] | None = None  # ``retries.call_identity``, memoized
    identity_known: bool = False

    @property
    def duration(self) -> int:
        return self.end - self.start

    @property
    def op_key(self) -> str:
        """What makes two spans "the same operation" for baselines and deadline clusters."""
        target = self.tool_name or self.model or self.name
        return f"{self.operation or ''}:{target}"

    @property
    def who(self) -> str:
        """The actor the span belongs to: its agent, else its service."""
        return self.agent or self.service or ""

    @property
    def has_output(self) -> bool:
        return bool(_nonempty(self.output_messages) or _nonempty(self.tool_result))

    @property
    def failed(self) -> bool:
        """Error status, an error type, a 5xx, or a tool result that reports an error (agent
        frameworks often return a failed tool call as its result, status unset)."""
        return (
            self.status == 2
            or bool(self.error_type)
            or (self.http_status or 0) >= 500
            or (self.status != 1 and result_is_error(self.tool_result))
        )


_ERROR_TEXT = re.compile(r"^\s*(error|exception|traceback|failed|failure)\b", re.IGNORECASE)


_ENVELOPE_KEYS = frozenset(
    {"error", "errors", "status", "code", "message", "detail", "details", "type", "retry_after"}
)


def result_is_error(text: str | None) -> bool:
    """A tool result that reports the call's failure: ``Error: ...`` text, or a JSON error envelope
    (an ``error`` / ``errors`` set and no payload beside it). A payload that mentions an error (a
    test run listing failures) is a successful call."""
    if not text:
        return False
    if _ERROR_TEXT.match(text):
        return True
    if text.lstrip().startswith("{") and '"error' in text:
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(parsed, dict) or not (parsed.get("error") or parsed.get("errors")):
            return False
        return all(k.lower() in _ENVELOPE_KEYS for k, v in parsed.items() if v is not None)
    return False


def _nonempty(value: str | None) -> bool:
    return value is not None and value.strip() not in ("", "[]", "null", "{}", '""')


@dataclass(frozen=True)
class ExceptionEvent:
    type: str
    message: str
    escaped: bool


class SpanIndex:
    """The spans of one trace by id (in start order), the parent tree, exception events and the
    non-parent causal edges (links, hand-offs) of ``trace.hb``. The tree is the call tree as the
    trace recorded it, completed by its causal edges: a root reached only by a link or hand-off
    hangs under its cause, and linked async work under the span that waits for it
    (``linked_work``); ``link_hosted`` holds the spans placed by a link, not by a call."""

    def __init__(self, trace: Trace, config: TimeoutConfig = DEFAULT) -> None:
        self.trace_id = trace.trace_id
        self.spans: dict[str, Span] = {}
        frame = trace.spans
        cols: dict[str, Sequence[Any]] = {
            c: (frame.get_column(c).to_list() if c in frame.columns else [None] * frame.height) for c in _COLS
        }
        for i in range(frame.height):
            self._add(cols, i, trace.agent_of)
        self.roots: list[str] = []
        for s in self.spans.values():
            if s.parent is not None and s.parent in self.spans and s.parent != s.id:
                self.spans[s.parent].children.append(s.id)
            else:
                s.parent = None
                self.roots.append(s.id)
        self.causal_edges: list[tuple[str, str, str]] = [
            (a, b, k)
            for a, b, k in trace.hb.edges()
            if k in ("link", "handoff") and a in self.spans and b in self.spans and a != b
        ]
        self.link_hosted: set[str] = set()
        self._adopt()
        self.link_hosted |= rehost_linked_work(self, config)
        self._set_depths()
        self.exceptions = _exception_events(trace.events)

    def _adopt(self) -> None:
        """A root reached only through a link or a hand-off (context not propagated, another
        service) is a callee of its cause: under the linked span, or under the caller of the
        hand-off tool (the agent that waits). Cycle-safe: never under its own descendant."""
        for cause, effect, kind in self.causal_edges:
            span = self.spans[effect]
            if span.parent is not None:
                continue
            host = (
                self.spans[cause] if kind == "link" else (self.parent(self.spans[cause]) or self.spans[cause])
            )
            if host.id == effect or effect in {a.id for a in self.ancestors(host)}:
                continue
            span.parent = host.id
            host.children.append(effect)
            self.roots.remove(effect)
            if kind == "link":
                self.link_hosted.add(effect)

    def _add(self, cols: Mapping[str, Sequence[Any]], i: int, agent_of: Mapping[str, str | None]) -> None:
        sid = cols["span_id"][i]
        if not sid or sid in self.spans:
            return
        start = int(cols["start_ns"][i] or 0)
        end = max(int(cols["end_ns"][i] or start), start)
        tokens = int(cols["input_tokens"][i] or 0) + int(cols["output_tokens"][i] or 0)
        self.spans[sid] = Span(
            id=sid, parent=cols["parent_span_id"][i] or None, name=cols["name"][i] or "",
            start=start, end=end, status=int(cols["status_code"][i] or 0),
            status_message=cols["status_message"][i], service=cols["service_name"][i],
            operation=cols["operation"][i], provider=cols["provider"][i], model=cols["request_model"][i],
            # an agent span is its own agent, whether or not the map lists it
            agent=agent_of.get(sid) or cols["agent_name"][i] or cols["agent_id"][i],
            own_agent=cols["agent_name"][i] or cols["agent_id"][i],
            tool_name=cols["tool_name"][i], tool_arguments=cols["tool_arguments"][i],
            tool_result=cols["tool_result"][i], input_messages=cols["input_messages"][i],
            output_messages=cols["output_messages"][i], tokens=tokens, error_type=cols["error_type"][i],
            http_status=cols["http_status_code"][i], db_system=cols["db_system"][i],
            kind=int(cols["kind"][i] or 0),
        )  # fmt: skip

    def _set_depths(self) -> None:
        # Iterative from the roots: a 100k-deep chain must not hit the recursion limit; spans on a
        # parent cycle are never reached from a root and keep depth 0.
        self.preorder: list[str] = []  # parents before children
        stack = [(r, 0) for r in self.roots]
        while stack:
            sid, d = stack.pop()
            self.preorder.append(sid)
            span = self.spans[sid]
            span.depth = d
            span.children.sort(key=lambda c: (self.spans[c].start, c))
            stack.extend((c, d + 1) for c in span.children)

    def nearest_above(
        self, match: Callable[[Span], bool], stop: Callable[[Span], bool] = lambda _: False
    ) -> dict[str, str | None]:
        """Per span, its nearest proper ancestor that ``match``es, not looking past an ancestor that
        ``stop``s first. One top-down pass: O(n) whatever the depth."""
        out: dict[str, str | None] = {}
        for sid in self.preorder:
            parent = self.parent(self.spans[sid])
            if parent is None:
                out[sid] = None
            elif match(parent):
                out[sid] = parent.id
            else:
                out[sid] = None if stop(parent) else out.get(parent.id)
        return out

    def parent(self, span: Span) -> Span | None:
        return self.spans[span.parent] if span.parent is not None else None

    def ancestors(self, span: Span, limit: int = 10_000) -> list[Span]:
        """Parent first; cycle-safe."""
        out: list[Span] = []
        seen = {span.id}
        cur = self.parent(span)
        while cur is not None and cur.id not in seen and len(out) < limit:
            out.append(cur)
            seen.add(cur.id)
            cur = self.parent(cur)
        return out

    def subtree(self, span: Span) -> list[Span]:
        """The span's descendants (itself excluded), iteratively."""
        out: list[Span] = []
        stack = list(span.children)
        seen: set[str] = set()
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            child = self.spans[sid]
            out.append(child)
            stack.extend(child.children)
        return out

    def exclusive_time(self, span: Span) -> int:
        """Duration not covered by any child (children clipped to the span)."""
        covered = _union_length(
            (max(c.start, span.start), min(c.end, span.end)) for c in (self.spans[x] for x in span.children)
        )
        return span.duration - covered


def _union_length(intervals: Any) -> int:
    total, cur_lo, cur_hi = 0, None, None
    for lo, hi in sorted(i for i in intervals if i[1] > i[0]):
        if cur_hi is None or lo > cur_hi:
            if cur_hi is not None and cur_lo is not None:
                total += cur_hi - cur_lo
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    if cur_hi is not None and cur_lo is not None:
        total += cur_hi - cur_lo
    return total


def union_length(intervals: Sequence[tuple[int, int]]) -> int:
    """Total length covered by ``intervals`` (overlaps counted once)."""
    return _union_length(intervals)


def _exception_events(events: pl.DataFrame) -> dict[str, list[ExceptionEvent]]:
    out: dict[str, list[ExceptionEvent]] = defaultdict(list)
    if events.height == 0 or "name" not in events.columns:
        return out
    rows = events.filter(pl.col("name") == "exception").select("span_id", "attributes").iter_rows()
    for sid, attrs in rows:
        try:
            parsed = orjson.loads(attrs) if attrs else {}
        except orjson.JSONDecodeError:
            parsed = {}
        if not isinstance(parsed, dict):
            parsed = {}
        escaped = parsed.get("exception.escaped")
        out[sid].append(
            ExceptionEvent(
                type=str(parsed.get("exception.type") or ""),
                message=str(parsed.get("exception.message") or ""),
                escaped=escaped in (True, "true", "True"),
            )
        )
    return out
