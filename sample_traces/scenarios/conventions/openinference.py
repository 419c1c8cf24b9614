"""OpenInference (Arize Phoenix): ``openinference.span.kind``, flattened ``llm.*_messages.N.message.*``,
``input.value`` / ``output.value``, ``tool.*``. Reasoning travels inside the content as a
``<think>`` block, as reasoning models served through OpenAI-compatible APIs emit it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from sample_traces.scenarios.conventions import AgentRec, ChatRec, ConventionName, Emission, ToolRec
from sample_traces.scenarios.model import Message, dumps


def flat_content(msg: Message) -> str:
    """The message text with any reasoning prepended as ``<think>…</think>``."""
    if msg.reasoning:
        return f"<think>{msg.reasoning}</think>\n{msg.text}".rstrip()
    return msg.text


def _messages(prefix: str, msgs: Sequence[Message], attrs: dict[str, AttributeValue], i: int = 0) -> None:
    for msg in msgs:
        responses = msg.tool_responses
        if responses:
            # OpenInference has one tool message per tool result
            for r in responses:
                base = f"{prefix}.{i}.message"
                attrs[f"{base}.role"] = "tool"
                attrs[f"{base}.tool_call_id"] = r.id
                attrs[f"{base}.content"] = r.response if isinstance(r.response, str) else dumps(r.response)
                i += 1
            continue
        base = f"{prefix}.{i}.message"
        attrs[f"{base}.role"] = msg.role
        content = flat_content(msg)
        if content:
            attrs[f"{base}.content"] = content
        for j, call in enumerate(msg.tool_calls):
            tc = f"{base}.tool_calls.{j}.tool_call"
            attrs[f"{tc}.id"] = call.id
            attrs[f"{tc}.function.name"] = call.name
            attrs[f"{tc}.function.arguments"] = dumps(dict(call.arguments))
        i += 1


class OpenInference:
    name: ClassVar[ConventionName] = "openinference"
    scope: ClassVar[tuple[str, str]] = ("openinference.instrumentation.langchain", "0.1.51")

    def agent(self, rec: AgentRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "openinference.span.kind": "AGENT",
            "agent.name": rec.name,
            "session.id": rec.conversation_id,
            "graph.node.id": rec.agent_id,
        }
        if rec.input is not None:
            attrs["input.value"] = rec.input
            attrs["input.mime_type"] = "text/plain"
        if rec.output is not None:
            attrs["output.value"] = rec.output
            attrs["output.mime_type"] = "text/plain"
        return Emission(rec.name, SpanKind.INTERNAL, attrs)

    def chat(self, rec: ChatRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "openinference.span.kind": "LLM",
            "llm.model_name": rec.model,
            "llm.provider": rec.provider,
            "llm.system": rec.provider,
            "session.id": rec.conversation_id,
        }
        first = 0
        if rec.system:
            attrs["llm.input_messages.0.message.role"] = "system"
            attrs["llm.input_messages.0.message.content"] = rec.system
            first = 1
        _messages("llm.input_messages", rec.input, attrs, first)
        _messages("llm.output_messages", rec.output, attrs)
        if rec.temperature is not None:
            attrs["llm.invocation_parameters"] = dumps({"temperature": rec.temperature})
        for i, t in enumerate(rec.tools):
            attrs[f"llm.tools.{i}.tool.json_schema"] = dumps(t.schema())
        if rec.usage is not None:
            attrs["llm.token_count.prompt"] = rec.usage.input
            attrs["llm.token_count.completion"] = rec.usage.output
            attrs["llm.token_count.total"] = rec.usage.input + rec.usage.output
            if rec.usage.reasoning:
                attrs["llm.token_count.completion_details.reasoning"] = rec.usage.reasoning
            if rec.usage.cache_read:
                attrs["llm.token_count.prompt_details.cache_read"] = rec.usage.cache_read
        last_user = next((m.text for m in reversed(rec.input) if m.role == "user"), "")
        attrs["input.value"] = last_user
        attrs["input.mime_type"] = "text/plain"
        if rec.output:
            attrs["output.value"] = flat_content(rec.output[-1])
            attrs["output.mime_type"] = "text/plain"
        return Emission(
            "ChatOpenAI" if rec.provider == "openai" else "ChatAnthropic", SpanKind.INTERNAL, attrs
        )

    def tool(self, rec: ToolRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "openinference.span.kind": "TOOL",
            "tool.name": rec.name,
            "tool_call.id": rec.call_id,
            "input.value": dumps(dict(rec.arguments)),
            "input.mime_type": "application/json",
        }
        if rec.description:
            attrs["tool.description"] = rec.description
        if rec.result is not None:
            attrs["output.value"] = rec.result if isinstance(rec.result, str) else dumps(rec.result)
            attrs["output.mime_type"] = "text/plain" if isinstance(rec.result, str) else "application/json"
        return Emission(rec.name, SpanKind.INTERNAL, attrs)
