"""Timeout cascades and their relatives (SPEC §5.3).

Origins (sample_traces/README.md): a cascade starts at its root cause, the deepest slow span (a
vendor HTTP call, an LLM call, a sub-agent whose own exclusive time is the anomaly); ``span_ids``
are the root cause plus every caller that timed out because of it. A timeout inversion starts at
the callee allowed to outlive its caller's deadline; a retry storm at its first call; a missing
circuit breaker at the first failed call of the run; a coordination-latency collapse at the top of
the synchronous chain.
"""

from __future__ import annotations

from sample_traces.scenarios.builder import Step
from sample_traces.scenarios.content import DOMAINS, MODELS, SERVICES, Case
from sample_traces.scenarios.flows import provider_of, usage_for
from sample_traces.scenarios.model import Expected, Failure, Json, ToolCall, assistant, user
from sample_traces.scenarios.registry import Ctx, Outcome, ids, scenario

T = "timeout_cascade"
VENDOR = {
    "finance": "https://api.marketdata-vendor.example/v2/financials",
    "travel": "https://partner.flightsearch.example/v3/search",
    "coding": "https://ci-runner.internal.example/api/run",
    "research": "https://search.scholar-proxy.example/v1/query",
    "support": "https://commerce.internal.example/orders",
}


def _start(
    ctx: Ctx, case: Case, args: dict[str, Json] | None = None, system: str | None = None
) -> tuple[Step, Step, ToolCall, str]:
    """lead → worker, worker's LLM asks for the tool: returns (root, worker, the tool call, model)."""
    b = ctx.b
    b.workflow = case.workflow
    model = MODELS[ctx.v % len(MODELS)]
    root = b.agent(ctx.cast.lead, service=SERVICES["lead"], start=0.0, input=case.request)
    b.handoff(root, ctx.cast.worker, start=620.0, end=622.0)
    worker = b.agent(
        ctx.cast.worker, service=SERVICES["worker"], start=624.0, parent=root, input=case.request
    )
    call = ToolCall(b.call_id(), case.tool.name, args or case.args)
    b.chat(
        worker,
        start=626.0,
        end=1480.0,
        model=model,
        provider=provider_of(model),
        input=[user(case.request)],
        output=[assistant(calls=[call])],
        tools=[case.tool],
        usage=usage_for(b, 1, "call"),
        system=system,
    )
    return root, worker, call, model


_SIGNALS: tuple[tuple[str, int | None, int | None], ...] = (
    ("TimeoutError", 504, None),
    ("DEADLINE_EXCEEDED", None, 4),
    ("httpx.ReadTimeout", 408, None),
    ("TimeoutError", None, None),
)


def _fail(kind: str, msg: str, http: int | None = None, grpc: int | None = None) -> Failure:
    return Failure(kind, msg, http_status=http, grpc_status=grpc)


@scenario("slow_tool_cascade", family="timeout", variants=5)
def slow_tool(ctx: Ctx) -> Outcome:
    """The vendor API behind the tool gateway hangs; the tool, the worker and the lead time out in turn."""
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v)
    kind, http, grpc = _SIGNALS[ctx.v % len(_SIGNALS)]
    deadline = (30.0, 20.0, 45.0, 25.0, 30.0)[ctx.v % 5] * 1000
    root, worker, call, _ = _start(ctx, case)
    b = ctx.b
    tool = b.tool(
        worker,
        case.tool.name,
        case.args,
        start=1483.0,
        end=1483.0 + deadline,
        service="tool-gateway",
        call_id=call.id,
        failure=_fail(kind, f"{case.tool.name} exceeded {deadline / 1000:.0f}s", http, grpc),
    )
    http_span = b.http(
        tool,
        "GET" if ctx.v % 2 else "POST",
        VENDOR[case.domain],
        status=504,
        start=1490.0,
        end=1483.0 + deadline - 2,
        failure=_fail("504", "Gateway Timeout", 504),
    )
    b.close_agent(worker, 1490.0 + deadline, failure=_fail("TimeoutError", f"{case.tool.name} timed out"))
    b.close_agent(
        root, 1500.0 + deadline, failure=_fail("DEADLINE_EXCEEDED", "worker did not answer", grpc=4)
    )
    exp = Expected(T, "timeout_cascade", http_span.span_id, ids(http_span, tool, worker, root))
    return Outcome(
        f"{case.domain}/{kind}/{deadline / 1000:.0f}s", "vendor API hang cascades to the lead", (exp,)
    )


@scenario("slow_llm_cascade", family="timeout", variants=4)
def slow_llm(ctx: Ctx) -> Outcome:
    """The worker's second LLM call never returns within the client timeout (APITimeoutError)."""
    case = DOMAINS[(ctx.v + 1) % len(DOMAINS)](ctx.v)
    root, worker, call, model = _start(ctx, case)
    b = ctx.b
    b.tool(worker, case.tool.name, case.args, start=1483.0, end=2270.0, result=case.result, call_id=call.id)
    limit = (60.0, 90.0, 120.0, 60.0)[ctx.v % 4] * 1000
    err = (
        ("openai.APITimeoutError", "Request timed out.")
        if provider_of(model) == "openai"
        else ("anthropic.APITimeoutError", "Request timed out.")
    )
    llm = b.chat(
        worker,
        start=2275.0,
        end=2275.0 + limit,
        model=model,
        provider=provider_of(model),
        input=[user(case.request)],
        tools=[case.tool],
        failure=_fail(err[0], err[1], 408),
    )
    b.close_agent(worker, 2280.0 + limit, failure=_fail("TimeoutError", "model call timed out"))
    b.close_agent(root, 2290.0 + limit, failure=_fail("TimeoutError", f"{ctx.cast.worker} timed out"))
    exp = Expected(T, "timeout_cascade", llm.span_id, ids(llm, worker, root))
    return Outcome(
        f"{case.domain}/{model}/{limit / 1000:.0f}s", "LLM call hangs until the client timeout", (exp,)
    )


@scenario("slow_subagent_cascade", family="timeout", variants=4)
def slow_subagent(ctx: Ctx) -> Outcome:
    """The fetcher sub-agent idles (waiting on a queue) between fast steps; its caller gives up at
    its deadline and the lead fails with DEADLINE_EXCEEDED. The sub-agent's own exclusive time is
    the anomaly."""
    case = DOMAINS[(ctx.v + 2) % len(DOMAINS)](ctx.v)
    root, worker, call, model = _start(ctx, case)
    b = ctx.b
    deadline = (30.0, 30.0, 20.0, 40.0)[ctx.v % 4] * 1000
    fetch = b.agent(
        ctx.cast.fetcher, service="data-fetcher", start=1485.0, parent=worker, input=f"Run {case.tool.name}"
    )
    b.chat(
        fetch,
        start=1490.0,
        end=2100.0,
        model=model,
        input=[user(f"Run {case.tool.name}")],
        output=[assistant("Queued.")],
        usage=usage_for(b, 1, "Queued."),
    )
    idle_until = 1485.0 + deadline + 9000.0  # queued behind other jobs
    b.tool(
        fetch,
        case.tool.name,
        case.args,
        start=idle_until,
        end=idle_until + 800,
        result=case.result,
        call_id=call.id,
    )
    b.close_agent(fetch, idle_until + 810, output="done")
    b.close_agent(
        worker,
        1485.0 + deadline,
        failure=_fail("DEADLINE_EXCEEDED", f"{ctx.cast.fetcher} exceeded {deadline / 1000:.0f}s", grpc=4),
    )
    b.close_agent(root, 1495.0 + deadline, failure=_fail("TimeoutError", f"{ctx.cast.worker} timed out", 504))
    exp = Expected(T, "timeout_cascade", fetch.span_id, ids(fetch, worker, root))
    return Outcome(f"{case.domain}/{deadline / 1000:.0f}s", "sub-agent stalls mid-chain", (exp,))


@scenario("retry_storm", family="timeout", variants=4)
def retry_storm(ctx: Ctx) -> Outcome:
    """The tool client retries a failing call 6–9 times back to back, no back-off, same arguments."""
    case = DOMAINS[(ctx.v + 3) % len(DOMAINS)](ctx.v)
    root, worker, call, _ = _start(ctx, case)
    b = ctx.b
    n = 6 + ctx.v % 4
    t = 1483.0
    calls: list[Step] = []
    timeout_each = ctx.v % 2 == 0
    for _ in range(n):
        dur = 5000.0 if timeout_each else b.rng.uniform(35, 60)
        f = (
            _fail("TimeoutError", "read timeout=5.0", 504)
            if timeout_each
            else _fail("ServiceUnavailable", "503 upstream unavailable", 503)
        )
        calls.append(
            b.tool(
                worker,
                case.tool.name,
                case.args,
                start=t,
                end=t + dur,
                failure=f,
                call_id=call.id,
            )
        )
        t += dur + b.rng.uniform(9, 11)  # a fixed 10 ms pause: no exponential growth, no jitter range
    b.close_agent(worker, t + 5, failure=_fail("RetryError", f"gave up after {n} attempts"))
    b.close_agent(root, t + 15, failure=_fail("RetryError", f"{ctx.cast.worker} failed"))
    exp = Expected(T, "retry_storm", calls[0].span_id, ids(*calls))
    return Outcome(f"{case.domain}/{n}x/{'timeout' if timeout_each else '503'}", "tight retry loop", (exp,))


@scenario("missing_circuit_breaker", family="timeout", variants=4)
def missing_breaker(ctx: Ctx) -> Outcome:
    """A batch job keeps calling a dependency that fails every request, item after item."""
    b = ctx.b
    tickers = ("NWRB", "ACME", "GLBX", "INIT", "VNDL", "HOOL", "UMBR", "STRK", "WAYN", "CYBD", "TYRL", "OSCP")
    n = 8 + ctx.v % 4
    b.workflow = "portfolio-refresh"
    root = b.agent(
        ctx.cast.lead,
        service=SERVICES["lead"],
        start=0.0,
        input=f"Refresh the quarterly financials for the {n} holdings in portfolio GROWTH-7.",
    )
    worker = b.agent(
        ctx.cast.worker, service=SERVICES["worker"], start=5.0, parent=root, input="refresh holdings"
    )
    t = 20.0
    fails: list[Step] = []
    for tk in tickers[:n]:
        s = b.tool(
            worker,
            "get_financials",
            {"ticker": tk, "period": "2025-Q3"},
            start=t,
            end=t + 31.0,
            service="tool-gateway",
            failure=_fail("ServiceUnavailable", "503 marketdata upstream down", 503),
        )
        fails.append(s)
        t += 31.0 + b.rng.uniform(400, 900)  # paced like normal work: not a retry storm
    b.close_agent(worker, t, output=f"0 of {n} holdings refreshed")
    b.close_agent(root, t + 10, failure=_fail("PartialFailure", f"0 of {n} holdings refreshed"))
    exp = Expected(T, "missing_circuit_breaker", fails[0].span_id, ids(*fails))
    return Outcome(f"marketdata/{n}calls", "every call to a down dependency is still made", (exp,))


@scenario("timeout_inversion", family="timeout", variants=4)
def timeout_inversion(ctx: Ctx) -> Outcome:
    """The worker has a 30 s budget but calls its tool with a 120 s timeout: the tool keeps running
    (and is paid for) after the worker gave up."""
    case = DOMAINS[(ctx.v + 4) % len(DOMAINS)](ctx.v)
    caller_s, callee_s = ((30, 120), (20, 90), (15, 60), (30, 300))[ctx.v % 4]
    args = {**case.args, "timeout_s": callee_s}
    policy = f"Call {case.tool.name} with timeout_s={callee_s}; vendor reports can be slow."
    root, worker, call, _ = _start(ctx, case, args, policy)
    b = ctx.b
    tool = b.tool(
        worker,
        case.tool.name,
        args,
        start=1483.0,
        end=1483.0 + caller_s * 1000 + 26_000,
        result=case.result,
        service="tool-gateway",
        call_id=call.id,
    )
    b.close_agent(
        worker,
        624.0 + caller_s * 1000,
        failure=_fail("TimeoutError", f"{ctx.cast.worker} budget of {caller_s}s exceeded"),
    )
    b.close_agent(
        root, 640.0 + caller_s * 1000, failure=_fail("TimeoutError", f"{ctx.cast.worker} timed out")
    )
    exp = Expected(T, "timeout_inversion", tool.span_id, ids(tool, worker))
    return Outcome(
        f"{case.domain}/{caller_s}s<{callee_s}s", "callee timeout longer than caller's deadline", (exp,)
    )


@scenario("coordination_latency_collapse", family="timeout", variants=4)
def latency_collapse(ctx: Ctx) -> Outcome:
    """A 6–8 deep synchronous chain of agents, each waiting for the next; the hand-off overhead
    (serialising an ever-growing context) grows with depth until the chain is mostly waiting."""
    b = ctx.b
    depth = 6 + ctx.v % 3
    names = ("intake", "triage", "planner", "researcher", "analyst", "drafter", "editor", "publisher")[:depth]
    b.workflow = "report-chain"
    model = MODELS[ctx.v % len(MODELS)]
    chain: list[Step] = []
    t = 0.0
    parent: Step | None = None
    for i, name in enumerate(names):
        ag = b.agent(
            f"{name}_agent",
            service=f"{name}-agent",
            start=t,
            parent=parent,
            input="Produce the weekly incident report for the platform team.",
        )
        chain.append(ag)
        t += 150.0 * (i + 1) ** 1.6  # context serialisation and queueing before real work
        b.chat(
            ag,
            start=t,
            end=t + 700.0,
            model=model,
            input=[user("weekly incident report")],
            output=[assistant("Passing on.")],
            usage=usage_for(b, 1 + i, "Passing on."),
        )
        t += 702.0
        if i + 1 < depth:
            b.handoff(ag, f"{names[i + 1]}_agent", start=t, end=t + 2)
            t += 3
        parent = ag
    end = t
    for i, ag in enumerate(reversed(chain)):
        end += 120.0 * (depth - i)  # each level also pays to unwind
        b.close_agent(ag, end, output="report ready")
    exp = Expected(T, "coordination_latency_collapse", chain[0].span_id, ids(*chain))
    return Outcome(f"depth{depth}", f"{depth}-deep synchronous chain", (exp,))
