"""Workflow-level detectors: premature termination (FM-3.1), missing verification (FM-3.2),
duplicate side effects and noisy neighbours — failing traces and near-misses; plus attribution
and the MAST table."""

from __future__ import annotations

from analysis.attribution import attribute
from analysis.detectors.duplicate_side_effect import DuplicateSideEffect
from analysis.detectors.missing_verification import MissingVerification
from analysis.detectors.noisy_neighbour import NoisyNeighbour
from analysis.detectors.premature_termination import PrematureTermination
from analysis.detectors.step_repetition import StepRepetition
from analysis.happens_before import handoff_target
from analysis.mast import MODES, modes_for
from analysis.model import Finding
from tests.analysis.tracekit import TraceSpec, call, calls, response, text

ASK = [text("user", "Reconcile the March invoices and post the journal entry.")]


def test_premature_termination_unexecuted_call_and_instructed_tool() -> None:
    s = TraceSpec()
    root = s.agent("accountant", 0, 100)
    s.llm(
        1,
        5,
        root,
        ASK,
        [calls(call("fetch_invoices", {"month": 3}, "c1"), call("post_journal", {}, "c2"))],
        system_instructions=[{"type": "text", "content": "Always finish with post_journal."}],
        tool_definitions=[{"type": "function", "name": "post_journal"}],
    )
    s.tool("fetch_invoices", 6, 8, root, {"month": 3}, {"n": 12}, tool_call_id="c1")
    final = s.llm(
        9, 12, root, [*ASK, response("c1", {"n": 12})], [text("assistant", "12 invoices reconciled.")]
    )
    [f] = PrematureTermination().detect(s.trace())
    assert f.origin_span_id == final and f.mast == ("FM-3.1",)
    assert set(f.evidence["signals"]) == {"unexecuted_call", "instructed"}


def test_premature_termination_failed_last_step_without_admitting_it() -> None:
    s = TraceSpec()
    root = s.agent("accountant", 0, 100)
    s.tool("post_journal", 6, 8, root, {"entry": 1}, None, status_code=2, error_type="ValidationError")
    final = s.llm(9, 12, root, ASK, [text("assistant", "All reconciled and posted.")])
    [f] = PrematureTermination().detect(s.trace())
    assert f.origin_span_id == final and f.evidence["signals"] == ["failed_step"]


def test_completed_or_honest_answers_are_not_premature() -> None:
    done = TraceSpec()
    root = done.agent("accountant", 0, 100)
    done.llm(
        1,
        5,
        root,
        ASK,
        [calls(call("post_journal", {}, "c1"))],
        system_instructions=[{"type": "text", "content": "Always finish with post_journal."}],
    )
    done.tool("post_journal", 6, 8, root, {}, {"ok": True}, tool_call_id="c1")
    done.llm(9, 12, root, ASK, [text("assistant", "Posted.")])
    honest = TraceSpec()
    root = honest.agent("accountant", 0, 100)
    honest.tool("post_journal", 6, 8, root, {}, None, status_code=2, error_type="Unavailable")
    honest.llm(
        9, 12, root, ASK, [text("assistant", "I could not post the entry: the ledger is unavailable.")]
    )
    for spec in (done, honest):
        assert PrematureTermination().detect(spec.trace()) == []


def _trip(enrichment_failed: bool, answer: str, side_effect: bool = False) -> tuple[TraceSpec, str]:
    """A planner looks up flights (works), then an optional enrichment call (weather, or a
    booking when ``side_effect``) that may time out, then answers."""
    ask = [text("user", "Plan my trip to Lisbon next week.")]
    s = TraceSpec()
    root = s.agent("planner", 0, 100)
    s.tool("search_flights", 2, 4, root, {"to": "LIS"}, {"flights": ["TP123 09:40"]})
    enrichment = "book_hotel" if side_effect else "get_weather_forecast"
    status = {"status_code": 2, "error_type": "TimeoutError"} if enrichment_failed else {}
    s.tool(enrichment, 5, 8, root, {"city": "Lisbon"}, None if enrichment_failed else {"ok": 1}, **status)
    final = s.llm(9, 12, root, ask, [text("assistant", answer)])
    return s, final


def test_a_failed_optional_lookup_the_answer_does_not_rely_on_is_not_premature() -> None:
    spec, _ = _trip(True, "Take flight TP123 at 09:40; here is a three-day plan for Lisbon.")
    assert PrematureTermination().detect(spec.trace()) == []


def test_a_failed_lookup_whose_subject_the_answer_still_states_is_premature() -> None:
    spec, final = _trip(True, "Take flight TP123 at 09:40. The forecast says sunny all week.")
    [f] = PrematureTermination().detect(spec.trace())
    assert f.origin_span_id == final and f.evidence["signals"] == ["failed_step"]


def test_a_failed_side_effect_is_premature_even_when_other_steps_worked() -> None:
    spec, final = _trip(True, "Take flight TP123 at 09:40; enjoy Lisbon!", side_effect=True)
    [f] = PrematureTermination().detect(spec.trace())
    assert f.origin_span_id == final and f.evidence["signals"] == ["failed_step"]


def _pipeline(verify_at: float | None) -> tuple[TraceSpec, dict[str, str]]:
    """lookup → (verify?) → send_report, by an agent told to check before sending."""
    s = TraceSpec()
    root = s.agent("reporter", 0, 100)
    tools = [{"type": "function", "name": n} for n in ("lookup_sales", "validate_figures", "send_report")]
    ids = {"lookup": s.tool("lookup_sales", 2, 4, root, {"q": "Q1"}, {"total": 10})}
    if verify_at is not None:
        ids["verify"] = s.tool(
            "validate_figures", verify_at, verify_at + 1, root, {"total": 10}, {"ok": True}
        )
    ids["decide"] = s.llm(
        10, 12, root, ASK, [calls(call("send_report", {"total": 10}, "c9"))], tool_definitions=tools
    )
    ids["send"] = s.tool("send_report", 13, 15, root, {"total": 10}, {"ok": True}, tool_call_id="c9")
    ids["final"] = s.llm(16, 18, root, ASK, [text("assistant", "Report sent.")], tool_definitions=tools)
    return s, ids


def test_missing_verification_of_an_action() -> None:
    s, ids = _pipeline(verify_at=None)
    [f] = MissingVerification().detect(s.trace())
    assert f.origin_span_id == ids["send"] and ids["decide"] in f.span_ids and ids["lookup"] in f.span_ids
    assert f.evidence["verification"] == "none" and f.severity == "high" and f.mast == ("FM-3.2",)


def test_verified_pipeline_and_unverifiable_workflows_are_clean() -> None:
    verified, _ = _pipeline(verify_at=5)
    plain = TraceSpec()  # no verifier anywhere, nothing declared: nothing to miss
    root = plain.agent("bot", 0, 50)
    plain.tool("lookup_sales", 1, 2, root, {}, {"total": 1})
    plain.llm(3, 4, root, ASK, [text("assistant", "Total is 1.")])
    for spec in (verified, plain):
        assert MissingVerification().detect(spec.trace()) == []


def test_missing_verification_before_the_final_answer_with_a_reviewer_agent() -> None:
    s = TraceSpec()
    root = s.agent("lead", 0, 100)
    res = s.agent("researcher", 1, 20, root)
    s.tool("web_search", 2, 5, res, {"q": "x"}, {"hits": 3})
    rev = s.agent("reviewer", 21, 30, root)
    s.llm(22, 25, rev, [text("user", "check")], [text("assistant", "looks right")])
    late = s.agent("researcher", 31, 40, root)  # new results after the review
    s.tool("web_search", 32, 35, late, {"q": "y"}, {"hits": 1})
    final = s.llm(41, 45, root, ASK, [text("assistant", "Here is the answer.")])
    [f] = MissingVerification().detect(s.trace())
    assert f.origin_span_id == final and f.evidence["verification"] == "incomplete"


def test_duplicate_side_effects() -> None:
    s = TraceSpec()
    root = s.agent("billing", 0, 100)
    first = s.tool("charge_card", 1, 2, root, {"amount": 30, "card": "x1"}, {"id": "ch_1"})
    second = s.tool("charge_card", 3, 4, root, {"card": "x1", "amount": 30}, {"id": "ch_2"})
    keyed1 = s.tool(
        "createRefund",
        5,
        6,
        root,
        {"args": [], "kwargs": {"idempotency_key": "k7", "amount": 5}},
        {"id": "r1"},
    )
    keyed2 = s.tool(
        "createRefund",
        7,
        8,
        root,
        {"args": [], "kwargs": {"idempotency_key": "k7", "amount": 5}},
        {"id": "r2"},
    )
    found = {f.evidence["match"]: f for f in DuplicateSideEffect().detect(s.trace())}
    assert found["arguments"].origin_span_id == second and set(found["arguments"].span_ids) == {first, second}
    assert found["idempotency_key"].origin_span_id == keyed2 and keyed1 in found["idempotency_key"].span_ids
    assert found["arguments"].severity == "high"


def test_safe_repeats_are_not_duplicate_side_effects() -> None:
    s = TraceSpec()
    root = s.agent("billing", 0, 100)
    s.tool("get_invoice", 1, 2, root, {"id": 1}, {"a": 1})  # a read
    s.tool("get_invoice", 3, 4, root, {"id": 1}, {"a": 1})
    s.tool(
        "charge_card",
        5,
        6,
        root,
        {"amount": 9},
        None,
        status_code=2,
        error_type="CardDeclined",
        http_status_code=402,
    )  # refused: nothing happened
    s.tool("charge_card", 7, 8, root, {"amount": 9}, {"id": "ch_9"})
    k = {"idempotency_key": "k1", "amount": 3}
    s.tool("charge_card", 9, 10, root, k, None, status_code=2, error_type="TimeoutError")
    s.tool("charge_card", 11, 12, root, k, {"id": "ch_3"})  # retried with the same key: safe
    s.tool("send_sms", 13, 14, root, {"to": "1"}, {"ok": 1})
    s.tool("send_sms", 15, 16, root, {"to": "2"}, {"ok": 1})  # different arguments
    assert DuplicateSideEffect().detect(s.trace()) == []


def test_noisy_neighbour_across_traces() -> None:
    hog = TraceSpec()
    root = hog.agent("crawler", 0, 2000)
    burst = [hog.tool("fetch_page", 10 + i * 50, 40 + i * 50, root, {"i": i}, {"ok": 1}) for i in range(12)]
    victims = []
    for k in range(2):
        v = TraceSpec()
        ag = v.agent(f"answerer{k}", 100 + k * 200, 300 + k * 200)
        victims.append(
            (
                v,
                v.tool(
                    "fetch_page",
                    110 + k * 200,
                    120 + k * 200,
                    ag,
                    {"q": k},
                    None,
                    status_code=2,
                    error_type="TooManyRequests",
                    http_status_code=429,
                ),
            )
        )
    findings = NoisyNeighbour().detect_window([hog.trace()] + [v.trace() for v, _ in victims])
    assert {f.trace_id for f in findings} == {v.trace_id for v, _ in victims}
    for f in findings:
        assert f.evidence["noisy_agent"] == "crawler" and f.kind == "noisy_neighbour"
        assert f.origin_span_id in {span for _, span in victims}
    quiet = NoisyNeighbour().detect_window([hog.trace()])
    assert quiet == [] and burst


def test_attribution_picks_the_causally_earliest_origin() -> None:
    s = TraceSpec()
    root = s.agent("lead", 0, 100)
    early = s.tool("lookup", 1, 2, root, {}, {})
    late = s.llm(3, 4, root, ASK, [text("assistant", "x")])
    trace = s.trace()

    def mk(origin: str, severity: str) -> Finding:
        return Finding("d", "k", s.trace_id, origin, (origin,), ("lead",), severity, (), "s")  # type: ignore[arg-type]

    att = attribute(trace, [mk(late, "critical"), mk(early, "low")])
    assert att is not None and att.span_id == early and att.agent == "lead" and "precedes" in att.reason
    assert attribute(trace, [mk(early, "info")]) is None


def test_repeated_hand_offs_are_not_step_repetition() -> None:
    """Reject, revise, re-check: the same argument-less transfer twice moves the work back and forth;
    ``transfer_funds`` is no hand-off at all (it moves money, not control)."""
    s = TraceSpec()
    root = s.agent("analyst", 0, 100)
    for i in range(2):
        s.tool("transfer_to_fact_checker", 10 + 20 * i, 12 + 20 * i, root, {}, "Transferred to fact_checker")
    assert StepRepetition().detect(s.trace()) == []
    assert handoff_target("transfer_to_fact_checker") == "factchecker"
    assert handoff_target("transfer_funds") is None


def test_mast_table_and_mapping() -> None:
    assert [m.id for m in MODES] == [
        f"FM-{a}.{b}" for a, n in ((1, 5), (2, 6), (3, 3)) for b in range(1, n + 1)
    ]
    passed = {"seen_by_verifier": True, "verified": True}
    assert modes_for("hallucination_propagation", "ungrounded_claim", passed) == ("FM-3.3",)
    caught = {"seen_by_verifier": True, "verified": False}  # the check worked: not an incorrect one
    assert modes_for("hallucination_propagation", "ungrounded_claim", caught) == ("FM-3.2",)
    assert modes_for("hallucination_propagation", "ungrounded_claim", {}) == ("FM-3.2",)
    assert modes_for("timeout_cascade", "retry_storm") == ("FM-1.3",)
    assert modes_for("unknown", "x", fallback=("FM-2.2", "bogus")) == ("FM-2.2",)


def test_missing_verification_when_a_reviewer_is_offered_but_never_called() -> None:
    s = TraceSpec()
    root = s.agent("lead", 0, 100)
    offer = [{"type": "function", "name": n} for n in ("web_search", "transfer_to_reviewer")]
    s.tool("web_search", 2, 5, root, {"q": "x"}, {"hits": 3})
    final = s.llm(6, 9, root, ASK, [text("assistant", "Answer without review.")], tool_definitions=offer)
    [f] = MissingVerification().detect(s.trace())
    assert f.origin_span_id == final and f.evidence["declared_by"] == "verifier hand-off transfer_to_reviewer"


def test_a_prompt_that_lists_the_tools_is_not_a_plan() -> None:
    s = TraceSpec()
    root = s.agent("assistant", 0, 100)
    tools = [{"type": "function", "name": n} for n in ("web_search", "send_email", "book_flight")]
    catalogue = "You must use the tools web_search, send_email and book_flight when they help. Be concise."
    s.tool("web_search", 1, 2, root, {"q": "x"}, {"hits": 1})
    s.llm(
        3,
        5,
        root,
        ASK,
        [text("assistant", "Here is what I found.")],
        system_instructions=[{"type": "text", "content": catalogue}],
        tool_definitions=tools,
    )
    assert PrematureTermination().detect(s.trace()) == []
