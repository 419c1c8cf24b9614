"""Convention-neutral building blocks of a scenario: messages, tool definitions, failures, labels.

Scenarios describe what agents saw, said and did with these types; a convention module
(``sample_traces.scenarios.conventions``) turns them into span attributes. Messages follow the
GenAI semconv >= 1.37 shape (role + parts), which every other convention can be rendered from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Json = Any  # a JSON-serialisable value (dict / list / str / number / bool / None)


@dataclass(frozen=True)
class Text:
    content: str


@dataclass(frozen=True)
class Reasoning:
    content: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Mapping[str, Json]


@dataclass(frozen=True)
class ToolResponse:
    id: str
    response: Json


Part = Text | Reasoning | ToolCall | ToolResponse
Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class Message:
    role: Role
    parts: tuple[Part, ...]
    finish_reason: str | None = None

    @property
    def text(self) -> str:
        """The concatenated text parts (what flattened conventions call ``content``)."""
        return "\n".join(p.content for p in self.parts if isinstance(p, Text))

    @property
    def reasoning(self) -> str:
        return "\n".join(p.content for p in self.parts if isinstance(p, Reasoning))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(p for p in self.parts if isinstance(p, ToolCall))

    @property
    def tool_responses(self) -> tuple[ToolResponse, ...]:
        return tuple(p for p in self.parts if isinstance(p, ToolResponse))


def user(text: str) -> Message:
    return Message("user", (Text(text),))


def assistant(
    text: str = "", *, reasoning: str = "", calls: Sequence[ToolCall] = (), finish: str | None = None
) -> Message:
    """An assistant turn; ``finish`` defaults to ``tool_call`` when it calls tools, else ``stop``."""
    parts: list[Part] = []
    if reasoning:
        parts.append(Reasoning(reasoning))
    if text:
        parts.append(Text(text))
    parts.extend(calls)
    return Message("assistant", tuple(parts), finish or ("tool_call" if calls else "stop"))


def tool_result(call: ToolCall, response: Json) -> Message:
    return Message("tool", (ToolResponse(call.id, response),))


@dataclass(frozen=True)
class ToolDef:
    name: str
    description: str
    parameters: Mapping[str, Json] = field(default_factory=dict)

    def schema(self) -> dict[str, Json]:
        """The JSON-schema function declaration (semconv ``gen_ai.tool.definitions`` item)."""
        props = {k: {"type": v} if isinstance(v, str) else v for k, v in self.parameters.items()}
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": {"type": "object", "properties": props, "required": sorted(props)},
        }


@dataclass(frozen=True)
class Usage:
    input: int
    output: int
    reasoning: int = 0
    cache_read: int = 0


@dataclass(frozen=True)
class Failure:
    """How a span failed: becomes ``error.type``, status ERROR with ``message`` and an ``exception``
    event. ``http_status`` adds ``http.response.status_code``; ``grpc_status`` adds
    ``rpc.grpc.status_code`` (e.g. 4 = DEADLINE_EXCEEDED)."""

    error_type: str
    message: str
    http_status: int | None = None
    grpc_status: int | None = None


def timeout(
    message: str = "request timed out", *, kind: str = "TimeoutError", http: int | None = None
) -> Failure:
    return Failure(kind, message, http_status=http)


@dataclass(frozen=True)
class Expected:
    """One finding a correct detector reports on a scenario trace (docs/findings-vocabulary.md)."""

    detector: str
    kind: str
    origin_span_id: str
    span_ids: tuple[str, ...]
    #: hallucination kinds: the fabricated text (claim, invented entity or undeclared tool name)
    claim: str = ""

    def as_json(self) -> dict[str, Json]:
        ids = [self.origin_span_id, *(s for s in self.span_ids if s != self.origin_span_id)]
        out: dict[str, Json] = {
            "detector": self.detector,
            "kind": self.kind,
            "origin_span_id": self.origin_span_id,
            "span_ids": list(dict.fromkeys(ids)),
        }
        if self.claim:
            out["claim"] = self.claim
        return out


def dumps(value: Json) -> str:
    """Compact, key-order-preserving JSON: attribute values must be byte-stable across runs."""
    return orjson.dumps(value).decode()
