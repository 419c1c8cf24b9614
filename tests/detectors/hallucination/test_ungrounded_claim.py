"""``ungrounded_claim``: a claim that first appears unsupported and then reaches another agent,
shared memory, a side-effecting call or the final output — and the clean near-misses that must stay
clean (rounding, unit conversion, derived percentages, the task's own entities, system-prompt facts,
list numbering, claims that never left their agent)."""

from __future__ import annotations

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = HallucinationPropagation()
QUESTION = "Prepare a short brief on Acme Corp's Q3 2024 results for the board."
SYSTEM = "You are a financial research assistant for Contoso Ltd. Cite tool data only."
FINANCIALS = {
    "company": "Acme Corp",
    "revenue_usd_millions": 3120,
    "prior_quarter_revenue_usd_millions": 2790,
    "employees": 1487,
}


def _pipeline(
    research: str, brief: str, *, verifier: str | None = None, name: str = "pipeline"
) -> TraceBuilder:
    """orchestrator → researcher (tool call, then a summary) → writer (→ verifier) → final answer."""
    b = TraceBuilder(name)
    b.agent("root", None, 0, 10, "orchestrator", input=QUESTION, output=brief)
    b.agent("researcher", "root", 0.1, 4, "researcher", input=QUESTION, output=research)
    b.chat(
        "r1",
        "researcher",
        0.2,
        0.8,
        input=[("user", QUESTION)],
        system=SYSTEM,
        tools=["get_financials"],
        tool_calls=[("get_financials", {"company": "Acme Corp", "quarter": "Q3 2024"})],
    )
    b.tool(
        "t1",
        "researcher",
        0.9,
        1.2,
        "get_financials",
        {"company": "Acme Corp", "quarter": "Q3 2024"},
        FINANCIALS,
    )
    b.chat(
        "r2",
        "researcher",
        1.3,
        2.0,
        system=SYSTEM,
        tools=["get_financials"],
        output=research,
        input=[("user", QUESTION), ("tool", str(FINANCIALS))],
    )
    b.agent("writer", "root", 4.1, 8, "writer", input=research, output=brief)
    b.chat(
        "w1",
        "writer",
        4.2,
        7.5,
        input=[("user", f"Write the board brief from this research:\n{research}")],
        system="You write concise board briefs.",
        output=brief,
    )
    if verifier is not None:
        b.agent("verifier", "root", 8.1, 9.5, "fact_checker", input=brief, output=verifier)
        b.chat("v1", "verifier", 8.2, 9.4, input=[("user", f"Check this brief: {brief}")], output=verifier)
    return b


def _claims(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "ungrounded_claim"]


def test_invented_revenue_propagates_to_writer_and_final_output() -> None:
    research = (
        "Acme Corp reported revenue of $4.7B in Q3 2024, up 12% quarter over quarter, with ~1,500 staff."
    )
    brief = "Board brief: Acme Corp's Q3 2024 revenue reached 4.7 billion dollars (+12% QoQ)."
    (f,) = _claims(DETECTOR.detect(_pipeline(research, brief).build()))
    assert f.detector == "hallucination_propagation"
    assert f.origin_span_id == sid("r2")  # the model call that wrote it, not the agent span around it
    assert {sid("writer"), sid("w1"), sid("root")} <= set(f.span_ids) and f.span_ids[0] == sid("r2")
    assert f.agents[0] == "researcher" and "writer" in f.agents
    ev = f.evidence
    assert ev["claim"] == "$4.7B" and ev["normalized"] == "money:usd:4.7e+09"
    assert ev["reached_final_output"] is True and ev["reached_agents"] == ["writer"]
    assert f.severity == "high" and f.mast == ("FM-3.2",)
    # "12%" (3120 vs 2790: +11.8%) and "~1,500 staff" (1487) are derivations, not inventions
    assert [c["claim"] for c in ev["claims"]] == ["$4.7B"]


def test_occurrence_offsets_point_into_the_message_part() -> None:
    research = "Revenue: $4.7B for Q3 2024."
    brief = "The board should note revenue of $4.7B."
    trace = _pipeline(research, brief).build()
    (f,) = _claims(DETECTOR.detect(trace))
    rows = {r["span_id"]: r for r in trace.spans.iter_rows(named=True)}
    import orjson

    for occ in f.evidence["occurrences"]:
        content = orjson.loads(rows[occ["span_id"]][occ["field"]])[occ["message"]]["parts"][occ["part"]][
            "content"
        ]
        assert content[occ["start"] : occ["end"]] == occ["text"]
    first = f.evidence["occurrences"][0]
    assert (first["span_id"], first["field"], first["text"]) == (sid("r2"), "output_messages", "$4.7B")


def test_grounded_restatements_stay_clean() -> None:
    # rounding (3120 → $3.1B), conversion (millions → billion), a derived percentage, the task's own
    # entity and quarter, a system-prompt entity, list numbering and step counts
    research = (
        "Findings for Acme Corp, Q3 2024:\n1. Revenue was $3.1B, up 11.8% from $2.79 billion.\n"
        "2. Headcount is about 1,500 (1487 employees).\n3. Prepared in 2 steps for Contoso Ltd."
    )
    brief = "Acme Corp's Q3 2024 revenue was 3.12 billion USD, growth of 12%, per Contoso Ltd research."
    assert _claims(DETECTOR.detect(_pipeline(research, brief).build())) == []


def test_unsupported_claim_that_never_leaves_its_agent_is_not_reported() -> None:
    b = TraceBuilder("contained")
    b.agent("root", None, 0, 5, "analyst", input=QUESTION, output="Acme Corp revenue was $3.1B in Q3 2024.")
    b.tool("t1", "root", 0.1, 0.5, "get_financials", {"company": "Acme Corp"}, FINANCIALS)
    # a draft guess in an intermediate model call, corrected before anything left the agent
    b.chat(
        "c1",
        "root",
        0.6,
        1.0,
        input=[("user", QUESTION), ("tool", str(FINANCIALS))],
        output="Draft: maybe revenue was $9.9B? Let me re-check the tool data.",
    )
    b.chat(
        "c2",
        "root",
        1.1,
        2.0,
        input=[("user", QUESTION), ("tool", str(FINANCIALS))],
        output="Acme Corp revenue was $3.1B in Q3 2024.",
    )
    assert DETECTOR.detect(b.build()) == []


def test_claim_written_to_shared_memory_and_read_by_another_agent() -> None:
    b = TraceBuilder("memory")
    b.agent("root", None, 0, 10, "planner", input=QUESTION)
    b.agent("a", "root", 0.1, 3, "researcher")
    b.chat("a1", "a", 0.2, 1.0, input=[("user", QUESTION)], output="Acme's CFO is Dr. Helena Voss.")
    b.memory("w", "a", 1.1, 1.3, "create_memory", "cfo", {"cfo": "Dr. Helena Voss"}, version="1")
    b.agent("b", "root", 3.1, 6, "emailer")
    b.memory("r", "b", 3.2, 3.4, "search_memory", "cfo", {"cfo": "Dr. Helena Voss"}, version="1")
    b.chat("b1", "b", 3.5, 4.0, input=[("user", "Draft a note to the CFO, Dr. Helena Voss.")], output="Done.")
    (f,) = _claims(DETECTOR.detect(b.build()))
    assert f.origin_span_id == sid("a1")
    assert f.evidence["claim"] == "Dr. Helena Voss" and f.evidence["memory_writes"] == [sid("w")]
    assert {sid("w"), sid("r"), sid("b1")} <= set(f.span_ids)
    assert f.evidence["reached_agents"] == ["emailer"] and f.severity == "medium"


def test_invented_identifier_drives_a_side_effecting_call() -> None:
    user = "Please refund my last order, it was $129.99 and arrived broken."
    b = TraceBuilder("refund")
    b.agent("root", None, 0, 5, "support", input=user, output="Your refund has been issued.")
    b.chat(
        "c1",
        "root",
        0.1,
        1.0,
        input=[("user", user)],
        tools=["refund_order", "lookup_orders"],
        tool_calls=[("refund_order", {"order_id": "ORD-88412", "amount": 129.99})],
    )
    b.tool(
        "t1",
        "root",
        1.1,
        1.5,
        "refund_order",
        {"order_id": "ORD-88412", "amount": 129.99},
        {"status": "refunded"},
    )
    b.chat(
        "c2",
        "root",
        1.6,
        2.0,
        input=[("user", user), ("tool", '{"status": "refunded"}')],
        output="Your refund has been issued.",
    )
    (f,) = _claims(DETECTOR.detect(b.build()))
    assert f.origin_span_id == sid("c1") and f.evidence["claim"] == "ORD-88412"
    assert {"span_id": sid("t1"), "tool": "refund_order"} in f.evidence["side_effects"]
    assert sid("t1") in f.span_ids and f.severity == "high"


def test_looked_up_identifier_in_a_side_effecting_call_is_clean() -> None:
    user = "Please refund my last order, it was $129.99 and arrived broken."
    orders = {"orders": [{"order_id": "ORD-88412", "total": 129.99}]}
    b = TraceBuilder("refund-ok")
    b.agent("root", None, 0, 5, "support", input=user, output="Your refund for ORD-88412 has been issued.")
    b.chat(
        "c1",
        "root",
        0.1,
        0.5,
        input=[("user", user)],
        tools=["refund_order", "lookup_orders"],
        tool_calls=[("lookup_orders", {"limit": 1})],
    )
    b.tool("t0", "root", 0.6, 0.8, "lookup_orders", {"limit": 1}, orders)
    b.chat(
        "c2",
        "root",
        0.9,
        1.0,
        input=[("user", user), ("tool", str(orders))],
        tool_calls=[("refund_order", {"order_id": "ORD-88412", "amount": 129.99})],
    )
    b.tool(
        "t1",
        "root",
        1.1,
        1.5,
        "refund_order",
        {"order_id": "ORD-88412", "amount": 129.99},
        {"status": "refunded"},
    )
    b.chat(
        "c3",
        "root",
        1.6,
        2.0,
        input=[("user", user), ("tool", '{"status": "refunded"}')],
        output="Your refund for ORD-88412 has been issued.",
    )
    assert DETECTOR.detect(b.build()) == []


def test_verifier_that_passes_the_claim_makes_it_critical() -> None:
    research = "Acme Corp's Q3 2024 revenue was $4.7B."
    brief = "Acme Corp's Q3 2024 revenue was $4.7B."
    trace = _pipeline(research, brief, verifier="Verified: the brief is accurate and consistent.").build()
    (f,) = _claims(DETECTOR.detect(trace))
    assert f.evidence["verified_by"][0]["agent"] == "fact_checker" and f.evidence["verified_by"][0]["passed"]
    assert f.severity == "critical" and f.mast == ("FM-3.3",) and f.evidence["verified"] is True


def test_verifier_that_rejects_the_claim_is_recorded() -> None:
    research = "Acme Corp's Q3 2024 revenue was $4.7B."
    brief = "Acme Corp's Q3 2024 revenue was $4.7B."
    verdict = "The revenue figure is not supported by the tool data."
    (f,) = _claims(DETECTOR.detect(_pipeline(research, brief, verifier=verdict).build()))
    assert f.evidence["seen_by_verifier"] is True and f.evidence["verified"] is False
    assert [v["passed"] for v in f.evidence["verified_by"]] == [False]


def test_detection_is_deterministic() -> None:
    research = "Acme Corp reported revenue of $4.7B, led by CFO Marta Quill."
    brief = "Revenue $4.7B; CFO Marta Quill."
    trace = _pipeline(research, brief).build()
    first = DETECTOR.detect(trace)
    assert [f.id for f in first] == [f.id for f in DETECTOR.detect(trace)]
    (f,) = first
    assert {c["claim"] for c in f.evidence["claims"]} == {"$4.7B", "Marta Quill"}


def test_more_restatements_that_are_not_inventions() -> None:
    # today's date (the trace ran on 2025-06-15), an inline label, a line-item total, a currency
    # conversion at a rate the tool returned, and a team sign-off
    ask = "Summarise invoice INV-2291 for the customer, in euros too."
    invoice = {
        "invoice": "INV-2291",
        "items": [{"usd": 412.0}, {"usd": 618.25}, {"usd": 205.15}],
        "eur_rate": 0.92,
    }
    report = (
        "Prepared on June 15, 2025.\n**Root Cause:** none, the invoice is correct.\n"
        "Invoice INV-2291 totals $1,235.40; its first item is €379.04 at the quoted rate.\n\n"
        "Best regards,\nSupport Team"
    )
    b = TraceBuilder("near-misses")
    b.agent("root", None, 0, 10, "coordinator", input=ask, output=report)
    b.agent("fetcher", "root", 0.1, 3, "fetcher", input=ask)
    b.tool("t1", "fetcher", 0.2, 0.5, "get_invoice", {"invoice": "INV-2291"}, invoice)
    b.agent("writer", "root", 3.1, 8, "writer", input=str(invoice), output=report)
    b.chat("w1", "writer", 3.2, 7.5, input=[("user", f"{ask}\nData: {invoice}")], output=report)
    assert DETECTOR.detect(b.build()) == []


def test_invented_person_only_in_tool_arguments_of_a_side_effect() -> None:
    ask = "Book a 30 minute call with our account manager next week."
    b = TraceBuilder("name-in-args")
    b.agent("root", None, 0, 5, "scheduler", input=ask, output="Booked.")
    args = {"attendee": "Dr. Priya Natarajan", "duration_minutes": 30, "week": "next"}
    b.chat(
        "c1",
        "root",
        0.1,
        1.0,
        input=[("user", ask)],
        tools=["book_meeting"],
        tool_calls=[("book_meeting", args)],
    )
    b.tool("t1", "root", 1.1, 1.5, "book_meeting", args, {"status": "booked"})
    (f,) = _claims(DETECTOR.detect(b.build()))
    assert f.origin_span_id == sid("c1") and f.evidence["claim"] == "Dr. Priya Natarajan"
    assert [s["tool"] for s in f.evidence["side_effects"]] == ["book_meeting", "book_meeting"]
    occ = f.evidence["occurrences"][0]
    assert occ["field"] == "output_messages" and occ["text"] == "Dr. Priya Natarajan"
