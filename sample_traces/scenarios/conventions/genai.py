"""OTel GenAI semantic conventions (>= 1.37): structured messages as JSON strings with parts."""

from __future__ import annotations

from typing import ClassVar

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from sample_traces.scenarios.conventions import AgentRec, ChatRec, ConventionName, Emission, ToolRec
from sample_traces.scenarios.model import (
    Json,
    Message,
    Reasoning,
    Text,
    ToolCall,
    ToolResponse,
    dumps,
)


def message_json(msg: Message) -> dict[str, Json]:
    """One message in the semconv shape: ``{"role", "parts": [...], "finish_reason"?}``."""
    parts: list[Json] = []
    for p in msg.parts:
        if isinstance(p, Text):
            parts.append({"type": "text", "content": p.content})
        elif isinstance(p, Reasoning):
            parts.append({"type": "reasoning", "content": p.content})
        elif isinstance(p, ToolCall):
            parts.append({"type": "tool_call", "id": p.id, "name": p.name, "arguments": dict(p.arguments)})
        elif isinstance(p, ToolResponse):
            parts.append({"type": "tool_call_response", "id": p.id, "response": p.response})
    out: dict[str, Json] = {"role": msg.role, "parts": parts}
    if msg.finish_reason is not None:
        out["finish_reason"] = msg.finish_reason
    return out


class GenAI:
    name: ClassVar[ConventionName] = "genai"
    scope: ClassVar[tuple[str, str]] = ("faultlens.sample_agents", "0.3.0")

    def agent(self, rec: AgentRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": rec.name,
            "gen_ai.agent.id": rec.agent_id,
            "gen_ai.conversation.id": rec.conversation_id,
        }
        if rec.description:
            attrs["gen_ai.agent.description"] = rec.description
        if rec.input is not None:
            attrs["gen_ai.input.messages"] = dumps(
                [{"role": "user", "parts": [{"type": "text", "content": rec.input}]}]
            )
        if rec.output is not None:
            out = [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": rec.output}],
                    "finish_reason": "stop",
                }
            ]
            attrs["gen_ai.output.messages"] = dumps(out)
        return Emission(f"invoke_agent {rec.name}", SpanKind.INTERNAL, attrs)

    def chat(self, rec: ChatRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": rec.provider,
            "gen_ai.request.model": rec.model,
            "gen_ai.conversation.id": rec.conversation_id,
            "gen_ai.input.messages": dumps([message_json(m) for m in rec.input]),
        }
        if rec.temperature is not None:
            attrs["gen_ai.request.temperature"] = rec.temperature
        if rec.system:
            attrs["gen_ai.system_instructions"] = dumps([{"type": "text", "content": rec.system}])
        if rec.tools:
            attrs["gen_ai.tool.definitions"] = dumps([t.schema() for t in rec.tools])
        if rec.output:
            attrs["gen_ai.output.messages"] = dumps([message_json(m) for m in rec.output])
            attrs["gen_ai.response.finish_reasons"] = [m.finish_reason or "stop" for m in rec.output]
            attrs["gen_ai.response.model"] = rec.model
            attrs["gen_ai.response.id"] = rec.response_id
        if rec.usage is not None:
            attrs["gen_ai.usage.input_tokens"] = rec.usage.input
            attrs["gen_ai.usage.output_tokens"] = rec.usage.output
            if rec.usage.reasoning:
                attrs["gen_ai.usage.reasoning.output_tokens"] = rec.usage.reasoning
            if rec.usage.cache_read:
                attrs["gen_ai.usage.cache_read.input_tokens"] = rec.usage.cache_read
        return Emission(f"chat {rec.model}", SpanKind.CLIENT, attrs)

    def tool(self, rec: ToolRec, workflow: str) -> Emission:
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": rec.name,
            "gen_ai.tool.call.id": rec.call_id,
            "gen_ai.tool.type": rec.tool_type,
            "gen_ai.tool.call.arguments": dumps(dict(rec.arguments)),
        }
        if rec.description:
            attrs["gen_ai.tool.description"] = rec.description
        if rec.result is not None:
            attrs["gen_ai.tool.call.result"] = dumps(rec.result)
        return Emission(f"execute_tool {rec.name}", SpanKind.INTERNAL, attrs)
