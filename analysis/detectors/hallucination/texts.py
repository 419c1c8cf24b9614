"""The texts of a span, cut into units the dashboard can point into.

A ``TextUnit`` is one string of one span: a message part's content, the tool arguments, the tool
result, memory records, ... Offsets of claims are offsets into ``TextUnit.text``; the unit's
``field`` / ``message`` / ``part`` say where that string lives in the span's columns (message parts
that hold structured values, such as ``tool_call`` arguments, are serialized with ``json.dumps``
semantics by orjson, so offsets refer to that serialization).

Each unit has a direction:
- ``input``: what the span received (system instructions, input messages, tool definitions, the
  tool arguments a tool received, the records a memory write stores);
- ``output``: what came back to the span from the world or was relayed (tool results, memory
  reads, the output of spans that only wrap others);
and ``emitted`` marks text the span's own agent authored: the output messages of a model or agent
span, the arguments of a tool call. Only emitted text can originate a claim.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from analysis.messages import loads

TOOL_OPS = frozenset({"execute_tool"})
MEMORY_WRITE_OPS = frozenset({"create_memory", "update_memory", "upsert_memory", "delete_memory"})
MEMORY_READ_OPS = frozenset({"search_memory"})
RETRIEVAL_OPS = frozenset({"retrieval", "embeddings"})


@dataclass(frozen=True)
class TextUnit:
    span_id: str
    field: str  # store.schema.SPANS column the text comes from
    message: int | None  # index of the message in the column's JSON array
    part: int | None  # index of the part within the message (or of the part in system_instructions)
    role: str | None  # the message's role (user, assistant, tool, system)
    text: str
    io: str  # "input" | "output"
    emitted: bool
    json_text: bool  # serialized JSON (quoted strings there are not quotations)
    tool: str | None = None  # the tool a ``tool_call`` part calls

    def location(self) -> dict[str, Any]:
        """Where the text lives, for evidence ``occurrences``."""
        loc: dict[str, Any] = {"span_id": self.span_id, "field": self.field}
        if self.message is not None:
            loc["message"] = self.message
        if self.part is not None:
            loc["part"] = self.part
        return loc


def _as_text(value: Any) -> tuple[str, bool]:
    """A part's payload as text; structured payloads serialized (json_text True)."""
    if isinstance(value, str):
        parsed = loads(value) if value[:1] in "{[" else None
        return value, parsed is not None
    if value is None:
        return "", False
    return orjson.dumps(value).decode(), True


def _part_payload(part: Mapping[str, Any]) -> Any:
    kind = part.get("type")
    if kind == "tool_call":
        return part.get("arguments")
    if kind == "tool_call_response":
        for key in ("response", "result", "content"):
            if key in part:
                return part[key]
        return None
    return part.get("content")


def _message_units(span_id: str, field: str, value: str | None, io: str, emitted: bool) -> Iterator[TextUnit]:
    raw = loads(value)
    if raw is None and value:  # not JSON: keep the plain text rather than lose it
        yield TextUnit(span_id, field, None, None, None, value, io, emitted, False)
        return
    if not isinstance(raw, list):
        return
    for mi, msg in enumerate(raw):
        if not isinstance(msg, dict):
            continue
        role = str(msg.get("role") or "") or None
        parts = msg.get("parts")
        if not isinstance(parts, list):
            parts = (
                [{"type": "text", "content": msg.get("content")}] if msg.get("content") is not None else []
            )
        for pi, part in enumerate(parts):
            if not isinstance(part, dict) or part.get("type") in ("reasoning", "blob"):
                continue
            text, is_json = _as_text(_part_payload(part))
            if text:
                # a tool result quoted back into the conversation is world data, never the model's
                own = emitted and part.get("type") != "tool_call_response"
                tool = str(part.get("name") or "") or None if part.get("type") == "tool_call" else None
                yield TextUnit(span_id, field, mi, pi, role, text, io, own, is_json, tool)


def _parts_units(span_id: str, field: str, value: str | None) -> Iterator[TextUnit]:
    raw = loads(value)
    if raw is None and value:
        yield TextUnit(span_id, field, None, None, "system", value, "input", False, False)
        return
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    for pi, part in enumerate(items):
        if isinstance(part, dict):
            text, is_json = _as_text(part.get("content"))
        else:
            text, is_json = _as_text(part)
        if text:
            yield TextUnit(span_id, field, None, pi, "system", text, "input", False, is_json)


def _plain(span_id: str, field: str, value: str | None, io: str, emitted: bool) -> Iterator[TextUnit]:
    if value:
        is_json = value[:1] in '{["' and loads(value) is not None
        yield TextUnit(span_id, field, None, None, None, value, io, emitted, is_json)


def span_units(row: Mapping[str, Any]) -> list[TextUnit]:
    """Every text unit of one span row (``store.schema.SPANS`` columns). Reasoning is left out: it
    is the model's private thinking, neither evidence for a claim nor a channel to other agents."""
    sid = row["span_id"]
    op = row.get("operation")
    is_tool = op in TOOL_OPS or (op is None and row.get("tool_name") is not None)
    units: list[TextUnit] = []
    units += _parts_units(sid, "system_instructions", row.get("system_instructions"))
    units += _plain(sid, "tool_definitions", row.get("tool_definitions"), "input", False)
    units += _message_units(sid, "input_messages", row.get("input_messages"), "input", False)
    units += _plain(sid, "tool_arguments", row.get("tool_arguments"), "input", is_tool)
    # a tool's result, or a retrieval span's documents (the collector puts them there)
    units += _plain(sid, "tool_result", row.get("tool_result"), "output", False)
    memory_io = "output" if op in MEMORY_READ_OPS else "input"
    units += _plain(sid, "memory_records", row.get("memory_records"), memory_io, False)
    # the key of shared state is addressing, known to every agent that uses the store
    units += _plain(sid, "memory_record_id", row.get("memory_record_id"), "input", False)
    units += _plain(sid, "db_query_text", row.get("db_query_text"), "input", False)
    # a tool or retrieval span's "output messages" are what the world returned, not authored text
    authored = not is_tool and op not in RETRIEVAL_OPS and op not in MEMORY_READ_OPS
    units += _message_units(sid, "output_messages", row.get("output_messages"), "output", authored)
    return units
