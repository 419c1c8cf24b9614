"""OpenLLMetry / Traceloop: ``traceloop.span.kind`` + ``traceloop.entity.*`` on agent and tool spans,
flattened ``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*`` and ``llm.usage.*`` on LLM spans, the
function declarations as ``llm.request.functions.N.*``. Reasoning travels as a ``<think>`` block."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from sample_traces.scenarios.conventions import AgentRec, ChatRec, ConventionName, Emission, ToolRec
from sample_traces.scenarios.conventions.openinference import flat_content
from sample_traces.scenarios.model import Message, dumps


def _flatten(prefix: str, msgs: Sequence[Message], attrs: dict[str, AttributeValue], i: int = 0) -> None:
    for msg in msgs:
        responses = msg.tool_responses
        if responses:
            for r in responses:
                attrs[f"{prefix}.{i}.role"] = "tool"
                attrs[f"{prefix}.{i}.tool_call_id"] = r.id
                attrs[f"{prefix}.{i}.content"] = (
                    r.response if isinstance(r.response, str) else dumps(r.response)
                )
                i += 1
            continue
        attrs[f"{prefix}.{i}.role"] = msg.role
        content = flat_content(msg)
        if content:
            attrs[f"{prefix}.{i}.content"] = content
        if msg.finish_reason is not None and prefix.endswith("completion"):
            attrs[f"{prefix}.{i}.finish_reason"] = msg.finish_reason
        for j, call in enumerate(msg.tool_calls):
            attrs[f"{prefix}.{i}.tool_calls.{j}.id"] = call.id
            attrs[f"{prefix}.{i}.tool_calls.{j}.name"] = call.name
            attrs[f"{prefix}.{i}.tool_calls.{j}.arguments"] = dumps(dict(call.arguments))
        i += 1


class OpenLLMetry:
    name: ClassVar[ConventionName] = "openllmetry"
    scope: ClassVar[tuple[str, str]] = ("opentelemetry.instrumentation.openai.v1", "0.47.3")

    def agent(self, rec: AgentRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "traceloop.span.kind": "agent",
            "traceloop.entity.name": rec.name,
            "traceloop.workflow.name": workflow,
            "traceloop.association.properties.session_id": rec.conversation_id,
        }
        if rec.input is not None:
            attrs["traceloop.entity.input"] = dumps({"args": [rec.input], "kwargs": {}})
        if rec.output is not None:
            attrs["traceloop.entity.output"] = dumps(rec.output)
        return Emission(f"{rec.name}.agent", SpanKind.INTERNAL, attrs)

    def chat(self, rec: ChatRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "llm.request.type": "chat",
            "gen_ai.system": rec.provider,
            "gen_ai.request.model": rec.model,
            "traceloop.workflow.name": workflow,
        }
        if rec.temperature is not None:
            attrs["gen_ai.request.temperature"] = rec.temperature
        first = 0
        if rec.system:
            attrs["gen_ai.prompt.0.role"] = "system"
            attrs["gen_ai.prompt.0.content"] = rec.system
            first = 1
        _flatten("gen_ai.prompt", rec.input, attrs, first)
        _flatten("gen_ai.completion", rec.output, attrs)
        for i, t in enumerate(rec.tools):
            schema = t.schema()
            attrs[f"llm.request.functions.{i}.name"] = t.name
            attrs[f"llm.request.functions.{i}.description"] = t.description
            attrs[f"llm.request.functions.{i}.parameters"] = dumps(schema["parameters"])
        if rec.output:
            attrs["gen_ai.response.model"] = rec.model
            attrs["gen_ai.response.id"] = rec.response_id
        if rec.usage is not None:
            attrs["gen_ai.usage.prompt_tokens"] = rec.usage.input
            attrs["gen_ai.usage.completion_tokens"] = rec.usage.output
            attrs["llm.usage.total_tokens"] = rec.usage.input + rec.usage.output
            if rec.usage.reasoning:
                attrs["gen_ai.usage.reasoning_tokens"] = rec.usage.reasoning
            if rec.usage.cache_read:
                attrs["gen_ai.usage.cache_read_input_tokens"] = rec.usage.cache_read
        name = "openai.chat" if rec.provider == "openai" else f"{rec.provider}.chat"
        return Emission(name, SpanKind.CLIENT, attrs)

    def tool(self, rec: ToolRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "traceloop.span.kind": "tool",
            "traceloop.entity.name": rec.name,
            "traceloop.workflow.name": workflow,
            "traceloop.entity.input": dumps({"args": [], "kwargs": dict(rec.arguments)}),
        }
        if rec.result is not None:
            attrs["traceloop.entity.output"] = dumps(rec.result)
        return Emission(f"{rec.name}.tool", SpanKind.INTERNAL, attrs)
