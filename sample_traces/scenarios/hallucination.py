"""Hallucination propagation: ungrounded claims that travel, undeclared tools, not-found entities.

Origin conventions (sample_traces/README.md): an ungrounded claim's origin is the LLM span whose
output first carries it; ``span_ids`` are every span whose attributes carry the claim (the origin,
the fabricating agent's own spans after it, other agents' inputs, memory records, the final answer,
side-effecting tool calls). A tool hallucination's origin is the ``execute_tool`` span that ran the
call (its arguments and the not-found reply live there, SPEC §5.1); the LLM span that emitted the
call is in ``span_ids``.
"""

from __future__ import annotations

from sample_traces.scenarios.builder import Step
from sample_traces.scenarios.content import DOMAINS, MODELS, SERVICES, Case
from sample_traces.scenarios.flows import Clock, PipelineSpec, provider_of, run_pipeline, usage_for
from sample_traces.scenarios.model import (
    Expected,
    Failure,
    Json,
    ToolCall,
    ToolDef,
    assistant,
    tool_result,
    user,
)
from sample_traces.scenarios.registry import Ctx, Outcome, carriers, ids, scenario

H = "hallucination_propagation"


@scenario("fabricated_claim_propagates", family="hallucination", variants=15)
def fabricated_claim(ctx: Ctx) -> Outcome:
    """The worker's brief adds a claim found in none of its inputs; the writer, the final answer
    and the side-effecting call repeat it."""
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v)
    fab = case.fabrications[(ctx.v // len(DOMAINS) + ctx.v) % len(case.fabrications)]
    ctx.b.workflow = case.workflow
    shape = ("direct", "memory", "depth2", "verified")[ctx.v % 4]
    spec = PipelineSpec(
        case=case,
        cast=ctx.cast,
        brief=f"{case.brief} {fab.sentence}",
        model=MODELS[ctx.v % len(MODELS)],
        via_memory=shape == "memory",
        depth=2 if shape == "depth2" else 1,
        verify=shape == "verified",
        reasoning=ctx.v % 2 == 0,
    )
    p = run_pipeline(ctx.b, spec)
    exp = Expected(H, "ungrounded_claim", p.brief.span_id, tuple(carriers(ctx.b, fab.claim)), fab.claim)
    return Outcome(f"{case.domain}/{shape}/{fab.claim}", f"{ctx.cast.worker} invents '{fab.claim}'", (exp,))


_WRITER_FABRICATIONS: tuple[tuple[str, str], ...] = (
    ("m.chen@contoso-capital.com", "I have copied m.chen@contoso-capital.com from treasury."),
    ("2025-11-12", "Your seat is confirmed and the fare is locked until 2025-11-12."),
    ("BILLING-5512", "This looks like a repeat of BILLING-5512."),
    ("Journal of Metabolic Health", "The Journal of Metabolic Health calls it practice-changing."),
    ("$20 store credit", "We have also added a $20 store credit to your account."),
)


@scenario("writer_fabricates_into_side_effect", family="hallucination", variants=5)
def writer_fabricates(ctx: Ctx) -> Outcome:
    """The brief is grounded; the writer adds a claim of its own that lands in the side-effecting
    call (email, ticket, file, refund note) and the final answer."""
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v + 1)
    claim, sentence = _WRITER_FABRICATIONS[ctx.v % len(_WRITER_FABRICATIONS)]
    ctx.b.workflow = case.workflow
    spec = PipelineSpec(
        case=case,
        cast=ctx.cast,
        brief=case.brief,
        model=MODELS[(ctx.v + 1) % len(MODELS)],
        writer_extra=sentence,
        verify=ctx.v % 2 == 1,
    )
    p = run_pipeline(ctx.b, spec)
    exp = Expected(H, "ungrounded_claim", p.writer_chat.span_id, tuple(carriers(ctx.b, claim)), claim)
    return Outcome(f"{case.domain}/writer/{claim}", f"{ctx.cast.writer} adds '{claim}'", (exp,))


def _lookup_agent(
    ctx: Ctx,
    case: Case,
    call: ToolCall,
    declared: list[ToolDef],
    result: Json,
    failure: Failure | None,
    followup: str,
) -> tuple[Step, Step]:
    """lead → worker; the worker's first LLM call emits ``call`` (executed with ``result``), then
    it recovers with the declared tool and answers ``followup``. Returns (deciding LLM span, tool span)."""
    b = ctx.b
    b.workflow = case.workflow
    model = MODELS[ctx.v % len(MODELS)]
    prov = provider_of(model)
    clock = Clock(b)
    root = b.agent(ctx.cast.lead, service=SERVICES["lead"], start=0.0, input=case.request)
    s, e = clock.span(3, 6)
    b.handoff(root, ctx.cast.worker, start=s, end=e)
    worker = b.agent(
        ctx.cast.worker, service=SERVICES["worker"], start=clock.now + 1, parent=root, input=case.request
    )
    clock.now += 2
    s, e = clock.span(500, 1500)
    decide = b.chat(
        worker,
        start=s,
        end=e,
        model=model,
        provider=prov,
        input=[user(case.request)],
        output=[assistant(calls=[call])],
        tools=declared,
        usage=usage_for(b, 1, "call"),
        system=f"You are the {case.domain} agent. Only use the tools you are given.",
    )
    s, e = clock.span(80, 700)
    bad = b.tool(
        worker, call.name, call.arguments, start=s, end=e, result=result, failure=failure, call_id=call.id
    )
    good = ToolCall(b.call_id(), case.tool.name, case.args)
    msgs = [user(case.request), assistant(calls=[call]), tool_result(call, result)]
    s, e = clock.span(400, 1200)
    b.chat(
        worker,
        start=s,
        end=e,
        model=model,
        provider=prov,
        input=msgs,
        output=[assistant(calls=[good])],
        tools=declared,
        usage=usage_for(b, 3, "call"),
    )
    s, e = clock.span(150, 1200)
    b.tool(worker, case.tool.name, case.args, start=s, end=e, result=case.result, call_id=good.id)
    s, e = clock.span(600, 1800)
    b.chat(
        worker,
        start=s,
        end=e,
        model=model,
        provider=prov,
        input=[*msgs, assistant(calls=[good]), tool_result(good, case.result)],
        output=[assistant(followup)],
        tools=declared,
        usage=usage_for(b, 5, followup),
    )
    clock.now += 2
    b.close_agent(worker, clock.now, output=followup)
    clock.now += 3
    b.close_agent(root, clock.now, output=followup)
    return decide, bad


_UNDECLARED: tuple[tuple[str, dict[str, Json]], ...] = (
    ("get_analyst_consensus", {"ticker": "NWRB"}),
    ("check_visa_requirements", {"nationality": "GB", "destination": "US"}),
    ("git_blame", {"path": "tests/billing/test_invoices.py"}),
    ("pubmed_search", {"term": "time-restricted eating HbA1c"}),
    ("get_customer_lifetime_value", {"customer": "Lena Ortiz"}),
)


@scenario("undeclared_tool_call", family="hallucination", variants=6)
def undeclared_tool(ctx: Ctx) -> Outcome:
    """The model calls a tool that is not in the ``gen_ai.tool.definitions`` it was given."""
    i = ctx.v % len(DOMAINS)
    case = DOMAINS[i](ctx.v)
    name, args = _UNDECLARED[i]
    call = ToolCall(ctx.b.call_id(), name, args)
    rejected = ctx.v % 2 == 0  # half the gateways reject the call, half execute a stale registration
    failure = (
        Failure("ToolNotFoundError", f"tool '{name}' is not registered for this agent") if rejected else None
    )
    result: Json = (
        {"error": f"tool {name} is not registered"}
        if rejected
        else {"status": "ok", "note": "legacy endpoint"}
    )
    decide, bad = _lookup_agent(ctx, case, call, [case.tool], result, failure, case.brief)
    # origin: the model call that chose the undeclared tool (its first emission); bad ran it
    exp = Expected(H, "undeclared_tool", decide.span_id, ids(decide, bad), name)
    return Outcome(
        f"{case.domain}/{name}/{'rejected' if rejected else 'executed'}", f"calls undeclared {name}", (exp,)
    )


_NOT_FOUND: tuple[tuple[ToolDef, dict[str, Json], str], ...] = (
    (
        ToolDef(
            "get_financials", "Fetch reported quarterly financials.", {"ticker": "string", "period": "string"}
        ),
        {"ticker": "NWRX", "period": "2025-Q3"},
        "unknown ticker NWRX",
    ),
    (
        ToolDef("get_booking", "Retrieve a booking by reference.", {"reference": "string"}),
        {"reference": "HX7Q2L"},
        "booking HX7Q2L not found",
    ),
    (
        ToolDef("read_file", "Read a file from the repository.", {"path": "string"}),
        {"path": "billing/rounding_utils.py"},
        "FileNotFoundError: billing/rounding_utils.py does not exist",
    ),
    (
        ToolDef("fetch_url", "Fetch a web page.", {"url": "string"}),
        {"url": "https://www.nejm.org/doi/full/10.1056/NEJMoa2311482"},
        "404 Not Found",
    ),
    (
        ToolDef("lookup_order", "Look up an order.", {"order_id": "string"}),
        {"order_id": "4471-2209"},
        "order 4471-2209 not found",
    ),
)


@scenario("not_found_entity", family="hallucination", variants=6)
def not_found_entity(ctx: Ctx) -> Outcome:
    """The model invents an identifier (ticker, booking reference, file path, URL, order id) and the
    tool reports it does not exist."""
    i = ctx.v % len(DOMAINS)
    case = DOMAINS[i](ctx.v)
    tool, args, message = _NOT_FOUND[i]
    call = ToolCall(ctx.b.call_id(), tool.name, args)
    failure = Failure("NotFoundError", message, http_status=404) if ctx.v % 2 else None
    declared = [case.tool] if tool.name == case.tool.name else [case.tool, tool]
    decide, bad = _lookup_agent(ctx, case, call, declared, {"error": message}, failure, case.brief)
    entity = str(next(iter(args.values())))
    # origin: the model call that made the entity up; bad passed it on and got "not found"
    exp = Expected(H, "not_found_entity", decide.span_id, ids(decide, bad), entity)
    return Outcome(f"{case.domain}/{tool.name}", f"invents {entity}", (exp,))
