"""A few structural MAST scenarios: step repetition, a duplicated side effect, ignoring a stop."""

from __future__ import annotations

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.labels import Expected, Scenario
from bench.holdout.otelkit import Recorder


def repeated_search(r: Recorder, c: Convention) -> list[Expected]:
    """The same literature search, same arguments, same hits, four times in a row."""
    svc = "lit-review"
    root = c.agent(
        r, svc, None, 0, 12000, "Literature Scout", "Survey graphene thermal conductivity.", "Found 2 papers."
    )
    args = {"query": "graphene thermal conductivity", "year_from": "2019"}
    hits = {
        "papers": [
            {"doi": "10.1038/nmat3064", "title": "Thermal properties of graphene"},
            {"doi": "10.1021/nl0731872", "title": "Superior thermal conductivity"},
        ]
    }
    spans = []
    t = 100.0
    for i in range(4):
        call = Call(f"s{i}", "search_papers", args)
        c.llm(
            r,
            svc,
            root,
            t,
            t + 900,
            [Msg("user", "Survey graphene thermal conductivity.")],
            Msg("assistant", calls=(call,)),
            tools={"search_papers": ["query", "year_from"]},
        )
        spans.append(c.tool(r, svc, root, t + 950, t + 1800, "search_papers", args, hits, call_id=f"s{i}"))
        t += 2000
    return [Expected("step_repetition", "step_repetition", spans[1], also=(spans[2],))]


def double_charge(r: Recorder, c: Convention) -> list[Expected]:
    """A payment tool runs twice with the same order and amount; both succeed."""
    svc = "checkout-agent"
    root = c.agent(r, svc, None, 0, 6000, "Checkout Assistant", "Pay 149.90 EUR for order ORD-5512.", "Paid.")
    args = {"order": "ORD-5512", "amount": "149.90", "currency": "EUR"}
    call = Call("p1", "charge_card", args)
    c.llm(
        r,
        svc,
        root,
        50,
        800,
        [Msg("user", "Pay 149.90 EUR for order ORD-5512.")],
        Msg("assistant", calls=(call,)),
        tools={"charge_card": list(args)},
    )
    c.tool(
        r,
        svc,
        root,
        850,
        1900,
        "charge_card",
        args,
        {"charge_id": "ch_7f3a", "status": "succeeded"},
        call_id="p1",
    )
    call2 = Call("p2", "charge_card", args)
    c.llm(
        r,
        svc,
        root,
        1950,
        2800,
        [
            Msg("user", "Pay 149.90 EUR for order ORD-5512."),
            Msg("assistant", calls=(call,)),
            Msg("tool", "charge ch_7f3a succeeded", call_id="p1"),
        ],
        Msg("assistant", "Let me make sure the payment went through.", calls=(call2,)),
        tools={"charge_card": list(args)},
    )
    second = c.tool(
        r,
        svc,
        root,
        2850,
        3900,
        "charge_card",
        args,
        {"charge_id": "ch_9b21", "status": "succeeded"},
        call_id="p2",
    )
    return [Expected("duplicate_side_effect", "duplicate_side_effect", second)]


def ignores_terminate(r: Recorder, c: Convention) -> list[Expected]:
    """The writer says TERMINATE, then keeps polishing with more calls."""
    svc = "blog-crew"
    root = c.agent(r, svc, None, 0, 9000, "Blog Writer", "Write a 3-line haiku post about autumn.", "Posted.")
    c.llm(
        r,
        svc,
        root,
        50,
        1500,
        [Msg("user", "Write a 3-line haiku post about autumn.")],
        Msg("assistant", "Crimson maples fall / ... \nTERMINATE"),
    )
    extra = c.tool(r, svc, root, 1600, 2400, "thesaurus", {"word": "crimson"}, {"synonyms": ["scarlet"]})
    c.llm(
        r,
        svc,
        root,
        2500,
        4000,
        [Msg("user", "Write a 3-line haiku post about autumn.")],
        Msg("assistant", "Scarlet maples fall / ..."),
    )
    c.tool(r, svc, root, 4100, 4600, "thesaurus", {"word": "maples"}, {"synonyms": ["sycamores"]})
    return [Expected("termination_unaware", "termination_unaware", extra)]


def terminate_then_tools(r: Recorder, c: Convention) -> list[Expected]:
    """The agent declares the task complete, then keeps acting through tool calls only."""
    svc = "cad-assistant"
    task = "Export the bracket drawing to STEP."
    root = c.agent(r, svc, None, 0, 6000, "CAD Assistant", task, "Exported.")
    c.llm(
        r, svc, root, 50, 1200, [Msg("user", task)], Msg("assistant", "Exported bracket.step. Task complete.")
    )
    extra = c.tool(r, svc, root, 1300, 2200, "mesh_check", {"file": "bracket.step"}, {"ok": True})
    c.tool(r, svc, root, 2300, 3100, "export_step", {"file": "bracket.step"}, {"ok": True})
    return [Expected("termination_unaware", "termination_unaware", extra)]


SCENARIOS = [
    Scenario("repeated_search", "genai", repeated_search, False),
    Scenario("double_charge", "openinference", double_charge, False),
    Scenario("ignores_terminate", "genai", ignores_terminate, False),
    Scenario("terminate_then_tools", "openinference", terminate_then_tools, False),
]
