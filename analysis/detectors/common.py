"""What the structural detectors share: row access, span classification (LLM call, tool call,
error, side effect, verifier, final answer) and finding construction. Pure functions of a ``Trace``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.mast import modes_for
from analysis.messages import Message, ToolCall, loads, parse_messages
from analysis.model import Finding, Severity, Trace

LLM_OPS = frozenset({"chat", "text_completion", "generate_content"})
ROW_COLS = (
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status_code",
    "status_message",
    "operation",
    "agent_name",
    "agent_id",
    "conversation_id",
    "tool_name",
    "tool_call_id",
    "tool_arguments",
    "tool_result",
    "tool_definitions",
    "input_messages",
    "output_messages",
    "system_instructions",
    "reasoning",
    "finish_reasons",
    "error_type",
    "http_status_code",
    "provider",
    "request_model",
)

_VERIFIER = re.compile(
    r"verif|review|critic|checker|validat|judge|grader|audit|evaluat|inspector|proofread|fact.?check"
    r"|cross.?check|double.?check|(^|[^a-z])(qa|tester)([^a-z]|$)",
    re.I,
)
_TIMEOUT = re.compile(r"timeout|timed out|deadline|408|504|reset|connection (aborted|closed|lost)", re.I)


@dataclass(frozen=True)
class Row:
    """One span, the columns the structural detectors read. Parsed messages are memoized: every
    detector of a trace shares the same rows (``rows``)."""

    data: Mapping[str, Any]
    agent: str | None
    _parsed: dict[str, list[Message]] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def id(self) -> str:
        return str(self.data["span_id"])

    @property
    def start(self) -> int:
        return int(self.data["start_ns"] or 0)

    @property
    def end(self) -> int:
        return int(self.data["end_ns"] or 0)

    @property
    def op(self) -> str | None:
        op = self.data["operation"]
        return str(op) if op else None

    @property
    def is_llm(self) -> bool:
        return self.op in LLM_OPS

    @property
    def is_tool(self) -> bool:
        return self.op == "execute_tool"

    @property
    def failed(self) -> bool:
        status = self.data["http_status_code"]
        return (
            self.data["status_code"] == 2
            or bool(self.data["error_type"])
            or (status is not None and status >= 400)
        )

    def error_text(self) -> str:
        return " ".join(
            str(x)
            for x in (self.data["error_type"], self.data["status_message"], self.data["http_status_code"])
            if x
        )

    def inputs(self) -> list[Message]:
        return self._messages("input_messages")

    def outputs(self) -> list[Message]:
        return self._messages("output_messages")

    def _messages(self, column: str) -> list[Message]:
        if column not in self._parsed:
            self._parsed[column] = parse_messages(self.data[column])
        return self._parsed[column]

    def output_calls(self) -> list[ToolCall]:
        return [c for m in self.outputs() for c in m.tool_calls()]

    def output_text(self) -> str:
        return "\n".join(m.text for m in self.outputs() if m.text)

    def finish_reasons(self) -> list[str]:
        value = loads(self.data["finish_reasons"])
        return [str(x).lower() for x in value] if isinstance(value, list) else []


_ROWS_CACHE: list[tuple[Trace, list[Row]]] = []
_ROWS_CACHE_SIZE = 4


def rows(trace: Trace) -> list[Row]:
    """Every span of ``trace`` in start order. The engine runs all detectors on one trace in a row,
    so the last few traces' rows are kept (by identity) and shared."""
    for cached, out in _ROWS_CACHE:
        if cached is trace:
            return out
    cols = [c for c in ROW_COLS if c in trace.spans.columns]
    out = [Row(d, trace.agent_of.get(d["span_id"])) for d in trace.spans.select(cols).iter_rows(named=True)]
    _ROWS_CACHE.append((trace, out))
    del _ROWS_CACHE[:-_ROWS_CACHE_SIZE]
    return out


def is_verifier_name(name: str | None) -> bool:
    return bool(name) and bool(_VERIFIER.search(name or ""))


def maybe_side_effect_failed(row: Row) -> bool:
    """A failure after which the side effect may still have happened: the caller stopped waiting
    (timeout, deadline, lost connection). A 4xx/5xx answer means the server did not do it."""
    return row.failed and bool(_TIMEOUT.search(row.error_text()))


def is_final_answer(row: Row) -> bool:
    """An LLM call that answers in text and asks for no tool."""
    if not row.is_llm:
        return False
    outs = row.outputs()
    return bool(outs) and not any(m.tool_calls() for m in outs) and any(m.text.strip() for m in outs)


def final_answer(rs: Sequence[Row], order: Sequence[str]) -> Row | None:
    """The trace's final answer: the last final-answer LLM call in happens-before order."""
    by_id = {r.id: r for r in rs}
    for sid in reversed(order):
        r = by_id.get(sid)
        if r is not None and is_final_answer(r):
            return r
    return None


def tool_names_declared(rs: Iterable[Row]) -> set[str]:
    names: set[str] = set()
    for r in rs:
        defs = loads(r["tool_definitions"])
        if isinstance(defs, list):
            for d in defs:
                if isinstance(d, dict):
                    fn = d.get("function") if isinstance(d.get("function"), dict) else d
                    if isinstance(fn, dict) and fn.get("name"):
                        names.add(str(fn["name"]))
        if r.is_tool and r["tool_name"]:
            names.add(str(r["tool_name"]))
    return names


def finding(
    detector: type[Any] | Any,
    trace: Trace,
    kind: str,
    origin: Row,
    involved: Sequence[Row],
    severity: Severity,
    summary: str,
    evidence: Mapping[str, Any],
    key: str = "",
) -> Finding:
    ids = list(dict.fromkeys([origin.id, *(r.id for r in involved)]))
    agents = sorted({a for a in (origin.agent, *(r.agent for r in involved)) if a})
    return Finding(
        detector=detector.name,
        kind=kind,
        trace_id=trace.trace_id,
        origin_span_id=origin.id,
        span_ids=tuple(ids),
        agents=tuple(agents),
        severity=severity,
        mast=modes_for(detector.name, kind, evidence),
        summary=summary,
        evidence=dict(evidence),
        detector_version=detector.version,
        key=key,
    )


def clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


#: verbs whose tools change the world: running them twice does it twice
SIDE_EFFECT_VERBS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "send email mail sms text notify post publish tweet create insert add write append save store "
        "upload pay payment charge bill invoice refund transfer withdraw deposit wire buy purchase order "
        "book reserve schedule submit place issue approve delete remove drop cancel deploy release merge "
        "commit push launch provision dispatch enqueue ship "
    ).split()
)
#: verbs that read or are idempotent by construction
READ_VERBS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "get fetch read list search find lookup look query check verify validate describe show view "
        "count retrieve download calculate compute estimate browse inspect run test "
    ).split()
)
IDEMPOTENCY_KEYS = frozenset(
    {
        "idempotency_key",
        "idempotencykey",
        "idempotency-key",
        "request_id",
        "requestid",
        "dedup_id",
        "dedupe_key",
        "deduplication_id",
        "client_token",
        "client_request_id",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]


def tool_annotations(definitions: str | None, tool: str) -> Mapping[str, Any]:
    """MCP-style hints (``idempotentHint``, ``readOnlyHint``...) declared for ``tool``, if any."""
    defs = loads(definitions)
    if not isinstance(defs, list):
        return {}
    for d in defs:
        if isinstance(d, dict):
            fn = d.get("function") if isinstance(d.get("function"), dict) else d
            if isinstance(fn, dict) and fn.get("name") == tool:
                ann = fn.get("annotations") or d.get("annotations") or {}
                return ann if isinstance(ann, dict) else {}
    return {}


def idempotency_key(arguments: Any) -> str | None:
    """The value of an idempotency-key argument, if the call carries one."""
    if isinstance(arguments, dict):
        for k, v in arguments.items():
            if str(k).lower() in IDEMPOTENCY_KEYS and v not in (None, ""):
                return str(v)
    return None


def is_side_effect_tool(name: str | None, annotations: Mapping[str, Any] | None = None) -> bool:
    """True for tools that change the world (send, create, pay, delete...): by declared hints when
    present, else by the verbs of the name. Hand-offs are not side effects."""
    if not name:
        return False
    ann = annotations or {}
    if ann.get("readOnlyHint") is True or ann.get("idempotentHint") is True:
        return False
    if ann.get("destructiveHint") is True or ann.get("idempotentHint") is False:
        return True
    words = name_words(name)
    if not words or (words[0] in ("transfer", "handoff") and len(words) > 1 and words[1] in ("to", "back")):
        return False
    if words[0] in READ_VERBS:
        return False
    return any(w in SIDE_EFFECT_VERBS for w in words)


def invocations(rs: Sequence[Row]) -> dict[str, str | None]:
    """span id → the nearest enclosing agent invocation span (``invoke_agent``/``create_agent``),
    the span itself excluded. Iterative and cycle-safe."""
    parents = {r.id: r["parent_span_id"] for r in rs}
    agent_spans = {r.id for r in rs if r.op in ("invoke_agent", "create_agent")}
    out: dict[str, str | None] = {}
    for r in rs:
        chain: list[str] = []
        seen: set[str] = set()
        cur = parents.get(r.id)
        found: str | None = None
        while cur is not None and cur not in seen:
            if cur in agent_spans:
                found = cur
                break
            if cur in out and cur not in agent_spans:
                found = out[cur]
                break
            seen.add(cur)
            chain.append(cur)
            cur = parents.get(cur)
        out[r.id] = found
        for c in chain:
            if c not in out:
                out[c] = found
    return out
