"""Stored message JSON (GenAI semconv >= 1.37 shape, see ``store.schema``) into flat, typed pieces
the renderer turns into escaped text. Tolerant: anything that is not the expected shape is shown
as its raw text rather than dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Piece:
    """One displayable piece of a message: ``kind`` is text, reasoning, tool_call, tool_result,
    media or raw; ``label`` a short heading (tool name, mime type); ``text`` the content."""

    kind: str
    text: str
    label: str = ""


@dataclass(frozen=True)
class Message:
    role: str
    pieces: tuple[Piece, ...]
    name: str = ""
    finish_reason: str = ""


def as_text(value: Any) -> str:
    """A JSON value as display text: strings verbatim, everything else as indented JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False)


def pretty(text: str | None) -> str:
    """Stored JSON text re-indented for reading (strings unwrapped); other text unchanged."""
    if not text:
        return ""
    try:
        return as_text(json.loads(text))
    except ValueError:
        return text


def _piece(part: Any) -> Piece:
    if not isinstance(part, dict):
        return Piece("text" if isinstance(part, str) else "raw", as_text(part))
    kind = part.get("type")
    if kind == "text":
        return Piece("text", as_text(part.get("content")))
    if kind == "reasoning":
        return Piece("reasoning", as_text(part.get("content")))
    if kind == "tool_call":
        return Piece("tool_call", as_text(part.get("arguments")), label=str(part.get("name") or "tool"))
    if kind == "tool_call_response":
        result = part.get("response", part.get("result"))
        return Piece("tool_result", as_text(result), label=str(part.get("id") or ""))
    if kind in ("blob", "uri", "file"):
        label = " ".join(str(part.get(k)) for k in ("modality", "mime_type") if part.get(k))
        where = (
            part.get("uri") or part.get("file_id") or f"{len(str(part.get('content') or ''))} bytes inline"
        )
        return Piece("media", f"[{kind}] {where}", label=label)
    return Piece("raw", as_text(part))


def parse_messages(text: str | None) -> list[Message]:
    """A stored ``input_messages`` / ``output_messages`` value as messages; a value that is not a
    message list becomes one message of role ``raw`` holding its text."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [Message("raw", (Piece("raw", text),))]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return [Message("raw", (Piece("text", as_text(value)),))]
    out = []
    for msg in value:
        if not isinstance(msg, dict):
            out.append(Message("raw", (_piece(msg),)))
            continue
        parts = msg.get("parts")
        if not isinstance(parts, list):
            parts = [{"type": "text", "content": msg.get("content")}] if "content" in msg else [msg]
        out.append(
            Message(
                role=str(msg.get("role") or "message"),
                pieces=tuple(_piece(p) for p in parts),
                name=str(msg.get("name") or ""),
                finish_reason=str(msg.get("finish_reason") or ""),
            )
        )
    return out


def parse_parts(text: str | None) -> list[Piece]:
    """System instructions (a JSON array of parts) as pieces."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [Piece("text", text)]
    if isinstance(value, list):
        return [_piece(p) for p in value]
    return [_piece(value)]
