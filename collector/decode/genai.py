"""OTel GenAI semantic conventions (>= 1.37, plus their deprecated forms) → normalized columns.

Every ``normalize`` function of the convention modules writes into ``out`` (column name → value)
through ``put``, which never overwrites: the first convention to name a column wins, so a span
carrying several conventions gets its most specific reading first.

Accepted variants (the first listed wins, whatever the attributes' order):

- operation: ``gen_ai.operation.name``; the non-standard ``call_llm`` (any-agent) → ``chat``;
  else the first word of the span name when it is a known operation (``chat gpt-4o``).
- provider: ``gen_ai.provider.name``, deprecated ``gen_ai.system``.
- tokens: ``gen_ai.usage.input_tokens`` / deprecated ``prompt_tokens``; ``output_tokens`` /
  ``completion_tokens``; ``cache_read.input_tokens`` / ``cache_read_input_tokens``;
  ``cache_creation.input_tokens`` / ``cache_write.input_tokens`` / ``cache_creation_input_tokens``;
  ``reasoning.output_tokens`` / ``output_tokens.reasoning`` / ``reasoning_tokens``.
- tool call: ``gen_ai.tool.call.arguments`` / ``gen_ai.tool.args``; ``gen_ai.tool.call.result`` /
  ``gen_ai.output`` on ``execute_tool`` spans (any-agent).
- messages: ``gen_ai.input.messages`` / deprecated ``gen_ai.prompt``; ``gen_ai.output.messages`` /
  ``gen_ai.completion`` / any-agent's ``gen_ai.output``; then per-message span events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from collector.decode import events as ev
from collector.decode.messages import (
    Message,
    normalize_messages,
    normalize_system,
    system_from_messages,
    text_message,
)
from collector.decode.values import as_int, as_text, dumps, loads_lenient

Out = dict[str, Any]

KNOWN_OPERATIONS = frozenset(
    [
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "retrieval",
        "execute_tool",
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
        "search_memory",
        "create_memory",
        "update_memory",
        "upsert_memory",
        "delete_memory",
    ]
)
_OPERATION_ALIASES = {"call_llm": "chat", "completion": "text_completion", "embedding": "embeddings"}
AGENT_OPERATIONS = frozenset(["invoke_agent", "create_agent"])

_INT32 = 2**31


def _operation(value: Any) -> str | None:
    return _OPERATION_ALIASES.get(value, value) if isinstance(value, str) and value else None


def _input_messages(value: Any) -> list[Message] | None:
    return normalize_messages(value, "user")


def _output_messages(value: Any) -> list[Message] | None:
    return normalize_messages(value, "assistant")


def _http_status(value: Any) -> int | None:
    status = as_int(value)
    return status if status is not None and -_INT32 <= status < _INT32 else None


def json_array(value: Any) -> str | None:
    """A structured attribute (JSON text or AnyValue) as a JSON array; scalars become [scalar]."""
    value = loads_lenient(value)
    if value is None:
        return None
    return dumps(value if isinstance(value, list) else [value])


#: Attribute key → (column, converter, rank). Among keys naming the same column the lowest rank
#: wins, whatever their order in the span; a converter returning None sets nothing. Looked up once
#: per attribute present, so the cost follows the span's size, not the number of known keys.
KEY_TABLE: dict[str, tuple[str, Callable[[Any], Any], int]] = {
    "gen_ai.operation.name": ("operation", _operation, 0),
    "gen_ai.provider.name": ("provider", as_text, 0),
    "gen_ai.system": ("provider", as_text, 1),
    "gen_ai.request.model": ("request_model", as_text, 0),
    "gen_ai.response.model": ("response_model", as_text, 0),
    "gen_ai.agent.name": ("agent_name", as_text, 0),
    "gen_ai.agent.id": ("agent_id", as_text, 0),
    "gen_ai.conversation.id": ("conversation_id", as_text, 0),
    "gen_ai.tool.name": ("tool_name", as_text, 0),
    "gen_ai.tool.call.id": ("tool_call_id", as_text, 0),
    "gen_ai.tool.type": ("tool_type", as_text, 0),
    "gen_ai.tool.call.arguments": ("tool_arguments", as_text, 0),
    "gen_ai.tool.args": ("tool_arguments", as_text, 1),
    "gen_ai.tool.call.result": ("tool_result", as_text, 0),
    "gen_ai.tool.definitions": ("tool_definitions", json_array, 0),
    "gen_ai.retrieval.documents": ("tool_result", json_array, 1),  # retrieval spans: the documents found
    "gen_ai.usage.input_tokens": ("input_tokens", as_int, 0),
    "gen_ai.usage.prompt_tokens": ("input_tokens", as_int, 1),
    "gen_ai.usage.output_tokens": ("output_tokens", as_int, 0),
    "gen_ai.usage.completion_tokens": ("output_tokens", as_int, 1),
    "gen_ai.usage.cache_read.input_tokens": ("cache_read_tokens", as_int, 0),
    "gen_ai.usage.cache_read_input_tokens": ("cache_read_tokens", as_int, 1),
    "gen_ai.usage.cache_creation.input_tokens": ("cache_creation_tokens", as_int, 0),
    "gen_ai.usage.cache_write.input_tokens": ("cache_creation_tokens", as_int, 1),
    "gen_ai.usage.cache_creation_input_tokens": ("cache_creation_tokens", as_int, 2),
    "gen_ai.usage.reasoning.output_tokens": ("reasoning_tokens", as_int, 0),
    "gen_ai.usage.output_tokens.reasoning": ("reasoning_tokens", as_int, 1),
    "gen_ai.usage.reasoning_tokens": ("reasoning_tokens", as_int, 2),
    "gen_ai.response.finish_reasons": ("finish_reasons", json_array, 0),
    "gen_ai.memory.store.id": ("memory_store_id", as_text, 0),
    "gen_ai.memory.record.id": ("memory_record_id", as_text, 0),
    "gen_ai.memory.records": ("memory_records", as_text, 0),
    "faultlens.memory.version": ("memory_version", as_text, 0),
    "gen_ai.input.messages": ("input_messages", _input_messages, 0),
    "gen_ai.prompt": ("input_messages", _input_messages, 1),
    "gen_ai.output.messages": ("output_messages", _output_messages, 0),
    "gen_ai.completion": ("output_messages", _output_messages, 1),
    "gen_ai.system_instructions": ("system_instructions", normalize_system, 0),
    # convention-independent columns
    "error.type": ("error_type", as_text, 0),
    "http.response.status_code": ("http_status_code", _http_status, 0),
    "http.status_code": ("http_status_code", _http_status, 1),
    "db.system.name": ("db_system", as_text, 0),
    "db.system": ("db_system", as_text, 1),
    "db.operation.name": ("db_operation", as_text, 0),
    "db.operation": ("db_operation", as_text, 1),
    "db.query.text": ("db_query_text", as_text, 0),
    "db.statement": ("db_query_text", as_text, 1),
}


#: ``KEY_TABLE`` for the hot loop: each spec also names the value type its converter returns
#: unchanged (attribute strings for ``as_text``, int64s for ``as_int``), so that most values skip
#: the call.
_DISPATCH: dict[str, tuple[str, Callable[[Any], Any], int, type | None]] = {
    key: (column, convert, rank, str if convert is as_text else int if convert is as_int else None)
    for key, (column, convert, rank) in KEY_TABLE.items()
}


def apply_key_table(attrs: dict[str, Any], out: Out) -> None:
    """Fill ``out`` from the attributes ``KEY_TABLE`` knows. Columns already in ``out`` (set by a
    more specific convention) are kept."""
    ranks: dict[str, int] = {}
    spec_of = _DISPATCH.get
    for key, value in attrs.items():
        spec = spec_of(key)
        if spec is None or value is None:
            continue
        column, convert, rank, unchanged = spec
        if column in out:
            previous = ranks.get(column)
            if previous is None or previous <= rank:
                continue
        converted = value if type(value) is unchanged else convert(value)
        if converted is not None:
            out[column] = converted
            ranks[column] = rank


def put(out: Out, column: str, value: Any) -> None:
    """Set ``column`` unless it is already set or ``value`` is None."""
    if value is not None and out.get(column) is None:
        out[column] = value


def first(attrs: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            return value
    return None


def operation_name(value: Any, span_name: str) -> str | None:
    if isinstance(value, str) and value:
        return _OPERATION_ALIASES.get(value, value)
    head = span_name.split(" ", 1)[0]
    return head if head in KNOWN_OPERATIONS else None


def put_messages(out: Out, column: str, messages: list[Message] | None) -> None:
    if messages:
        put(out, column, messages)


def normalize(
    attrs: dict[str, Any], name: str, span_events: Sequence[tuple[str, dict[str, Any]]], out: Out
) -> None:
    """The GenAI semconv readings ``apply_key_table`` cannot make alone: the operation from the span
    name, any-agent's ``gen_ai.output``, and messages from span events. Runs after it."""
    op = out.get("operation")
    if op is None:
        op = operation_name(None, name)
        put(out, "operation", op)
    if "gen_ai.output" in attrs:
        if op == "execute_tool":
            put(out, "tool_result", as_text(attrs["gen_ai.output"]))
        elif out.get("output_messages") is None:
            put_messages(out, "output_messages", _any_agent_output(attrs["gen_ai.output"]))
    if op in AGENT_OPERATIONS and "pydantic_ai.all_messages" in attrs:
        _pydantic_ai_run(attrs, out)
    if span_events and (out.get("input_messages") is None or out.get("output_messages") is None):
        _from_events(span_events, out)


def _pydantic_ai_run(attrs: dict[str, Any], out: Out) -> None:
    """pydantic-ai's agent run span carries the whole conversation instead of input/output
    messages: its leading user/system messages are the run's input, ``final_result`` (else the
    last message) its output."""
    messages = normalize_messages(attrs["pydantic_ai.all_messages"], "user")
    if not messages:
        return
    lead = 0
    while lead < len(messages) and messages[lead].get("role") in ("user", "system"):
        lead += 1
    put_messages(out, "input_messages", messages[:lead])
    if "final_result" in attrs:
        put_messages(out, "output_messages", text_message("assistant", as_text(attrs["final_result"])))
    elif lead < len(messages):
        put_messages(out, "output_messages", messages[-1:])


def _any_agent_output(value: Any) -> list[Message] | None:
    """any-agent's ``gen_ai.output``: a list of ``{"tool.name", "tool.args"}`` calls, or text."""
    parsed = loads_lenient(value)
    if isinstance(parsed, list) and parsed and all(isinstance(c, dict) and "tool.name" in c for c in parsed):
        parts = [
            {
                "type": "tool_call",
                "id": None,
                "name": c["tool.name"],
                "arguments": loads_lenient(c.get("tool.args")),
            }
            for c in parsed
        ]
        return [{"role": "assistant", "parts": parts}]
    return text_message("assistant", value if isinstance(value, str) else dumps(value))


def _from_events(span_events: Sequence[tuple[str, dict[str, Any]]], out: Out) -> None:
    acc = ev.EventMessages()
    for event_name, payload in span_events:
        if event_name in ev.MESSAGE_EVENTS:
            ev.add_event(acc, event_name, payload)
    ev.finish(acc)
    put_messages(out, "input_messages", acc.input)
    put_messages(out, "output_messages", acc.output)
    put(out, "system_instructions", acc.system)


_AGENT_NAME_KEYS = ("agent.name", "graph.node.name", "traceloop.entity.name")


def agent_identity(attrs: dict[str, Any], name: str, out: Out) -> None:
    """Agent spans name their agent (gen_ai.agent.*, OpenInference ``agent.name`` /
    ``graph.node.*``, Traceloop ``traceloop.entity.name``, or the span name after the operation);
    other spans carry an agent only through ``gen_ai.agent.*``."""
    op = out.get("operation")
    if op not in AGENT_OPERATIONS:
        return
    # Each fallback is looked up only when the column is still empty (usually gen_ai.agent.* set it).
    if out.get("agent_name") is None:
        put(out, "agent_name", as_text(first(attrs, _AGENT_NAME_KEYS)))
        head, _, rest = name.partition(" ")
        if head == op and rest:
            put(out, "agent_name", rest)
    if out.get("agent_id") is None:
        put(out, "agent_id", as_text(attrs.get("graph.node.id")))


def system_fallback(out: Out) -> None:
    put(out, "system_instructions", system_from_messages(out.get("input_messages")))
