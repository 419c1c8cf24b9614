"""OpenInference (Arize / Phoenix) attributes → normalized columns.

Span kinds map onto ``gen_ai.operation.name``: LLM → chat, AGENT → invoke_agent, TOOL →
execute_tool, RETRIEVER and RERANKER → retrieval, EMBEDDING → embeddings, CHAIN → invoke_workflow;
GUARDRAIL, EVALUATOR, PROMPT and UNKNOWN have no GenAI equivalent and leave ``operation`` NULL (the
kind stays in the raw attributes).

Messages come from the flattened ``llm.input_messages.N.message.*`` / ``llm.output_messages.N...``
keys (``role``, ``content``, ``contents.M.message_content.{type,text,image.image.url}``,
``tool_calls.K.tool_call.{id,function.name,function.arguments}``, ``tool_call_id``, ``name``);
reasoning from content items of type ``reasoning`` or ``message.reasoning(_content)``. Without
them, ``input.value`` / ``output.value`` become the user / assistant messages (LLM, AGENT and CHAIN
spans): the ``messages`` of a JSON body (``*.mime_type`` application/json) or the JSON message
itself, else one text message.
On TOOL spans ``input.value`` / ``output.value`` are the call's arguments / result and
``tool.parameters`` (a JSON schema) becomes the tool's definition.

RETRIEVER spans: the documents (``retrieval.documents.N.document.{id,score,content,metadata}``;
RERANKER spans ``reranker.output_documents.N.document.*``) become ``tool_result`` as a JSON array
in the GenAI semconv retrieval-documents shape, ``[{"id", "score", "content", "metadata"}]``
(keys present only when recorded; ``metadata`` parsed when it is JSON), so that text the model was
given in the retrieved documents reads as world data returned by the span, like a tool result.
Without documents, ``output.value`` is the result as sent. ``input.value`` (the query) is not
mapped: it is in the raw attributes.
"""

from __future__ import annotations

from typing import Any

from collector.decode.genai import Out, first, put, put_messages
from collector.decode.messages import Message, Part, normalize_messages, text_message
from collector.decode.values import as_int, as_text, dumps, loads_lenient

_KIND_TO_OPERATION = {
    "LLM": "chat",
    "AGENT": "invoke_agent",
    "TOOL": "execute_tool",
    "RETRIEVER": "retrieval",
    "RERANKER": "retrieval",
    "EMBEDDING": "embeddings",
    "CHAIN": "invoke_workflow",
}
_VALUE_MESSAGE_KINDS = frozenset(["LLM", "AGENT", "CHAIN"])
#: span kind → flattened prefix of the documents it returns
_DOCUMENT_PREFIXES = {"RETRIEVER": "retrieval.documents.", "RERANKER": "reranker.output_documents."}


def indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Group flattened ``<prefix>N.<rest>`` keys into one dict per N (``rest`` → value), ordered
    by N. Keys whose N is not an integer are ignored."""
    groups: dict[int, dict[str, Any]] = {}
    n = len(prefix)
    for key, value in attrs.items():
        if key.startswith(prefix):
            idx, _, rest = key[n:].partition(".")
            if idx.isdigit() and rest:
                groups.setdefault(int(idx), {})[rest] = value
    return [groups[i] for i in sorted(groups)]


def _message(flat: dict[str, Any], default_role: str) -> Message:
    parts: list[Part] = []
    for item in indexed(flat, "message.contents."):
        kind = item.get("message_content.type", "text")
        if kind == "image":
            parts.append(
                {"type": "uri", "modality": "image", "uri": item.get("message_content.image.image.url")}
            )
        elif kind == "reasoning":
            parts.append({"type": "reasoning", "content": item.get("message_content.text")})
        else:
            parts.append({"type": "text", "content": item.get("message_content.text")})
    content = flat.get("message.content")
    role = flat.get("message.role") or default_role
    tool_call_id = flat.get("message.tool_call_id")
    if content is not None:
        if role == "tool" and tool_call_id is not None:
            parts.append({"type": "tool_call_response", "id": tool_call_id, "response": content})
        else:
            parts.append({"type": "text", "content": content})
    reasoning = first(flat, ("message.reasoning_content", "message.reasoning"))
    if reasoning is not None:
        parts.insert(0, {"type": "reasoning", "content": reasoning})
    for call in indexed(flat, "message.tool_calls."):
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("tool_call.id"),
                "name": call.get("tool_call.function.name"),
                "arguments": loads_lenient(call.get("tool_call.function.arguments")),
            }
        )
    msg: Message = {"role": role, "parts": parts}
    if flat.get("message.name") is not None:
        msg["name"] = flat["message.name"]
    return msg


def _messages(attrs: dict[str, Any], prefix: str, default_role: str) -> list[Message] | None:
    groups = indexed(attrs, prefix)
    return [_message(g, default_role) for g in groups] or None


def _tool_definitions(attrs: dict[str, Any], kind: str) -> str | None:
    defs = [loads_lenient(t.get("tool.json_schema")) for t in indexed(attrs, "llm.tools.")]
    defs = [d for d in defs if d is not None]
    if not defs and kind == "TOOL" and "tool.parameters" in attrs:
        definition: dict[str, Any] = {"type": "function", "name": attrs.get("tool.name")}
        if attrs.get("tool.description") is not None:
            definition["description"] = attrs["tool.description"]
        definition["parameters"] = loads_lenient(attrs["tool.parameters"])
        defs = [definition]
    return dumps(defs) if defs else None


def normalize(attrs: dict[str, Any], name: str, out: Out) -> None:
    """OpenInference reading of one span into ``out`` (see the module docstring)."""
    kind = str(attrs.get("openinference.span.kind", "")).upper()
    put(out, "operation", _KIND_TO_OPERATION.get(kind))
    put(out, "provider", as_text(first(attrs, ("llm.provider", "llm.system"))))
    model = as_text(attrs.get("llm.model_name"))
    params = loads_lenient(attrs.get("llm.invocation_parameters"))
    requested = params.get("model") if isinstance(params, dict) else None
    put(out, "request_model", as_text(requested) or model)
    put(out, "response_model", model)
    put(out, "input_tokens", as_int(attrs.get("llm.token_count.prompt")))
    put(out, "output_tokens", as_int(attrs.get("llm.token_count.completion")))
    put(out, "cache_read_tokens", as_int(attrs.get("llm.token_count.prompt_details.cache_read")))
    put(out, "cache_creation_tokens", as_int(attrs.get("llm.token_count.prompt_details.cache_write")))
    put(out, "reasoning_tokens", as_int(attrs.get("llm.token_count.completion_details.reasoning")))
    put(out, "conversation_id", as_text(attrs.get("session.id")))
    put(out, "tool_definitions", _tool_definitions(attrs, kind))

    if kind == "TOOL":
        put(out, "tool_name", as_text(attrs.get("tool.name")))
        put(out, "tool_call_id", as_text(first(attrs, ("tool_call.id", "tool.id"))))
        put(out, "tool_arguments", as_text(first(attrs, ("input.value", "tool.parameters"))))
        put(out, "tool_result", as_text(attrs.get("output.value")))
    if kind in _DOCUMENT_PREFIXES:
        documents = _documents(attrs, _DOCUMENT_PREFIXES[kind])
        put(out, "tool_result", documents or as_text(attrs.get("output.value")))
    if kind == "AGENT":
        put(out, "agent_name", as_text(first(attrs, ("agent.name", "graph.node.name"))) or name or None)
        put(out, "agent_id", as_text(attrs.get("graph.node.id")))

    put_messages(out, "input_messages", _messages(attrs, "llm.input_messages.", "user"))
    output = _messages(attrs, "llm.output_messages.", "assistant")
    put_messages(out, "output_messages", output)
    if kind in _VALUE_MESSAGE_KINDS:
        put_messages(out, "input_messages", _value_messages(attrs, "input", "user"))
        put_messages(out, "output_messages", _value_messages(attrs, "output", "assistant"))


def _value_messages(attrs: dict[str, Any], side: str, role: str) -> list[Message] | None:
    """``input.value`` / ``output.value`` as messages: a JSON body carrying ``messages`` (an LLM
    request) gives those, a JSON message itself, anything else is one text message, as sent."""
    value = attrs.get(f"{side}.value")
    if value is None:
        return None
    if attrs.get(f"{side}.mime_type") == "application/json":
        parsed = loads_lenient(value)
        if isinstance(parsed, dict) and isinstance(parsed.get("messages"), list):
            return normalize_messages(parsed["messages"], role)
        if isinstance(parsed, dict) and "role" in parsed:  # one message (an LLM response)
            return normalize_messages([parsed], role)
    return text_message(role, value)


def _documents(attrs: dict[str, Any], prefix: str) -> str | None:
    """Flattened ``<prefix>N.document.*`` keys as a JSON array of GenAI semconv retrieval documents
    (``id``, ``score``, ``content``, ``metadata``), in N order; None when there are none."""
    docs: list[dict[str, Any]] = []
    for flat in indexed(attrs, prefix):
        doc: dict[str, Any] = {}
        for field in ("id", "score", "content", "metadata"):
            value = flat.get(f"document.{field}")
            if value is not None:
                doc[field] = loads_lenient(value) if field == "metadata" else value
        if doc:
            docs.append(doc)
    return dumps(docs) if docs else None
