"""The two conventions the hold-out set is written in: OTel GenAI semconv and OpenInference.

Both expose the same small vocabulary (agent, llm, tool, memory, handoff) so a scenario is written
once and recorded in either convention; what differs is only how the span looks on the wire. Memory
operations have no OpenInference equivalent, so both write the GenAI memory attributes SPEC §5.2
names; the OpenInference flavour names its memory spans differently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from opentelemetry.trace import SpanKind

from bench.holdout.otelkit import Err, Handle, Recorder


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Msg:
    """One chat message: text, tool calls (assistant) or a tool's answer (role ``tool``)."""

    role: str
    text: str = ""
    calls: tuple[Call, ...] = ()
    call_id: str | None = None


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _schema(params: Sequence[str]) -> dict[str, Any]:
    return {"type": "object", "properties": {p: {"type": "string"} for p in params}, "required": list(params)}


class Convention(Protocol):
    name: str

    def agent(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        agent: str,
        task: str,
        answer: str,
        *,
        err: Err | None = None,
        links: Sequence[Handle] = (),
    ) -> Handle: ...

    def llm(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        inputs: Sequence[Msg],
        output: Msg,
        *,
        tools: Mapping[str, Sequence[str]] | None = None,
        system: str | None = None,
        err: Err | None = None,
        model: str = "gpt-4.1-mini",
    ) -> Handle: ...

    def tool(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        name: str,
        args: dict[str, Any],
        result: Any,
        *,
        call_id: str | None = None,
        err: Err | None = None,
    ) -> Handle: ...

    def memory(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        op: str,
        store: str,
        key: str,
        records: Any,
        version: int | None = None,
    ) -> Handle: ...


def _genai_message(m: Msg) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if m.role == "tool":
        parts.append({"type": "tool_call_response", "id": m.call_id, "response": m.text})
    elif m.text:
        parts.append({"type": "text", "content": m.text})
    parts.extend({"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.args} for c in m.calls)
    return {"role": m.role, "parts": parts}


class GenAI:
    """OTel GenAI semantic conventions (v1.37+): JSON message attributes, operation names."""

    name = "genai"

    def agent(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        agent: str,
        task: str,
        answer: str,
        *,
        err: Err | None = None,
        links: Sequence[Handle] = (),
    ) -> Handle:
        attrs = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agent,
            "gen_ai.agent.id": "agt_" + agent.lower().replace(" ", "_"),
            "gen_ai.provider.name": "openai",
            "gen_ai.input.messages": dumps([_genai_message(Msg("user", task))]),
            "gen_ai.output.messages": dumps([_genai_message(Msg("assistant", answer))]) if answer else None,
        }
        return r.span(svc, f"invoke_agent {agent}", parent, t0, t1, attrs, err=err, links=links)

    def llm(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        inputs: Sequence[Msg],
        output: Msg,
        *,
        tools: Mapping[str, Sequence[str]] | None = None,
        system: str | None = None,
        err: Err | None = None,
        model: str = "gpt-4.1-mini",
    ) -> Handle:
        out = _genai_message(output)
        out["finish_reason"] = "tool_call" if output.calls else "stop"
        defs = (
            [{"type": "function", "name": n, "parameters": _schema(p)} for n, p in tools.items()]
            if tools
            else None
        )
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "gen_ai.response.model": model + "-2025-04-14",
            "gen_ai.usage.input_tokens": 40 * len(inputs) + 120,
            "gen_ai.usage.output_tokens": 60,
            "gen_ai.system_instructions": dumps([{"type": "text", "content": system}]) if system else None,
            "gen_ai.input.messages": dumps([_genai_message(m) for m in inputs]),
            "gen_ai.output.messages": None if err else dumps([out]),
            "gen_ai.tool.definitions": dumps(defs) if defs else None,
            "gen_ai.response.finish_reasons": None if err else [out["finish_reason"]],
        }
        return r.span(svc, f"chat {model}", parent, t0, t1, attrs, err=err, kind=SpanKind.CLIENT)

    def tool(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        name: str,
        args: dict[str, Any],
        result: Any,
        *,
        call_id: str | None = None,
        err: Err | None = None,
    ) -> Handle:
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.call.arguments": dumps(args),
            "gen_ai.tool.call.result": None
            if result is None
            else (result if isinstance(result, str) else dumps(result)),
        }
        return r.span(svc, f"execute_tool {name}", parent, t0, t1, attrs, err=err)

    def memory(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        op: str,
        store: str,
        key: str,
        records: Any,
        version: int | None = None,
    ) -> Handle:
        attrs = {
            "gen_ai.operation.name": op,
            "gen_ai.memory.store.id": store,
            "gen_ai.memory.record.id": key,
            "gen_ai.memory.records": None if records is None else dumps(records),
            "faultlens.memory.version": None if version is None else str(version),
        }
        return r.span(svc, f"{op} {store}", parent, t0, t1, attrs)


class OpenInference:
    """OpenInference (Arize/Phoenix): span kinds, flattened ``llm.*`` messages, ``input/output.value``."""

    name = "openinference"

    def agent(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        agent: str,
        task: str,
        answer: str,
        *,
        err: Err | None = None,
        links: Sequence[Handle] = (),
    ) -> Handle:
        attrs = {
            "openinference.span.kind": "AGENT",
            "agent.name": agent,
            "graph.node.id": agent.lower().replace(" ", "-"),
            "input.value": task,
            "input.mime_type": "text/plain",
            "output.value": answer or None,
            "output.mime_type": "text/plain",
            "session.id": "sess-" + r.transport,
        }
        return r.span(svc, f"{agent}.run", parent, t0, t1, attrs, err=err, links=links)

    def llm(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        inputs: Sequence[Msg],
        output: Msg,
        *,
        tools: Mapping[str, Sequence[str]] | None = None,
        system: str | None = None,
        err: Err | None = None,
        model: str = "claude-sonnet-4",
    ) -> Handle:
        attrs: dict[str, Any] = {
            "openinference.span.kind": "LLM",
            "llm.model_name": model,
            "llm.provider": "anthropic",
            "llm.token_count.prompt": 40 * len(inputs) + 120,
            "llm.token_count.completion": 55,
        }
        msgs = ([Msg("system", system)] if system else []) + list(inputs)
        for i, m in enumerate(msgs):
            _oi_message(attrs, f"llm.input_messages.{i}.", m)
        if err is None:
            _oi_message(attrs, "llm.output_messages.0.", output)
        for i, (name, params) in enumerate((tools or {}).items()):
            schema = {"type": "function", "function": {"name": name, "parameters": _schema(params)}}
            attrs[f"llm.tools.{i}.tool.json_schema"] = dumps(schema)
        return r.span(svc, "ChatCompletion", parent, t0, t1, attrs, err=err, kind=SpanKind.CLIENT)

    def tool(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        name: str,
        args: dict[str, Any],
        result: Any,
        *,
        call_id: str | None = None,
        err: Err | None = None,
    ) -> Handle:
        attrs = {
            "openinference.span.kind": "TOOL",
            "tool.name": name,
            "tool_call.id": call_id,
            "tool.parameters": dumps(_schema(list(args))),
            "input.value": dumps(args),
            "input.mime_type": "application/json",
            "output.value": None
            if result is None
            else (result if isinstance(result, str) else dumps(result)),
        }
        return r.span(svc, name, parent, t0, t1, attrs, err=err)

    def memory(
        self,
        r: Recorder,
        svc: str,
        parent: Handle | None,
        t0: float,
        t1: float,
        op: str,
        store: str,
        key: str,
        records: Any,
        version: int | None = None,
    ) -> Handle:
        attrs = {
            "gen_ai.operation.name": op,
            "gen_ai.memory.store.id": store,
            "gen_ai.memory.record.id": key,
            "gen_ai.memory.records": None if records is None else dumps(records),
            "faultlens.memory.version": None if version is None else version,
        }
        verb = "read" if op == "search_memory" else "write"
        return r.span(svc, f"blackboard.{verb}", parent, t0, t1, attrs)


def _oi_message(attrs: dict[str, Any], prefix: str, m: Msg) -> None:
    attrs[prefix + "message.role"] = m.role
    if m.text:
        attrs[prefix + "message.content"] = m.text
    if m.call_id is not None:
        attrs[prefix + "message.tool_call_id"] = m.call_id
    for k, c in enumerate(m.calls):
        base = f"{prefix}message.tool_calls.{k}.tool_call."
        attrs[base + "id"] = c.id
        attrs[base + "function.name"] = c.name
        attrs[base + "function.arguments"] = dumps(c.args)


CONVENTIONS: dict[str, Convention] = {"genai": GenAI(), "openinference": OpenInference()}
