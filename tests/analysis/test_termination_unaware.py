"""termination_unaware after an explicit stop: tool calls count as continued steps, the origin is
the first step after the stop, and the stop message's own delivery (a tool call it made, named, or
that carries its answer) is not a continued step. Each rule has a failing trace and a clean
near-miss."""

from __future__ import annotations

from analysis.detectors.termination_unaware import TerminationUnaware
from analysis.model import Finding
from tests.analysis.tracekit import TraceSpec, call, calls, response, text

ASK = [text("user", "Draft a two-line product blurb for the Aurora kettle.")]
BLURB = "Aurora boils a litre in ninety seconds and keeps it warm for an hour."


def _detect(s: TraceSpec) -> list[Finding]:
    return TerminationUnaware().detect(s.trace())


def test_tool_calls_after_terminate_line_count_and_the_first_is_the_origin() -> None:
    s = TraceSpec()
    root = s.agent("copywriter", 0, 200)
    stop = s.llm(1, 10, root, ASK, [text("assistant", f"{BLURB}\n\nTERMINATE")])
    first = s.tool("word_counter", 12, 14, root, {"text": "Aurora"}, {"words": 1})
    second = s.tool("style_guide_lookup", 15, 18, root, {"topic": "kettles"}, {"tone": "warm"})
    [f] = _detect(s)
    assert f.origin_span_id == first
    assert {stop, first, second} <= set(f.span_ids)
    assert f.evidence["stop_marker"] == "TERMINATE" and f.evidence["extra_steps"] == 2
    assert f.mast == ("FM-1.5",)


def test_a_single_tool_call_after_the_stop_is_enough() -> None:
    s = TraceSpec()
    root = s.agent("copywriter", 0, 200)
    s.llm(1, 10, root, ASK, [text("assistant", f"Final Answer: {BLURB}")])
    extra = s.tool("image_search", 12, 30, root, {"query": "steel kettle"}, {"hits": 3})
    [f] = _detect(s)
    assert f.origin_span_id == extra and f.evidence["extra_steps"] == 1


def test_terminate_stops_every_agent_of_the_chat() -> None:
    """Another agent's tool call after the protocol word is a continued step too."""
    s = TraceSpec()
    chat = s.agent("chat_manager", 0, 300)
    writer = s.agent("writer", 1, 50, chat)
    s.llm(2, 20, writer, ASK, [text("assistant", f"{BLURB} All good from my side. TERMINATE")])
    editor = s.agent("editor", 60, 120, chat)
    extra = s.tool("thesaurus_api", 61, 70, editor, {"term": "boils"}, {"alt": ["heats"]})
    [f] = _detect(s)
    assert f.origin_span_id == extra and set(f.agents) == {"writer", "editor"}


def test_the_origin_is_the_first_step_whether_tool_or_chat() -> None:
    s = TraceSpec()
    root = s.agent("copywriter", 0, 200)
    s.llm(1, 10, root, ASK, [text("assistant", f"{BLURB}\nTERMINATE")])
    tool = s.tool("rhyme_finder", 11, 13, root, {"word": "hour"}, {"rhymes": ["flour"]})
    s.llm(14, 20, root, ASK, [text("assistant", "Aurora, warm for an hour, kind as flour.")])
    [f] = _detect(s)
    assert f.origin_span_id == tool and f.evidence["extra_steps"] == 2


def test_delivering_the_answer_through_the_stop_messages_own_tool_call_is_clean() -> None:
    """The stop message calls the reply tool itself; the tool runs, the model reads its result."""
    s = TraceSpec()
    root = s.agent("helpdesk", 0, 200)
    own = calls(call("post_reply", {"body": BLURB}, "call-77"), content="Ticket solved. TERMINATE")
    stop = s.llm(1, 10, root, ASK, [own])
    s.tool("post_reply", 11, 15, root, {"body": BLURB}, {"posted": True}, tool_call_id="call-77")
    s.llm(16, 20, root, [*ASK, own, response("call-77", {"posted": True})], [text("assistant", "Posted.")])
    assert _detect(s) == []
    # near miss: the same delivery, then the agent goes on with new work
    more = s.tool("ticket_search", 21, 25, root, {"q": "kettle"}, {"hits": 2})
    [f] = _detect(s)
    assert f.origin_span_id == more and stop in f.span_ids


def test_a_tool_the_stop_message_names_is_its_delivery() -> None:
    s = TraceSpec()
    root = s.agent("notifier", 0, 200)
    s.llm(1, 10, root, ASK, [text("assistant", "Handing this over with publish_note now.\nTERMINATE")])
    s.tool("publish_note", 11, 15, root, {"note": "see draft"}, {"ok": True})
    assert _detect(s) == []
    # near miss: a tool it did not announce
    s2 = TraceSpec()
    root2 = s2.agent("notifier", 0, 200)
    s2.llm(1, 10, root2, ASK, [text("assistant", "Handing this over with publish_note now.\nTERMINATE")])
    other = s2.tool("archive_thread", 11, 15, root2, {"thread": "t-9"}, {"ok": True})
    [f] = _detect(s2)
    assert f.origin_span_id == other


def test_a_tool_call_carrying_the_answer_is_its_delivery() -> None:
    """No call ids recorded: the send tool's arguments hold the stop message's answer."""
    s = TraceSpec()
    root = s.agent("mailer", 0, 200)
    s.llm(1, 10, root, ASK, [text("assistant", f"Task complete. {BLURB}")])
    s.tool("dispatch_message", 11, 15, root, {"to": "team@acme.test", "body": BLURB}, {"ok": True})
    assert _detect(s) == []
    # near miss: arguments that share one word with the answer are not a delivery
    s2 = TraceSpec()
    root2 = s2.agent("mailer", 0, 200)
    s2.llm(1, 10, root2, ASK, [text("assistant", f"Task complete. {BLURB}")])
    extra = s2.tool("kettle_specs", 11, 15, root2, {"model": "Aurora"}, {"watts": 2200})
    [f] = _detect(s2)
    assert f.origin_span_id == extra


def test_terminate_as_an_instruction_or_in_prose_is_no_stop() -> None:
    for said in (
        "When the tests pass, reply TERMINATE so the chat can end. Running them now.",
        "We may terminate the lease early; let me check the clause.",
    ):
        s = TraceSpec()
        root = s.agent("planner", 0, 200)
        s.llm(1, 10, root, ASK, [text("assistant", said)])
        s.tool("run_checks", 11, 15, root, {"suite": "unit"}, {"passed": 12})
        s.llm(16, 20, root, ASK, [text("assistant", "Checks passed.")])
        assert _detect(s) == [], said


def test_a_send_tool_the_stop_message_says_it_will_use_is_its_delivery() -> None:
    recap = "Recap ready for Globex; emailing it to the client now. TERMINATE"
    s = TraceSpec()
    root = s.agent("account_manager", 0, 200)
    s.llm(1, 10, root, ASK, [text("assistant", recap)])
    s.tool("send_email", 11, 15, root, {"to": "cfo@globex.test", "subject": "Q3 recap"}, {"id": "m-1"})
    assert _detect(s) == []
    # near miss: the message says the recap already went out; sending again is a continued step
    s2 = TraceSpec()
    root2 = s2.agent("account_manager", 0, 200)
    s2.llm(1, 10, root2, ASK, [text("assistant", "Recap sent to Globex. TERMINATE")])
    again = s2.tool("send_email", 11, 15, root2, {"to": "cfo@globex.test"}, {"id": "m-2"})
    [f] = _detect(s2)
    assert f.origin_span_id == again
