"""GenAI events (span events or log records) to the messages they carry.

Shared by span decoding (deprecated per-message span events) and log decoding (GenAI events as log
records), so that both paths produce the same normalized messages:

- ``gen_ai.client.inference.operation.details`` (semconv >= 1.37): ``gen_ai.input.messages``,
  ``gen_ai.output.messages``, ``gen_ai.system_instructions`` in its attributes (or body);
- deprecated per-message events ``gen_ai.system.message``, ``gen_ai.user.message``,
  ``gen_ai.assistant.message``, ``gen_ai.tool.message`` (input side) and ``gen_ai.choice`` (output);
- the oldest span events ``gen_ai.content.prompt`` / ``gen_ai.content.completion`` carrying
  ``gen_ai.prompt`` / ``gen_ai.completion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collector.decode.messages import (
    Message,
    Part,
    normalize_message,
    normalize_messages,
    normalize_system,
    system_from_messages,
)

_INPUT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
MESSAGE_EVENTS = frozenset(
    [*_INPUT_ROLES, "gen_ai.choice", DETAILS_EVENT, "gen_ai.content.prompt", "gen_ai.content.completion"]
)


@dataclass
class EventMessages:
    """What a sequence of events contributes; ``None`` fields contribute nothing."""

    input: list[Message] | None = None
    output: list[Message] | None = None
    system: list[Part] | None = None
    _system_explicit: bool = field(default=False, repr=False)


def _extend(current: list[Any] | None, more: list[Any] | None) -> list[Any] | None:
    # In place, so a span with many events stays linear; the first list is copied so that a
    # JsonList (whose text is reused as is) is never extended behind its text's back.
    if not more:
        return current
    if current is None:
        return list(more)
    current.extend(more)
    return current


def add_event(acc: EventMessages, name: str, payload: dict[str, Any]) -> None:
    """Fold one event (``payload`` = its attributes, merged with a map body) into ``acc``."""
    if name == DETAILS_EVENT:
        acc.input = _extend(acc.input, normalize_messages(payload.get("gen_ai.input.messages"), "user"))
        acc.output = _extend(
            acc.output, normalize_messages(payload.get("gen_ai.output.messages"), "assistant")
        )
        system = normalize_system(payload.get("gen_ai.system_instructions"))
        if system:
            acc.system = _extend(acc.system if acc._system_explicit else None, system)
            acc._system_explicit = True
        return
    role = _INPUT_ROLES.get(name)
    if role is not None:
        body = dict(payload)
        body.setdefault("role", role)
        if role == "tool" and "tool_call_id" not in body and "id" in body:
            body["tool_call_id"] = body["id"]
        acc.input = _extend(acc.input, [normalize_message(body, role)])
    elif name == "gen_ai.choice":
        acc.output = _extend(acc.output, [normalize_message(payload, "assistant")])
    elif name == "gen_ai.content.prompt":
        acc.input = _extend(acc.input, normalize_messages(payload.get("gen_ai.prompt"), "user"))
    elif name == "gen_ai.content.completion":
        acc.output = _extend(acc.output, normalize_messages(payload.get("gen_ai.completion"), "assistant"))


def finish(acc: EventMessages) -> EventMessages:
    """Derive system instructions from system-role input messages when none were explicit."""
    if not acc._system_explicit:
        acc.system = system_from_messages(acc.input)
    return acc
