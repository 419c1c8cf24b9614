"""Clean controls of the structural family: the same solo agents behaving well.

Near-misses: the same tool called repeatedly with different arguments the user asked for; the
required verification done before the side effect; a clean stop once the task is done; a failed
side effect retried once with its idempotency key (it never executed twice); one 429 honoured with
its Retry-After; full history kept across turns; reasoning that matches the action."""

from __future__ import annotations

from dataclasses import replace

from sample_traces.scenarios.content import Case
from sample_traces.scenarios.flows import final_text
from sample_traces.scenarios.model import Failure, Json
from sample_traces.scenarios.registry import Ctx, Outcome, scenario
from sample_traces.scenarios.solo import Solo
from sample_traces.scenarios.structural import _FOLLOW_UPS, FOUR, VERIFY

_SWEEPS: dict[str, tuple[str, str, tuple[Json, ...]]] = {
    "travel": (
        "Compare nonstop fares from LHR to JFK on 2025-11-14, 2025-11-15 and 2025-11-16.",
        "date",
        ("2025-11-14", "2025-11-15", "2025-11-16"),
    ),
    "finance": (
        "Compare Q3 2025 revenue for tickers NWRB, ACME and GLBX.",
        "ticker",
        ("NWRB", "ACME", "GLBX"),
    ),
    "support": (
        "Check the delivery status of orders 4471-2290, 4471-2291 and 4471-2295.",
        "order_id",
        ("4471-2290", "4471-2291", "4471-2295"),
    ),
    "coding": (
        "Run tests/billing/test_invoices.py, tests/billing/test_tax.py and tests/billing/test_refunds.py.",
        "path",
        ("tests/billing/test_invoices.py", "tests/billing/test_tax.py", "tests/billing/test_refunds.py"),
    ),
}


@scenario("repeated_calls_different_args", family="structural", variants=6, clean=True)
def sweep(ctx: Ctx) -> Outcome:
    base = FOUR[ctx.v % 4](ctx.v)
    request, field, values = _SWEEPS[base.domain]
    case: Case = replace(base, request=request)
    s = Solo(ctx, case)
    for value in values:
        s.act(case.tool.name, {**case.args, field: value}, {**({"status": "ok"}), field: value})
    s.llm(f"Compared {', '.join(map(str, values))}.")
    s.finish("compared")
    return Outcome(f"{case.domain}/{field}x3", "same tool, three different arguments from the request")


@scenario("verified_side_effect", family="structural", variants=6, clean=True)
def verified(ctx: Ctx) -> Outcome:
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(
        ctx,
        case,
        tools=[case.tool, VERIFY, case.side_tool],
        system=f"Before {case.side_tool.name} you must call verify_facts on the draft and get 'pass'.",
    )
    s.act(case.tool.name, case.args, case.result)
    text = final_text(case, case.brief)
    s.act(VERIFY.name, {"draft": text, "sources": case.tool.name}, {"verdict": "pass"})
    s.act(case.side_tool.name, case.side_args(text), {"status": "ok"})
    s.llm(case.brief)
    s.finish(case.brief)
    return Outcome(f"{case.domain}/verified", "verification before the side effect")


@scenario("clean_termination", family="structural", variants=5, clean=True)
def clean_stop(ctx: Ctx) -> Outcome:
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case, system=f"Complete every step of the task, including {case.side_tool.name}.")
    s.act(case.tool.name, case.args, case.result)
    s.act(case.side_tool.name, case.side_args(final_text(case, case.brief)), {"status": "ok"})
    s.llm(f"Done. {case.brief}")
    s.finish(case.brief)
    return Outcome(f"{case.domain}/done", "every step done, then stops")


@scenario("idempotent_retry_after_failure", family="structural", variants=5, clean=True)
def idempotent_retry(ctx: Ctx) -> Outcome:
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case)
    s.act(case.tool.name, case.args, case.result)
    args = {**case.side_args(final_text(case, case.brief)), "idempotency_key": f"{case.workflow}-{ctx.v:04d}"}
    s.act(case.side_tool.name, args, failure=Failure("ServiceUnavailable", "503: request not processed", 503))
    s.clock.now += 1500
    s.act(
        case.side_tool.name,
        args,
        {"status": "ok"},
        text="The first attempt was rejected before processing; retrying.",
    )
    s.llm(case.brief)
    s.finish(case.brief)
    return Outcome(f"{case.domain}/503-then-ok", "side effect failed before executing, retried with its key")


@scenario("rate_limit_backoff", family="structural", variants=4, clean=True)
def rate_limit_ok(ctx: Ctx) -> Outcome:
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case)
    s.act(
        case.tool.name,
        case.args,
        failure=Failure("RateLimitError", "429 Too Many Requests: retry after 2s", 429),
    )
    s.clock.now += 2000
    s.act(case.tool.name, case.args, case.result, text="Rate limited; waited the 2s the server asked for.")
    s.act(case.side_tool.name, case.side_args(final_text(case, case.brief)), {"status": "ok"})
    s.llm(case.brief)
    s.finish(case.brief)
    return Outcome(f"{case.domain}/429-once", "one 429, Retry-After honoured")


@scenario("history_preserved", family="structural", variants=5, clean=True)
def history_kept(ctx: Ctx) -> Outcome:
    case = FOUR[ctx.v % 4](ctx.v)
    constraint, ack, go, _ = _FOLLOW_UPS[case.domain]
    s = Solo(ctx, case)
    s.act(case.tool.name, case.args, case.result)
    s.llm(case.brief)
    s.user_says(constraint)
    s.llm(ack)
    s.user_says(go)
    s.act(
        case.side_tool.name,
        case.side_args(final_text(case, case.brief)),
        {"status": "ok"},
        text="Proceeding with everything we agreed.",
    )
    s.llm("Done.")
    s.finish("done")
    return Outcome(f"{case.domain}/full-history", "multi-turn conversation with its history intact")


@scenario("reasoning_matches_action", family="structural", variants=5, clean=True)
def reasoning_ok(ctx: Ctx) -> Outcome:
    case = FOUR[ctx.v % 4](ctx.v)
    s = Solo(ctx, case)
    s.act(
        case.tool.name,
        case.args,
        case.result,
        reasoning=f"I'll call {case.tool.name} first to get the facts.",
    )
    s.act(
        case.side_tool.name,
        case.side_args(final_text(case, case.brief)),
        {"status": "ok"},
        reasoning=f"The facts are in; now {case.side_tool.name}.",
    )
    s.llm(case.brief)
    s.finish(case.brief)
    return Outcome(f"{case.domain}/consistent", "reasoning names the tool it then calls")
