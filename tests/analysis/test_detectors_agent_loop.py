"""Structural detectors of an agent's own loop: step repetition (FM-1.3), history loss (FM-1.4),
termination unawareness (FM-1.5) and reasoning–action mismatch (FM-2.6) — each with a failing
trace and a near-miss that must stay clean."""

from __future__ import annotations

from analysis.detectors.history_loss import HistoryLoss
from analysis.detectors.reasoning_action_mismatch import ReasoningActionMismatch
from analysis.detectors.step_repetition import StepRepetition
from analysis.detectors.termination_unaware import TerminationUnaware
from tests.analysis.tracekit import TraceSpec, call, calls, response, text

SYS = {"role": "system", "parts": [{"type": "text", "content": "You are a helpful weather assistant."}]}


def _repeat(
    results: tuple[object, object], errors: tuple[bool, bool] = (False, False)
) -> tuple[TraceSpec, list[str]]:
    s = TraceSpec()
    root = s.agent("weather", 0, 100)
    ids = []
    for i, (res, err) in enumerate(zip(results, errors, strict=True)):
        cols = {"status_code": 2, "error_type": "HTTPError"} if err else {}
        ids.append(
            s.tool("get_forecast", 10 + 10 * i, 15 + 10 * i, root, {"city": "Oslo", "days": 3}, res, **cols)
        )
    return s, ids


def test_step_repetition_same_call_same_answer() -> None:
    s, (first, second) = _repeat(({"t": [3, 4, 5]}, {"t": [3, 4, 5]}))
    [f] = StepRepetition().detect(s.trace())
    assert (f.kind, f.origin_span_id, set(f.span_ids)) == ("step_repetition", second, {first, second})
    assert f.mast == ("FM-1.3",) and f.agents == ("weather",)


def test_step_repetition_ignores_polling_retries_and_side_effects() -> None:
    polled, _ = _repeat(({"status": "pending"}, {"status": "done"}))  # new information each time
    retried, _ = _repeat(({"t": [1]}, {"t": [1]}), errors=(True, False))  # a retry after an error
    s = TraceSpec()
    root = s.agent("mailer", 0, 100)
    s.tool("send_email", 10, 20, root, {"to": "a@b.c"}, {"ok": True})
    s.tool("send_email", 30, 40, root, {"to": "a@b.c"}, {"ok": True})  # duplicate_side_effect's business
    for spec in (polled, retried, s):
        assert StepRepetition().detect(spec.trace()) == []


def test_step_repetition_llm_answer_repeated_without_new_input() -> None:
    s = TraceSpec()
    root = s.agent("writer", 0, 100)
    ask = [text("user", "Summarise the incident report in two sentences please.")]
    answer = (
        "The outage was caused by an expired certificate on the gateway; traffic recovered after renewal."
    )
    s.llm(1, 10, root, ask, [text("assistant", answer)])
    again = s.llm(11, 20, root, [*ask, text("assistant", answer)], [text("assistant", answer + " ")])
    [f] = StepRepetition().detect(s.trace())
    assert f.origin_span_id == again and f.evidence["step"] == "llm"


def test_history_loss_when_user_turns_vanish() -> None:
    s = TraceSpec()
    root = s.agent("concierge", 0, 100)
    t1 = text("user", "I need a table for four on Friday.")
    a1 = text("assistant", "Which restaurant?")
    t2 = text("user", "Chez Marcel, around 8pm.")
    s.llm(1, 10, root, [SYS, t1], [a1])
    full = s.llm(11, 20, root, [SYS, t1, a1, t2], [text("assistant", "Shall I book it?")])
    t3 = text("user", "Yes, book it.")
    lost = s.llm(21, 30, root, [SYS, t3], [text("assistant", "For how many people, and where?")])
    [f] = HistoryLoss().detect(s.trace())
    assert f.origin_span_id == lost and full in f.span_ids
    assert f.severity == "high" and f.evidence["task_lost"] is True and f.mast == ("FM-1.4",)


def test_history_compaction_and_fresh_invocations_are_not_loss() -> None:
    s = TraceSpec()
    root = s.agent("orchestrator", 0, 100)
    task = text("user", "Find the cheapest flight and email it.")
    first = calls(call("search", {"q": "flights"}, "c1"))
    s.llm(1, 10, root, [task], [first])
    # compacts its own tool-call turns into a summary, keeps the user's words
    s.llm(11, 20, root, [task, first, response("c1", "AF12 at 99 EUR")], [text("assistant", "Emailing.")])
    s.llm(21, 30, root, [task, text("user", "Search result: AF12 at 99 EUR")], [text("assistant", "Done.")])
    # another invocation of a sub-agent starting afresh on a new sub-task
    sub1 = s.agent("helper", 31, 40, root)
    s.llm(32, 35, sub1, [text("user", "Translate 'hello' to French.")], [text("assistant", "bonjour")])
    sub2 = s.agent("helper", 41, 50, root)
    s.llm(42, 45, sub2, [text("user", "Translate 'bye' to German.")], [text("assistant", "tschüss")])
    assert HistoryLoss().detect(s.trace()) == []


def test_termination_unaware_keeps_going_after_done() -> None:
    s = TraceSpec()
    root = s.agent("ops", 0, 100)
    task = [text("user", "Restart the cache and confirm.")]
    s.llm(1, 5, root, task, [calls(call("restart_cache", {}, "c1"))])
    s.tool("restart_cache", 6, 8, root, {}, {"ok": True})
    stop = s.llm(9, 12, root, task, [text("assistant", "TASK COMPLETE: the cache was restarted.")])
    extra = s.llm(13, 16, root, task, [text("assistant", "Let me look at the cache once more.")])
    [f] = TerminationUnaware().detect(s.trace())
    assert f.origin_span_id == extra and stop in f.span_ids and f.evidence["signal"] == "after_stop"
    assert f.mast == ("FM-1.5",)


def test_termination_unaware_iteration_limit() -> None:
    s = TraceSpec()
    root = s.agent(
        "researcher",
        0,
        100,
        status_code=2,
        error_type="GraphRecursionError",
        status_message="Recursion limit of 25 reached without hitting a stop condition",
    )
    for i in range(3):
        s.llm(
            1 + i * 10,
            5 + i * 10,
            root,
            [text("user", "dig deeper")],
            [calls(call("search", {"i": i}, f"c{i}"))],
        )
        s.tool("search", 6 + i * 10, 9 + i * 10, root, {"i": i}, {"hits": i})
    [f] = TerminationUnaware().detect(s.trace())
    assert f.origin_span_id == root and f.evidence["signal"] == "max_iterations" and f.severity == "high"


def test_termination_new_user_turn_is_a_new_task() -> None:
    s = TraceSpec()
    root = s.agent("chat", 0, 100)
    q1 = text("user", "What is 2+2?")
    s.llm(1, 5, root, [q1], [text("assistant", "Final answer: 4")])
    s.llm(
        6,
        10,
        root,
        [q1, text("assistant", "Final answer: 4"), text("user", "And 3+3?")],
        [text("assistant", "6")],
    )
    assert TerminationUnaware().detect(s.trace()) == []


def test_reasoning_names_one_tool_and_calls_another() -> None:
    s = TraceSpec()
    root = s.agent("support", 0, 100)
    tools = [{"type": "function", "name": n} for n in ("check_balance", "close_account")]
    decide = s.llm(
        1,
        5,
        root,
        [text("user", "Is my balance positive?")],
        [calls(call("close_account", {"account": "A-17"}, "c1"))],
        reasoning="I should call check_balance for account A-17 first.",
        tool_definitions=tools,
    )
    run = s.tool("close_account", 6, 8, root, {"account": "A-17"}, {"closed": True}, tool_call_id="c1")
    [f] = ReasoningActionMismatch().detect(s.trace())
    assert f.origin_span_id == decide and run in f.span_ids and f.evidence["mismatch"] == "tool"
    assert f.mast == ("FM-2.6",)


def test_reasoning_argument_differs_from_call() -> None:
    s = TraceSpec()
    root = s.agent("trader", 0, 100)
    decide = s.llm(
        1,
        5,
        root,
        [text("user", "Buy some ACME")],
        [
            calls(
                call("place_order", {"symbol": "ACME", "quantity": 500}, "c1"),
                content="Thought: I'll use place_order with quantity 50 of ACME.",
            )
        ],
    )
    s.tool("place_order", 6, 8, root, {"symbol": "ACME", "quantity": 500}, {"ok": True}, tool_call_id="c1")
    [f] = ReasoningActionMismatch().detect(s.trace())
    assert f.origin_span_id == decide and f.evidence["mismatch"] == "arguments"
    assert f.evidence["argument"] == "quantity" and f.evidence["reasoned"] == "50"


def test_reasoning_about_past_or_avoided_tools_is_consistent() -> None:
    s = TraceSpec()
    root = s.agent("support", 0, 100)
    tools = [{"type": "function", "name": n} for n in ("check_balance", "close_account", "send_receipt")]
    s.llm(
        1,
        5,
        root,
        [text("user", "close it")],
        [calls(call("close_account", {"account": "A-17"}, "c1"))],
        reasoning="check_balance returned 0 earlier. Instead of send_receipt, I will call close_account.",
        tool_definitions=tools,
    )
    s.tool("close_account", 6, 8, root, {"account": "A-17"}, {"closed": True}, tool_call_id="c1")
    assert ReasoningActionMismatch().detect(s.trace()) == []


def test_react_text_naming_one_action_before_another_tool_span() -> None:
    s = TraceSpec()
    root = s.agent("react", 0, 100)
    tools = [{"type": "function", "name": n} for n in ("wiki_search", "calculator")]
    decide = s.llm(
        1,
        5,
        root,
        [text("user", "How tall is the Eiffel tower in feet?")],
        [text("assistant", "Thought: I need the height.\nAction: wiki_search\nAction Input: Eiffel")],
        tool_definitions=tools,
    )
    run = s.tool("calculator", 6, 8, root, {"expr": "330*3.28"}, {"value": 1082})
    [f] = ReasoningActionMismatch().detect(s.trace())
    assert f.origin_span_id == decide and run in f.span_ids and f.evidence["called"] == ["calculator"]


def test_iteration_limit_after_the_work_was_done_points_at_the_first_extra_step() -> None:
    s = TraceSpec()
    root = s.agent(
        "mailer", 0, 100, status_code=2, error_type="MaxTurnsExceeded", status_message="max_turns=6"
    )
    task = [text("user", "Email the report to Ana.")]
    s.llm(1, 5, root, task, [calls(call("send_email", {"to": "ana"}, "c1"))])
    sent = s.tool("send_email", 6, 8, root, {"to": "ana"}, {"ok": True}, tool_call_id="c1")
    first = s.llm(9, 12, root, task, [text("assistant", "Let me check the email went out.")])
    s.llm(13, 16, root, task, [text("assistant", "Checking once more.")])
    [f] = TerminationUnaware().detect(s.trace())
    assert (
        f.origin_span_id == first
        and f.evidence["done_span_id"] == sent
        and f.evidence["limit_span_id"] == root
    )
