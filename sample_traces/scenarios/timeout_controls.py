"""Clean controls of the timeout family.

Near-misses: a timeout retried with growing, jittered back-off that then succeeds; a slow call that
finishes inside its deadline; one timeout absorbed by a fallback (no caller fails: no cascade);
parallel fan-out; a short synchronous chain with constant overhead."""

from __future__ import annotations

from sample_traces.scenarios.builder import Step
from sample_traces.scenarios.content import DOMAINS, MODELS, SERVICES
from sample_traces.scenarios.flows import provider_of, usage_for
from sample_traces.scenarios.model import ToolCall, ToolDef, assistant, tool_result, user
from sample_traces.scenarios.registry import Ctx, Outcome, scenario
from sample_traces.scenarios.timeouts import VENDOR, _fail, _start

READ_CACHE = ToolDef(
    "read_cache", "Read the last cached result of a tool call.", {"tool": "string", "arguments": "object"}
)


@scenario("retry_with_backoff", family="timeout", variants=5, clean=True)
def retry_backoff(ctx: Ctx) -> Outcome:
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v)
    root, worker, call, model = _start(ctx, case)
    b = ctx.b
    t = 1483.0
    attempts = 2 + ctx.v % 2
    for i in range(attempts):
        b.tool(
            worker,
            case.tool.name,
            case.args,
            start=t,
            end=t + 5000.0,
            service="tool-gateway",
            failure=_fail("TimeoutError", "read timeout=5.0", 504),
            call_id=call.id,
        )
        t += 5000.0 + 1000.0 * 2**i * b.rng.uniform(0.8, 1.2)  # exponential back-off with jitter
    b.tool(
        worker,
        case.tool.name,
        case.args,
        start=t,
        end=t + 900.0,
        result=case.result,
        service="tool-gateway",
        call_id=call.id,
    )
    t += 905.0
    b.chat(
        worker,
        start=t,
        end=t + 1400,
        model=model,
        provider=provider_of(model),
        input=[user(case.request)],
        output=[assistant(case.brief)],
        usage=usage_for(b, 3, case.brief),
    )
    b.close_agent(worker, t + 1405, output=case.brief)
    b.close_agent(root, t + 1420, output=case.brief)
    return Outcome(
        f"{case.domain}/{attempts}retries", "timeouts retried with exponential back-off, then success"
    )


@scenario("slow_but_successful", family="timeout", variants=5, clean=True)
def slow_ok(ctx: Ctx) -> Outcome:
    case = DOMAINS[(ctx.v + 1) % len(DOMAINS)](ctx.v)
    root, worker, call, model = _start(ctx, case)
    b = ctx.b
    dur = (18_000.0, 24_000.0, 12_500.0, 27_000.0, 9_000.0)[ctx.v % 5]
    tool = b.tool(
        worker,
        case.tool.name,
        case.args,
        start=1483.0,
        end=1483.0 + dur,
        result=case.result,
        service="tool-gateway",
        call_id=call.id,
    )
    b.http(tool, "GET", VENDOR[case.domain], status=200, start=1490.0, end=1480.0 + dur)
    t = 1490.0 + dur
    b.chat(
        worker,
        start=t,
        end=t + 1500,
        model=model,
        provider=provider_of(model),
        input=[user(case.request)],
        output=[assistant(case.brief)],
        usage=usage_for(b, 3, case.brief),
    )
    b.close_agent(worker, t + 1505, output=case.brief)
    b.close_agent(root, t + 1520, output=case.brief)
    return Outcome(f"{case.domain}/{dur / 1000:.1f}s", "slow vendor call, inside every deadline")


@scenario("timeout_with_fallback", family="timeout", variants=4, clean=True)
def fallback(ctx: Ctx) -> Outcome:
    case = DOMAINS[(ctx.v + 2) % len(DOMAINS)](ctx.v)
    root, worker, call, model = _start(ctx, case)
    b = ctx.b
    b.tool(
        worker,
        case.tool.name,
        case.args,
        start=1483.0,
        end=11_483.0,
        service="tool-gateway",
        failure=_fail("TimeoutError", "read timeout=10.0", 504),
        call_id=call.id,
    )
    cached = ToolCall(b.call_id(), "read_cache", {"tool": case.tool.name, "arguments": case.args})
    b.chat(
        worker,
        start=11_484.0,
        end=11_488.0,
        model=model,
        provider=provider_of(model),
        input=[
            user(case.request),
            assistant(calls=[call]),
            tool_result(call, {"error": "read timeout=10.0"}),
        ],
        output=[assistant(calls=[cached])],
        tools=[case.tool, READ_CACHE],
        usage=usage_for(b, 3, "call"),
    )
    b.tool(
        worker,
        "read_cache",
        cached.arguments,
        start=11_490.0,
        end=11_502.0,
        result=case.result,
        call_id=cached.id,
    )
    b.chat(
        worker,
        start=11_505.0,
        end=12_900.0,
        model=model,
        provider=provider_of(model),
        input=[user(case.request), assistant(calls=[cached]), tool_result(cached, case.result)],
        output=[assistant(case.brief)],
        usage=usage_for(b, 3, case.brief),
    )
    b.close_agent(worker, 12_905.0, output=case.brief)
    b.close_agent(root, 12_920.0, output=case.brief)
    return Outcome(f"{case.domain}/cache", "one timeout absorbed by a cache fallback: nothing propagates")


@scenario("parallel_fan_out", family="timeout", variants=6, clean=True)
def fan_out(ctx: Ctx) -> Outcome:
    b = ctx.b
    cases = [DOMAINS[(ctx.v + i) % len(DOMAINS)](ctx.v) for i in range(3)]
    b.workflow = "morning-digest"
    model = MODELS[ctx.v % len(MODELS)]
    root = b.agent(ctx.cast.lead, service=SERVICES["lead"], start=0.0, input="Prepare the morning digest.")
    end = 0.0
    for i, case in enumerate(cases):
        start = 10.0 + i * 3
        ag = b.agent(
            f"{case.domain}_agent",
            service=f"{case.domain}-agent",
            start=start,
            parent=root,
            input=case.request,
        )
        dur = b.rng.uniform(700, 2500)
        b.tool(ag, case.tool.name, case.args, start=start + 2, end=start + 2 + dur, result=case.result)
        b.chat(
            ag,
            start=start + 5 + dur,
            end=start + 1200 + dur,
            model=model,
            input=[user(case.request)],
            output=[assistant(case.brief)],
            usage=usage_for(b, 2, case.brief),
        )
        b.close_agent(ag, start + 1205 + dur, output=case.brief)
        end = max(end, start + 1205 + dur)
    b.close_agent(root, end + 20, output="digest ready")
    return Outcome("/".join(c.domain for c in cases), "three agents in parallel, all fast")


@scenario("short_sync_chain", family="timeout", variants=6, clean=True)
def short_chain(ctx: Ctx) -> Outcome:
    b = ctx.b
    b.workflow = "report-chain"
    model = MODELS[ctx.v % len(MODELS)]
    names = ("intake", "researcher", "drafter")
    t = 0.0
    parent: Step | None = None
    chain: list[Step] = []
    for i, name in enumerate(names):
        ag = b.agent(
            f"{name}_agent",
            service=f"{name}-agent",
            start=t,
            parent=parent,
            input="Produce the weekly incident report for the platform team.",
        )
        chain.append(ag)
        t += 40.0
        b.chat(
            ag,
            start=t,
            end=t + 700.0,
            model=model,
            input=[user("weekly incident report")],
            output=[assistant("Passing on.")],
            usage=usage_for(b, 1, "Passing on."),
        )
        t += 702.0
        if i + 1 < len(names):
            b.handoff(ag, f"{names[i + 1]}_agent", start=t, end=t + 2)
            t += 3
        parent = ag
    for ag in reversed(chain):
        t += 30.0
        b.close_agent(ag, t, output="report ready")
    return Outcome("depth3", "3-deep chain, constant small overhead")
