"""More hallucination shapes: a claim relayed through shared memory instead of messages, agents
instrumented without LLM spans (only AGENT and TOOL spans), and not-found answers phrased other ways."""

from __future__ import annotations

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.gen_hallucination import HP, BadCall, bad_call
from bench.holdout.labels import Expected, Scenario
from bench.holdout.otelkit import Recorder


def via_blackboard(r: Recorder, c: Convention) -> list[Expected]:
    """The researcher's inflated revenue figure is stored on the blackboard; the writer reads and
    publishes it."""
    svc = "earnings-desk"
    task = "Write a short note on HLX's Q3 2026 results."
    root = c.agent(r, svc, None, 0, 9000, "Desk Editor", task, "Published.")
    res = c.agent(r, svc, root, 100, 3000, "Researcher", task, "noted")
    args = {"ticker": "HLX", "quarter": "Q3 2026"}
    call = Call("f1", "get_financials", args)
    c.llm(
        r,
        svc,
        res,
        150,
        700,
        [Msg("user", task)],
        Msg("assistant", calls=(call,)),
        tools={"get_financials": list(args)},
    )
    result = '{"ticker": "HLX", "quarter": "Q3 2026", "revenue_usd": 3912400, "net_income_usd": 402100}'
    c.tool(r, svc, res, 720, 1300, "get_financials", args, result, call_id="f1")
    claim = "HLX Q3 2026 revenue was $4.8M with net income of $402,100."
    origin = c.llm(
        r,
        svc,
        res,
        1320,
        2700,
        [Msg("user", task), Msg("assistant", calls=(call,)), Msg("tool", result, call_id="f1")],
        Msg("assistant", claim),
    )
    c.memory(r, svc, res, 2750, 2800, "create_memory", "desk-notes", "hlx-q3", {"summary": claim})
    wr = c.agent(
        r, svc, root, 3100, 8800, "Writer", "Turn the desk note on HLX into an article.", "Published."
    )
    c.memory(r, svc, wr, 3150, 3200, "search_memory", "desk-notes", "hlx-q3", [{"summary": claim}])
    article = "HLX booked $4.8M of revenue in Q3 2026 and $402,100 of net income."
    pub = Call("p1", "publish_article", {"slug": "hlx-q3-2026", "body": article})
    c.llm(
        r,
        svc,
        wr,
        3250,
        6000,
        [Msg("user", "Desk note: " + claim)],
        Msg("assistant", calls=(pub,)),
        tools={"publish_article": ["slug", "body"]},
    )
    c.tool(r, svc, wr, 6050, 6600, "publish_article", pub.args, {"published": True}, call_id="p1")
    return [Expected(HP, "ungrounded_claim", origin, also=(res,))]


def agents_only(r: Recorder, c: Convention) -> list[Expected]:
    """Minimal instrumentation: AGENT and TOOL spans only, no LLM spans. The fact finder misstates
    the tool's height figure; the quiz writer builds a question on it."""
    svc = "quiz-studio"
    task = "Make one quiz question about the Eiffel Tower's height."
    root = c.agent(r, svc, None, 0, 5000, "Quiz Master", task, "Q: How tall is the Eiffel Tower? A: 324 m")
    finder = c.agent(
        r, svc, root, 100, 2000, "Fact Finder", task, "The Eiffel Tower is 324 m tall and opened in 1889."
    )
    c.tool(
        r,
        svc,
        finder,
        200,
        900,
        "wiki_lookup",
        {"topic": "Eiffel Tower"},
        "Eiffel Tower: wrought-iron lattice tower in Paris, 330 m tall, opened 31 March 1889.",
    )
    writer = c.agent(
        r,
        svc,
        root,
        2100,
        4900,
        "Quiz Writer",
        "Fact Finder says: The Eiffel Tower is 324 m tall and opened in 1889.",
        "Q: How tall is the Eiffel Tower? A: 324 m",
    )
    del writer
    return [Expected(HP, "ungrounded_claim", finder)]


NOT_FOUND = [
    (
        "patient_not_found",
        "genai",
        BadCall(
            "clinic-assist",
            "Chart Summariser",
            "Summarise the latest labs for Mrs. Okafor.",
            {"get_patient": ["mrn"], "find_patient": ["name"]},
            "get_patient",
            {"mrn": "MRN-558120"},
            "Error: patient MRN-558120 does not exist",
            "I could not open the chart.",
            False,
        ),
    ),
    (
        "sku_not_found",
        "openinference",
        BadCall(
            "merch-ops",
            "Stock Checker",
            "Is the extra-large trail jacket in stock?",
            {"get_stock": ["sku"], "search_catalog": ["text"]},
            "get_stock",
            {"sku": "SKU-4410-XL"},
            {"status": 404, "detail": "Unknown SKU SKU-4410-XL"},
            "I could not find that jacket's stock level.",
            False,
        ),
    ),
]


SCENARIOS = [
    Scenario("revenue_via_blackboard", "genai", via_blackboard, False),
    Scenario("eiffel_agents_only", "openinference", agents_only, False),
] + [Scenario(n, conv, bad_call(d), False) for n, conv, d in NOT_FOUND]
