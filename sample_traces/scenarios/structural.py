"""Structural MAST failure modes, duplicate side effects and noisy neighbours (SPEC §5.4).

Origins (sample_traces/README.md): step repetition starts at the first unnecessary repeat (the
second identical call); history loss at the LLM call whose input dropped the earlier turns;
termination-unaware at the first step after the task was done; premature termination at the LLM
call that ends the task early; missing verification at the side effect executed without the
required check; reasoning–action mismatch at the LLM call whose tool call contradicts its own
reasoning; a duplicate side effect at the second execution; a noisy neighbour at the first call of
the flooding agent's burst.
"""

from __future__ import annotations

from sample_traces.scenarios.builder import Step
from sample_traces.scenarios.content import DOMAINS, MODELS, SERVICES, coding, finance, support, travel
from sample_traces.scenarios.flows import final_text
from sample_traces.scenarios.model import Expected, Failure, Json, ToolDef, user
from sample_traces.scenarios.registry import Ctx, Outcome, ids, scenario
from sample_traces.scenarios.solo import Solo

FOUR = (travel, finance, support, coding)


@scenario("step_repetition", family="structural", variants=4)
def step_repetition(ctx: Ctx) -> Outcome:
    """The agent re-runs the same lookup with the same arguments 3–5 times before answering."""
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case)
    n = 3 + ctx.v % 3
    tools = [
        s.act(case.tool.name, case.args, case.result, reasoning="Let me look that up.")[1] for _ in range(n)
    ]
    s.act(case.side_tool.name, case.side_args(final_text(case, case.brief)), {"status": "ok"})
    s.llm(case.brief)
    s.finish(case.brief)
    exp = Expected("step_repetition", "step_repetition", tools[1].span_id, ids(*tools))
    return Outcome(f"{case.domain}/{n}x", f"same {case.tool.name} call {n} times", (exp,))


_FOLLOW_UPS: dict[str, tuple[str, str, str, str]] = {
    "travel": (
        "Make it an aisle seat and add Flying Club number VS-55120448.",
        "Noted: aisle seat and Flying Club VS-55120448.",
        "Go ahead and book it.",
        "Which flight should I book, and do you have a frequent-flyer number?",
    ),
    "finance": (
        "Keep it under 150 words and lead with the growth figure.",
        "Noted: under 150 words, growth first.",
        "Send it now.",
        "Which company should the brief cover, and who should receive it?",
    ),
    "support": (
        "The customer prefers store credit over a card refund.",
        "Noted: store credit instead of a card refund.",
        "Process it.",
        "Which order is this about, and how should the customer be refunded?",
    ),
    "coding": (
        "Assign it to the billing on-call and tag it as a regression.",
        "Noted: billing on-call, regression tag.",
        "File it.",
        "Which test is failing, and which team should own the ticket?",
    ),
}


@scenario("history_loss", family="structural", variants=4)
def history_loss(ctx: Ctx) -> Outcome:
    """After a few turns the agent's context is truncated to the last message; it asks again for
    what the user already said."""
    case = FOUR[ctx.v % 4](ctx.v)
    constraint, ack, go, reask = _FOLLOW_UPS[case.domain]
    s = Solo(ctx, case)
    s.act(case.tool.name, case.args, case.result)
    s.llm(case.brief)
    s.user_says(constraint)
    full = s.llm(ack)
    s.user_says(go)
    lost = s.llm(reask, history=[user(go)])
    s.user_says(f"As I said: {constraint}")
    s.act(case.side_tool.name, case.side_args(final_text(case, case.brief)), {"status": "ok"})
    s.llm("Done.")
    s.finish("done")
    exp = Expected("history_loss", "history_loss", lost.span_id, ids(lost, full))
    return Outcome(f"{case.domain}/truncated", "context truncated to the last user message", (exp,))


@scenario("termination_unaware", family="structural", variants=4)
def termination_unaware(ctx: Ctx) -> Outcome:
    """The task is done (message sent, answer given) but the agent keeps working until max_turns."""
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case)
    s.act(case.tool.name, case.args, case.result)
    text = final_text(case, case.brief)
    s.act(case.side_tool.name, case.side_args(text), {"status": "ok"})
    s.llm(f"Done. {case.brief}")
    after = [s.llm("Let me double-check whether anything else is needed.")]
    after.append(s.llm("Reviewing the wording once more."))
    after.append(s.llm("Checking whether the recipient needs more detail."))
    if ctx.v % 2:
        after.append(s.llm("One more pass over the summary."))
    s.finish("", failure=Failure("MaxTurnsExceeded", "max_turns=10 reached"))
    exp = Expected("termination_unaware", "termination_unaware", after[0].span_id, ids(*after))
    return Outcome(f"{case.domain}/{len(after)}extra", "keeps going after the task is complete", (exp,))


@scenario("premature_termination", family="structural", variants=4)
def premature_termination(ctx: Ctx) -> Outcome:
    """The task requires a side effect (send / file / refund); the agent stops after the lookup."""
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case, system=f"Complete every step of the task, including {case.side_tool.name}.")
    s.act(case.tool.name, case.args, case.result)
    stop = s.llm(f"Here is what I found: {case.brief}")
    s.finish(case.brief)
    exp = Expected("premature_termination", "premature_termination", stop.span_id, ids(stop, s.worker))
    return Outcome(f"{case.domain}/no-{case.side_tool.name}", f"stops before {case.side_tool.name}", (exp,))


VERIFY = ToolDef(
    "verify_facts",
    "Check a draft against the source data; returns pass or fail.",
    {"draft": "string", "sources": "string"},
)


@scenario("missing_verification", family="structural", variants=4)
def missing_verification(ctx: Ctx) -> Outcome:
    """Policy requires ``verify_facts`` before any outgoing action; the agent skips it."""
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(
        ctx,
        case,
        tools=[case.tool, VERIFY, case.side_tool],
        system=f"Before {case.side_tool.name} you must call verify_facts on the draft and get 'pass'.",
    )
    s.act(case.tool.name, case.args, case.result)
    text = final_text(case, case.brief)
    decide, side = s.act(case.side_tool.name, case.side_args(text), {"status": "ok"})
    s.llm(case.brief)
    s.finish(case.brief)
    exp = Expected("missing_verification", "missing_verification", side.span_id, ids(side, decide))
    return Outcome(f"{case.domain}/unverified-{case.side_tool.name}", "required verification skipped", (exp,))


_MISMATCH: dict[str, tuple[str, dict[str, Json]]] = {
    "travel": (
        "I'll search_flights for LHR to JFK on 2025-11-14 first, then book.",
        {
            "to": "priya.raman@fabrikam.io",
            "subject": "Your flight LHR-JFK on 2025-11-14",
            "body": "Booking in progress.",
        },
    ),
    "finance": (
        "I need get_financials for NWRB 2025-Q3 before drafting anything.",
        {"to": "cfo@contoso-capital.com", "subject": "NWRB Q3 2025 brief", "body": "Brief to follow."},
    ),
    "support": (
        "I must confirm eligibility with lookup_order for 4471-2290 before any refund.",
        {"order_id": "4471-2290", "reason": "arrived damaged"},
    ),
    "coding": (
        "I'll run_tests on tests/billing/test_invoices.py to reproduce before filing anything.",
        {
            "project": "billing",
            "title": "test_invoice_rounding fails on main",
            "description": "Investigating.",
        },
    ),
}


@scenario("reasoning_action_mismatch", family="structural", variants=4)
def reasoning_action_mismatch(ctx: Ctx) -> Outcome:
    """The model's reasoning names one step; its tool call does another (the side effect first)."""
    case = FOUR[ctx.v % 4](ctx.v)
    thought, args = _MISMATCH[case.domain]
    s = Solo(ctx, case)
    decide, side = s.act(case.side_tool.name, args, {"status": "ok"}, reasoning=thought)
    s.act(case.tool.name, case.args, case.result)
    s.llm(case.brief)
    s.finish(case.brief)
    exp = Expected(
        "reasoning_action_mismatch", "reasoning_action_mismatch", decide.span_id, ids(decide, side)
    )
    return Outcome(f"{case.domain}/{case.side_tool.name}", "reasoning says look up, action acts", (exp,))


@scenario("duplicate_side_effect", family="structural", variants=4)
def duplicate_side_effect(ctx: Ctx) -> Outcome:
    """The same non-idempotent call (email, refund, ticket) runs twice with the same arguments."""
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case)
    s.act(case.tool.name, case.args, case.result)
    args = dict(case.side_args(final_text(case, case.brief)))
    if ctx.v % 2:
        args["idempotency_key"] = f"{case.workflow}-{ctx.b.rng.randint(100000, 999999)}"
    first = s.act(case.side_tool.name, args, {"status": "ok", "id": "op-1"})[1]
    second = s.act(
        case.side_tool.name,
        args,
        {"status": "ok", "id": "op-2"},
        text="I am not sure the first call went through; sending again.",
    )[1]
    s.llm(case.brief)
    s.finish(case.brief)
    exp = Expected("duplicate_side_effect", "duplicate_side_effect", second.span_id, ids(second, first))
    key = "idempotency-key" if "idempotency_key" in args else "same-args"
    return Outcome(f"{case.domain}/{case.side_tool.name}/{key}", "non-idempotent call executed twice", (exp,))


@scenario("noisy_neighbour", family="structural", variants=3)
def noisy_neighbour(ctx: Ctx) -> Outcome:
    """A bulk indexer floods the shared embeddings/LLM quota; other agents' calls get 429s."""
    b = ctx.b
    b.workflow = "knowledge-base-sync"
    model = MODELS[ctx.v % len(MODELS)]
    root = b.agent(
        ctx.cast.lead,
        service=SERVICES["lead"],
        start=0.0,
        input="Sync the knowledge base and answer the queue.",
    )
    indexer = b.agent(
        "bulk_indexer", service="indexer", start=5.0, parent=root, input="re-embed 4,800 documents"
    )
    burst: list[Step] = []
    t = 10.0
    for i in range(10 + ctx.v * 2):
        burst.append(
            b.tool(
                indexer,
                "embed_documents",
                {"batch": i, "documents": 256},
                start=t,
                end=t + 140.0,
                result={"embedded": 256},
                service="tool-gateway",
            )
        )
        t += b.rng.uniform(60, 90)
    b.close_agent(indexer, t + 150, output="indexed")
    victims: list[Step] = []
    for j, make in enumerate(DOMAINS[:3]):
        case = make(ctx.v)
        start = 200.0 + j * 180
        ag = b.agent(
            f"{case.domain}_agent",
            service=f"{case.domain}-agent",
            start=start,
            parent=root,
            input=case.request,
        )
        victims.append(
            b.chat(
                ag,
                start=start + 3,
                end=start + 40,
                model=model,
                input=[user(case.request)],
                failure=Failure("RateLimitError", "429 Too Many Requests: retry after 20s", 429),
            )
        )
        b.close_agent(ag, start + 45, failure=Failure("RateLimitError", "rate limited"))
    b.close_agent(root, t + 200, output="partial")
    exp = Expected("noisy_neighbour", "noisy_neighbour", burst[0].span_id, ids(*burst, *victims))
    return Outcome(f"{len(burst)}-call-burst", "bulk indexer starves three agents", (exp,))
