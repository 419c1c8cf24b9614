"""Reading the normalized message columns (``store.schema``: GenAI semconv >= 1.37 shape) for
detectors. Every helper is total: malformed JSON reads as "no messages", never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WS = re.compile(r"\s+")


def normalize_agent(name: str) -> str:
    """Agent names compared loosely: ``Billing-Agent`` == ``billing_agent`` == ``billingagent``."""
    return _NON_ALNUM.sub("", name.lower())


def loads(value: str | None) -> Any:
    """JSON text → value; None for NULL or malformed text."""
    if not value:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def canonical_json(value: Any) -> str:
    """A comparable form of a JSON value (sorted keys); strings that hold JSON are parsed first."""
    if isinstance(value, str):
        parsed = loads(value)
        if parsed is None:
            return _WS.sub(" ", value.strip())
        value = parsed
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True)
class Message:
    role: str
    text: str  # text parts joined
    parts: tuple[dict[str, Any], ...]

    def tool_calls(self) -> list[ToolCall]:
        return [_tool_call(p) for p in self.parts if p.get("type") == "tool_call"]


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # canonical JSON
    call_id: str | None


def _tool_call(part: dict[str, Any]) -> ToolCall:
    return ToolCall(str(part.get("name") or ""), canonical_json(part.get("arguments")), part.get("id"))


def parse_messages(value: str | None) -> list[Message]:
    raw = loads(value)
    if not isinstance(raw, list):
        return []
    out: list[Message] = []
    for m in raw:
        if not isinstance(m, dict):
            continue
        parts = tuple(p for p in (m.get("parts") or []) if isinstance(p, dict))
        text = "\n".join(str(p.get("content") or "") for p in parts if p.get("type") == "text")
        if not parts and isinstance(m.get("content"), str):  # tolerate the flat legacy shape
            text = m["content"]
        out.append(Message(str(m.get("role") or ""), text, parts))
    return out


def text_of(value: str | None) -> str:
    """All text and reasoning content of a message column (or a parts array), joined."""
    raw = loads(value)
    if raw is None:
        return value or ""
    chunks: list[str] = []
    _collect_text(raw, chunks)
    return "\n".join(chunks)


def _collect_text(node: Any, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, list):
        for x in node:
            _collect_text(x, out)
    elif isinstance(node, dict):
        for key in ("content", "response", "result", "arguments"):
            if key in node:
                _collect_text(node[key], out)
        if "parts" in node:
            _collect_text(node["parts"], out)


def normalize_text(text: str) -> str:
    """Whitespace-collapsed, lowercase: for near-identical comparisons."""
    return _WS.sub(" ", text.strip().lower())


_TOKEN = re.compile(r"[a-z0-9_]+")


def token_set(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.lower()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def message_fingerprint(m: Message) -> str:
    """Identity of a message for history comparisons: role + normalized text + tool call ids."""
    calls = ",".join(f"{c.name}:{c.arguments}" for c in m.tool_calls())
    responses = ",".join(str(p.get("id") or "") for p in m.parts if p.get("type") == "tool_call_response")
    return f"{m.role}|{normalize_text(m.text)}|{calls}|{responses}"


def unwrap_arguments(value: Any) -> Any:
    """Tool arguments as the call's keyword arguments: OpenLLMetry records a Python call as
    ``{"args": [...], "kwargs": {...}}``; unwrap that so every convention reads alike."""
    if isinstance(value, str):
        value = loads(value)
    if (
        isinstance(value, dict)
        and value
        and set(value) <= {"args", "kwargs"}
        and isinstance(value.get("kwargs"), dict)
    ):
        out = dict(value["kwargs"])
        if value.get("args"):
            out.setdefault("args", value["args"])
        return out
    return value
