"""lead → one worker agent whose LLM/tool turns a scenario scripts step by step (structural modes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sample_traces.scenarios.builder import Step, TraceBuilder
from sample_traces.scenarios.content import MODELS, SERVICES, Case
from sample_traces.scenarios.flows import Clock, provider_of, usage_for
from sample_traces.scenarios.model import (
    Failure,
    Json,
    Message,
    ToolCall,
    ToolDef,
    assistant,
    tool_result,
    user,
)
from sample_traces.scenarios.registry import Ctx


class Solo:
    """Keeps the worker's running conversation; ``llm`` and ``call`` append to it."""

    def __init__(
        self, ctx: Ctx, case: Case, *, system: str | None = None, tools: Sequence[ToolDef] = ()
    ) -> None:
        self.b: TraceBuilder = ctx.b
        self.b.workflow = case.workflow
        self.case = case
        self.model = MODELS[ctx.v % len(MODELS)]
        self.system = system or f"You are the {case.domain} agent. Use the tools to complete the user's task."
        self.tools = list(tools) or [case.tool, case.side_tool]
        self.clock = Clock(self.b)
        self.root = self.b.agent(ctx.cast.lead, service=SERVICES["lead"], start=0.0, input=case.request)
        s, e = self.clock.span(300, 800)
        self.b.handoff(self.root, ctx.cast.worker, start=s, end=e)
        self.worker = self.b.agent(
            ctx.cast.worker,
            service=SERVICES["worker"],
            start=self.clock.now + 1,
            parent=self.root,
            input=case.request,
        )
        self.clock.now += 2
        self.history: list[Message] = [user(case.request)]

    def llm(
        self,
        text: str = "",
        *,
        calls: Sequence[ToolCall] = (),
        reasoning: str = "",
        history: Sequence[Message] | None = None,
        lo: float = 500,
        hi: float = 1800,
    ) -> Step:
        """One LLM turn over ``history`` (default: the full conversation so far)."""
        msgs = list(self.history if history is None else history)
        out = assistant(text, reasoning=reasoning, calls=calls)
        s, e = self.clock.span(lo, hi)
        step = self.b.chat(
            self.worker,
            start=s,
            end=e,
            model=self.model,
            provider=provider_of(self.model),
            input=msgs,
            output=[out],
            system=self.system,
            tools=self.tools,
            usage=usage_for(self.b, len(msgs), text or "call", bool(reasoning)),
        )
        self.history.append(out)
        return step

    def call(
        self,
        name: str,
        args: Mapping[str, Json],
        result: Json = None,
        *,
        failure: Failure | None = None,
        lo: float = 120,
        hi: float = 900,
        call: ToolCall | None = None,
    ) -> Step:
        """Execute a tool the last ``llm`` turn asked for (``call``) and record its result."""
        call = call or ToolCall(self.b.call_id(), name, args)
        s, e = self.clock.span(lo, hi)
        step = self.b.tool(
            self.worker, name, args, start=s, end=e, result=result, failure=failure, call_id=call.id
        )
        self.history.append(
            tool_result(call, result if result is not None else {"error": failure and failure.message})
        )
        return step

    def act(
        self,
        name: str,
        args: Mapping[str, Json],
        result: Json = None,
        *,
        text: str = "",
        reasoning: str = "",
        failure: Failure | None = None,
    ) -> tuple[Step, Step]:
        """An LLM turn that calls ``name`` followed by its execution: (llm span, tool span)."""
        call = ToolCall(self.b.call_id(), name, args)
        decide = self.llm(text, calls=[call], reasoning=reasoning)
        return decide, self.call(name, args, result, failure=failure, call=call)

    def user_says(self, text: str) -> None:
        self.history.append(user(text))

    def finish(self, output: str, failure: Failure | None = None) -> None:
        self.clock.now += 2
        self.b.close_agent(self.worker, self.clock.now, output=output, failure=failure)
        self.clock.now += 5
        self.b.close_agent(self.root, self.clock.now, output=output, failure=failure)
