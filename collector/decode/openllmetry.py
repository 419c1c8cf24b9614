"""OpenLLMetry / Traceloop attributes → normalized columns.

LLM spans: flattened ``gen_ai.prompt.N.{role,content,tool_call_id,tool_calls.K.*}`` and
``gen_ai.completion.N.{role,content,finish_reason,tool_calls.K.*,function_call.*}`` messages,
``llm.request.type`` (chat → chat, completion → text_completion, embedding → embeddings, rerank →
retrieval), ``llm.request.functions.N.*`` tool definitions, ``llm.usage.*`` tokens. The GenAI keys
these spans share with the semconv (``gen_ai.system``, ``gen_ai.usage.prompt_tokens``, ...) are
read by ``collector.decode.genai``.

Workflow spans: ``traceloop.span.kind`` workflow / task → invoke_workflow, agent → invoke_agent,
tool → execute_tool; ``traceloop.entity.name`` names the tool or agent, ``traceloop.entity.input``
/ ``output`` are the tool's arguments / result, or one user / assistant text message on workflow,
task and agent spans without messages.
"""

from __future__ import annotations

from typing import Any

from collector.decode.genai import Out, first, put, put_messages
from collector.decode.messages import Message, Part, normalize_message, text_message
from collector.decode.openinference import indexed
from collector.decode.values import as_int, as_text, dumps, loads_lenient

_REQUEST_TYPE = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
    "rerank": "retrieval",
}
_SPAN_KIND = {
    "workflow": "invoke_workflow",
    "task": "invoke_workflow",
    "agent": "invoke_agent",
    "tool": "execute_tool",
}


def _tool_calls(flat: dict[str, Any]) -> list[Part]:
    calls = [
        {
            "type": "tool_call",
            "id": c.get("id"),
            "name": c.get("name"),
            "arguments": loads_lenient(c.get("arguments")),
        }
        for c in indexed(flat, "tool_calls.")
    ]
    if "function_call.name" in flat:
        calls.append(
            {
                "type": "tool_call",
                "id": None,
                "name": flat["function_call.name"],
                "arguments": loads_lenient(flat.get("function_call.arguments")),
            }
        )
    return calls


def _messages(attrs: dict[str, Any], prefix: str, default_role: str) -> list[Message] | None:
    out: list[Message] = []
    for flat in indexed(attrs, prefix):
        body: dict[str, Any] = {"role": flat.get("role") or default_role, "content": flat.get("content")}
        if flat.get("tool_call_id") is not None:
            body["tool_call_id"] = flat["tool_call_id"]
        msg = normalize_message(body, default_role)
        msg["parts"].extend(_tool_calls(flat))
        if flat.get("finish_reason") is not None:
            msg["finish_reason"] = flat["finish_reason"]
        out.append(msg)
    return out or None


def _tool_definitions(attrs: dict[str, Any]) -> str | None:
    defs = []
    for fn in indexed(attrs, "llm.request.functions."):
        definition: dict[str, Any] = {"type": "function", "name": fn.get("name")}
        if fn.get("description") is not None:
            definition["description"] = fn["description"]
        if fn.get("parameters") is not None:
            definition["parameters"] = loads_lenient(fn["parameters"])
        defs.append(definition)
    return dumps(defs) if defs else None


def normalize(attrs: dict[str, Any], name: str, out: Out) -> None:
    """OpenLLMetry reading of one span into ``out`` (see the module docstring)."""
    kind = attrs.get("traceloop.span.kind")
    kind = kind if isinstance(kind, str) else None
    op = _REQUEST_TYPE.get(str(attrs.get("llm.request.type"))) or _SPAN_KIND.get(str(kind))
    put(out, "operation", op)
    put(out, "input_tokens", as_int(attrs.get("llm.usage.prompt_tokens")))
    put(out, "output_tokens", as_int(attrs.get("llm.usage.completion_tokens")))
    put(out, "reasoning_tokens", as_int(attrs.get("llm.usage.reasoning_tokens")))
    put(out, "tool_definitions", _tool_definitions(attrs))
    put(
        out,
        "conversation_id",
        as_text(
            first(
                attrs,
                (
                    "traceloop.association.properties.session_id",
                    "traceloop.association.properties.conversation_id",
                ),
            )
        ),
    )
    put_messages(out, "input_messages", _messages(attrs, "gen_ai.prompt.", "user"))
    put_messages(out, "output_messages", _messages(attrs, "gen_ai.completion.", "assistant"))

    entity = attrs.get("traceloop.entity.name")
    entity_in = attrs.get("traceloop.entity.input")
    entity_out = attrs.get("traceloop.entity.output")
    if kind == "tool":
        put(out, "tool_name", as_text(entity) if entity is not None else name)
        put(out, "tool_arguments", as_text(entity_in))
        put(out, "tool_result", as_text(entity_out))
    elif kind in _SPAN_KIND:
        if kind == "agent":
            put(out, "agent_name", as_text(entity))
        if entity_in is not None:
            put_messages(out, "input_messages", text_message("user", as_text(entity_in)))
        if entity_out is not None:
            put_messages(out, "output_messages", text_message("assistant", as_text(entity_out)))
