"""The research → write → act pipeline most hallucination scenarios and their controls share.

lead (planner) ──transfer──▶ worker (researcher) ─ LLM → tool → LLM (brief) [→ memory write]
     └──transfer──▶ writer [memory read →] LLM (final text) → side-effecting tool
     └──transfer──▶ checker (optional verifier)
``depth=2`` puts a fetcher sub-agent between the worker and its data tool.
"""

from __future__ import annotations

from dataclasses import dataclass

from sample_traces.scenarios.builder import Step, TraceBuilder
from sample_traces.scenarios.content import SERVICES, Case, Cast
from sample_traces.scenarios.model import (
    Message,
    ToolCall,
    ToolDef,
    Usage,
    assistant,
    dumps,
    tool_result,
    user,
)

MEMORY_STORE = "team-blackboard"


def provider_of(model: str) -> str:
    return "anthropic" if model.startswith("claude") else "openai"


def usage_for(b: TraceBuilder, msgs: int, out_text: str, reasoning: bool = False) -> Usage:
    """Plausible token counts: a few hundred per input message, ~1 token per 4 output chars."""
    out = max(12, len(out_text) // 4 + b.rng.randint(4, 30))
    return Usage(
        input=msgs * b.rng.randint(180, 420),
        output=out,
        reasoning=b.rng.randint(120, 600) if reasoning else 0,
        cache_read=b.rng.choice((0, 0, 256, 512)),
    )


class Clock:
    """A cursor over the trace's timeline (milliseconds), advanced by jittered durations."""

    def __init__(self, b: TraceBuilder, at: float = 0.0) -> None:
        self.b = b
        self.now = at

    def span(self, lo: float, hi: float) -> tuple[float, float]:
        start = self.now + self.b.rng.uniform(0.3, 2.5)
        end = start + self.b.rng.uniform(lo, hi)
        self.now = end
        return start, end


@dataclass(frozen=True)
class PipelineSpec:
    case: Case
    cast: Cast
    brief: str
    model: str = "gpt-4o-2024-08-06"
    via_memory: bool = False
    verify: bool = False
    verdict: str = "verified"  # what the checker concludes, when present
    depth: int = 1
    side_effect: bool = True
    reasoning: bool = False
    writer_extra: str = ""  # a sentence the writer adds on its own (ungrounded when set by a scenario)


@dataclass
class Pipeline:
    root: Step
    plan: Step
    worker: Step
    tool: Step
    brief: Step  # the worker's LLM call that writes the brief
    writer: Step
    writer_chat: Step
    final_text: str
    to_worker: Step
    side: Step | None = None
    mem_write: Step | None = None
    mem_read: Step | None = None
    checker: Step | None = None
    checker_chat: Step | None = None
    lead_final: Step | None = None


def final_text(case: Case, brief: str, extra: str = "") -> str:
    body = f"{brief} {extra}".strip()
    return f"Hello,\n\n{body}\n\nBest regards,\nthe {case.workflow} desk"


def run_pipeline(b: TraceBuilder, spec: PipelineSpec) -> Pipeline:
    case, cast, rng = spec.case, spec.cast, b.rng
    prov = provider_of(spec.model)
    clock = Clock(b)
    handoffs = [
        ToolDef(f"transfer_to_{a}", f"Hand the task to the {a} agent.") for a in (cast.worker, cast.writer)
    ]
    if spec.verify:
        handoffs.append(
            ToolDef(f"transfer_to_{cast.checker}", f"Hand the draft to the {cast.checker} agent.")
        )
    root = b.agent(
        cast.lead, service=SERVICES["lead"], start=0.0, input=case.request, description="Plans and delegates"
    )
    plan_reason = (
        f"I need source data before anything is written; the {cast.worker} agent has the tools for that."
        if spec.reasoning
        else ""
    )
    call = ToolCall(b.call_id(), f"transfer_to_{cast.worker}", {"reason": "needs source data"})
    s, e = clock.span(400, 1400)
    plan_out = assistant(reasoning=plan_reason, calls=[call])
    plan = b.chat(
        root,
        start=s,
        end=e,
        model=spec.model,
        provider=prov,
        input=[user(case.request)],
        output=[plan_out],
        system=f"You coordinate a {case.domain} team. Delegate; never invent facts.",
        tools=handoffs,
        usage=usage_for(b, 1, "transfer", spec.reasoning),
    )
    s, e = clock.span(1, 4)
    to_worker = b.handoff(root, cast.worker, start=s, end=e, reason="needs source data", call_id=call.id)

    # worker: fetch data (directly or through a fetcher sub-agent), then write the brief
    worker = b.agent(
        cast.worker, service=SERVICES["worker"], start=clock.now + 1, parent=root, input=case.request
    )
    clock.now += 2
    tcall = ToolCall(b.call_id(), case.tool.name, case.args)
    s, e = clock.span(500, 1600)
    msgs1: list[Message] = [user(case.request)]
    b.chat(
        worker,
        start=s,
        end=e,
        model=spec.model,
        provider=prov,
        input=msgs1,
        output=[assistant(calls=[tcall])],
        tools=[case.tool],
        usage=usage_for(b, 1, "call"),
        system=f"You are the {case.domain} research agent. Use tools; report only what they return.",
    )
    owner = worker
    if spec.depth > 1:
        owner = b.agent(
            cast.fetcher,
            service=SERVICES["fetcher"],
            start=clock.now + 1,
            parent=worker,
            input=f"Run {case.tool.name} with {case.args}",
        )
        clock.now += 2
    s, e = clock.span(150, 2200)
    tool = b.tool(
        owner,
        case.tool.name,
        case.args,
        start=s,
        end=e,
        result=case.result,
        call_id=tcall.id,
        description=case.tool.description,
    )
    if owner is not worker:
        clock.now += 2
        b.close_agent(owner, clock.now, output="done")
    msgs2 = [*msgs1, assistant(calls=[tcall]), tool_result(tcall, case.result)]
    s, e = clock.span(900, 3200)
    reasoning = (
        f"The {case.tool.name} result has what the user asked for; summarise it faithfully."
        if spec.reasoning
        else ""
    )
    brief = b.chat(
        worker,
        start=s,
        end=e,
        model=spec.model,
        provider=prov,
        input=msgs2,
        output=[assistant(spec.brief, reasoning=reasoning)],
        tools=[case.tool],
        usage=usage_for(b, 3, spec.brief, spec.reasoning),
    )
    mem_write = None
    if spec.via_memory:
        s, e = clock.span(4, 30)
        mem_write = b.memory(
            worker,
            "create_memory",
            store=MEMORY_STORE,
            key=f"{case.workflow}/brief",
            records=[{"content": spec.brief, "author": cast.worker}],
            version=1,
            start=s,
            end=e,
        )
    clock.now += 2
    b.close_agent(worker, clock.now, output=spec.brief)

    # lead hands over to the writer
    wcall = ToolCall(b.call_id(), f"transfer_to_{cast.writer}", {"reason": "draft and send"})
    s, e = clock.span(300, 900)
    lead_msgs = [user(case.request), plan_out, tool_result(call, spec.brief)]
    b.chat(
        root,
        start=s,
        end=e,
        model=spec.model,
        provider=prov,
        input=lead_msgs,
        output=[assistant(calls=[wcall])],
        tools=handoffs,
        usage=usage_for(b, 3, "transfer"),
    )
    s, e = clock.span(1, 4)
    b.handoff(root, cast.writer, start=s, end=e, reason="draft and send", call_id=wcall.id)
    writer = b.agent(
        cast.writer,
        service=SERVICES["writer"],
        start=clock.now + 1,
        parent=root,
        input=spec.brief if not spec.via_memory else f"Draft from {MEMORY_STORE}:{case.workflow}/brief",
        # the brief travels by hand-off message: link the writer to the LLM call that produced it
        links=() if spec.via_memory else (brief,),
    )
    clock.now += 2
    mem_read = None
    if spec.via_memory:
        s, e = clock.span(3, 25)
        mem_read = b.memory(
            writer,
            "search_memory",
            store=MEMORY_STORE,
            key=f"{case.workflow}/brief",
            records=[{"content": spec.brief, "author": cast.worker}],
            version=1,
            start=s,
            end=e,
        )
    text = final_text(case, spec.brief, spec.writer_extra)
    side_call = ToolCall(b.call_id(), case.side_tool.name, case.side_args(text))
    s, e = clock.span(1200, 4200)
    writer_chat = b.chat(
        writer,
        start=s,
        end=e,
        model=spec.model,
        provider=prov,
        input=[user(case.request), user(f"Research brief:\n{spec.brief}")],
        output=[assistant(text, calls=[side_call] if spec.side_effect else [])],
        tools=[case.side_tool],
        usage=usage_for(b, 2, text),
        system="You turn research briefs into messages. Do not add facts.",
    )
    side = None
    if spec.side_effect:
        s, e = clock.span(120, 900)
        ack = {"status": "ok", "id": f"{case.side_tool.name}-{rng.randint(10000, 99999)}"}
        side = b.tool(
            writer,
            case.side_tool.name,
            side_call.arguments,
            start=s,
            end=e,
            result=ack,
            call_id=side_call.id,
            description=case.side_tool.description,
        )
    clock.now += 2
    b.close_agent(writer, clock.now, output=text)
    out = Pipeline(
        root, plan, worker, tool, brief, writer, writer_chat, text, to_worker, side, mem_write, mem_read
    )

    if spec.verify:
        s, e = clock.span(1, 4)
        b.handoff(root, cast.checker, start=s, end=e, reason="check the draft against sources")
        checker = b.agent(
            cast.checker, service=SERVICES["checker"], start=clock.now + 1, parent=root, input=text
        )
        clock.now += 2
        s, e = clock.span(700, 2500)
        verdict = f"{spec.verdict}: every figure in the draft matches the {case.tool.name} output."
        out.checker_chat = b.chat(
            checker,
            start=s,
            end=e,
            model=spec.model,
            provider=prov,
            input=[user(f"Source data: {dumps(case.result)}"), user(f"Draft:\n{text}")],
            output=[assistant(verdict)],
            usage=usage_for(b, 2, verdict),
            system="You verify drafts against the source data.",
        )
        clock.now += 2
        b.close_agent(checker, clock.now, output=verdict)
        out.checker = checker
    s, e = clock.span(200, 700)
    out.lead_final = b.chat(
        root,
        start=s,
        end=e,
        model=spec.model,
        provider=prov,
        input=[user(case.request), user(f"Writer result:\n{text}")],
        output=[assistant(text)],
        usage=usage_for(b, 2, text),
    )
    clock.now += 2
    b.close_agent(root, clock.now, output=text)
    return out
