"""Clean controls of the hallucination family: the same pipelines with every claim grounded.

The near-misses a claim detector must accept: rounded amounts ("$4.23B" → "$4.2B"), unit and
format changes ("4,230 million dollars", "412 GBP"), derived numbers (a difference of two tool
numbers), entities that come from the user's request, tools that are declared, lookups that succeed.
"""

from __future__ import annotations

from sample_traces.scenarios.content import DOMAINS, MODELS
from sample_traces.scenarios.flows import PipelineSpec, run_pipeline
from sample_traces.scenarios.hallucination import _lookup_agent
from sample_traces.scenarios.model import ToolCall
from sample_traces.scenarios.registry import Ctx, Outcome, scenario


@scenario("grounded_pipeline", family="hallucination", variants=26, clean=True)
def grounded_pipeline(ctx: Ctx) -> Outcome:
    """Research → write → act with a brief that restates tool data (rounded / converted) only."""
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v // len(DOMAINS))
    ctx.b.workflow = case.workflow
    shape = ("direct", "memory", "depth2", "verified")[(ctx.v // 2) % 4]
    spec = PipelineSpec(
        case=case,
        cast=ctx.cast,
        brief=case.brief,
        model=MODELS[(ctx.v + 2) % len(MODELS)],
        via_memory=shape == "memory",
        depth=2 if shape == "depth2" else 1,
        verify=shape == "verified",
        reasoning=ctx.v % 3 == 0,
    )
    run_pipeline(ctx.b, spec)
    return Outcome(f"{case.domain}/{shape}", f"grounded brief ({case.grounding})")


@scenario("successful_lookup_retry", family="hallucination", variants=6, clean=True)
def successful_lookup(ctx: Ctx) -> Outcome:
    """A declared tool is called with an entity from the request and a first, too-narrow query
    comes back empty before the right one succeeds: nothing was invented."""
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v)
    first = ToolCall(ctx.b.call_id(), case.tool.name, {**case.args, "strict": True})
    _lookup_agent(ctx, case, first, [case.tool], {"status": "pending", "retry_after_s": 1}, None, case.brief)
    return Outcome(f"{case.domain}/lookup", "declared tool, entities from the request, lookup succeeds")
