"""The trace builder and the three conventions, through real SDK spans (in-memory exporter)."""

from __future__ import annotations

import json
import random

from opentelemetry.trace import StatusCode

from sample_traces.scenarios import conventions
from sample_traces.scenarios.builder import TraceBuilder
from sample_traces.scenarios.model import Failure, ToolCall, ToolDef, Usage, assistant, tool_result, user
from sample_traces.scenarios.telemetry import Capture

BASE = 1_772_442_000_000_000_000
FLIGHTS = ToolDef("search_flights", "Search flights.", {"origin": "string", "date": "string"})


def _build(conv: conventions.ConventionName, capture: Capture) -> TraceBuilder:
    capture.ids.reseed(7)
    b = TraceBuilder(
        capture,
        conventions.get(conv),
        base_ns=BASE,
        workflow="trip",
        conversation_id="conv_1",
        rng=random.Random(1),
        skew_ms={"tool-gateway": -250.0},
    )
    root = b.agent("planner", service="planner", start=0.0, input="Fly LHR to JFK on 2025-11-14")
    b.handoff(root, "booker", start=10.0, end=11.5)
    booker = b.agent("booker", service="booker", start=12.0, parent=root, links=[root])
    call = ToolCall("call_1", "search_flights", {"origin": "LHR", "date": "2025-11-14"})
    b.chat(
        booker,
        start=13.0,
        end=900.0,
        model="gpt-4o",
        input=[user("Fly LHR to JFK on 2025-11-14")],
        output=[assistant("Searching.", reasoning="Need flights first.", calls=[call])],
        tools=[FLIGHTS],
        usage=Usage(120, 30, reasoning=12),
        system="Book flights.",
    )
    b.tool(
        booker,
        "search_flights",
        call.arguments,
        start=901.0,
        end=31_901.0,
        service="tool-gateway",
        call_id=call.id,
        failure=Failure("TimeoutError", "search timed out", http_status=504),
    )
    b.chat(
        booker,
        start=31_902.0,
        end=32_500.0,
        model="gpt-4o",
        input=[user("Fly"), assistant(calls=[call]), tool_result(call, {"error": "timeout"})],
        output=[assistant("The search timed out.")],
    )
    b.memory(
        booker,
        "update_memory",
        store="trips",
        key="trip/1/status",
        records=[{"status": "failed"}],
        version=3,
        start=32_501.0,
        end=32_510.0,
    )
    b.close_agent(
        booker, 32_520.0, output="The search timed out.", failure=Failure("TimeoutError", "tool timeout")
    )
    b.close_agent(root, 32_600.0, output="failed")
    return b


def test_spans_have_explicit_times_parents_services_links_and_failures() -> None:
    capture = Capture()
    b = _build("genai", capture)
    spans = {s.name: s for s in capture.take()}
    root, booker = spans["invoke_agent planner"], spans["invoke_agent booker"]
    tool = spans["execute_tool search_flights"]
    assert root.start_time == BASE and root.end_time == BASE + 32_600_000_000
    assert booker.parent is not None and booker.parent.span_id == root.context.span_id
    assert booker.resource.attributes["service.name"] == "booker"
    assert root.resource.attributes["service.name"] == "planner"
    assert [lk.context.span_id for lk in booker.links] == [root.context.span_id]
    # the skewed service's clock is 250 ms behind
    assert tool.start_time == BASE + 901_000_000 - 250_000_000
    assert tool.status.status_code is StatusCode.ERROR and tool.attributes["error.type"] == "TimeoutError"
    assert tool.attributes["http.response.status_code"] == 504
    assert [e.name for e in tool.events] == ["exception"] and tool.events[0].timestamp == tool.end_time
    mem = spans["update_memory trips"]
    assert mem.attributes["gen_ai.memory.record.id"] == "trip/1/status"
    assert mem.attributes["faultlens.memory.version"] == 3
    assert json.loads(str(mem.attributes["gen_ai.memory.records"])) == [{"status": "failed"}]
    assert spans["execute_tool transfer_to_booker"].attributes["gen_ai.tool.name"] == "transfer_to_booker"
    assert len({s.trace_id for s in b.steps}) == 1


def test_seeded_ids_make_the_build_repeatable() -> None:
    a, c = Capture(), Capture()
    ids_a = [s.span_id for s in _build("openinference", a).steps]
    ids_c = [s.span_id for s in _build("openinference", c).steps]
    assert ids_a == ids_c and len(set(ids_a)) == len(ids_a)


def test_genai_convention_messages_are_semconv_parts() -> None:
    capture = Capture()
    _build("genai", capture)
    chat = next(s for s in capture.take() if s.name == "chat gpt-4o")
    a = chat.attributes
    out = json.loads(str(a["gen_ai.output.messages"]))
    assert [p["type"] for p in out[0]["parts"]] == ["reasoning", "text", "tool_call"]
    assert out[0]["finish_reason"] == "tool_call"
    assert json.loads(str(a["gen_ai.system_instructions"])) == [{"type": "text", "content": "Book flights."}]
    assert json.loads(str(a["gen_ai.tool.definitions"]))[0]["name"] == "search_flights"
    assert a["gen_ai.usage.reasoning.output_tokens"] == 12 and a["gen_ai.operation.name"] == "chat"


def test_openinference_convention_flattens_messages() -> None:
    capture = Capture()
    _build("openinference", capture)
    spans = capture.take()
    chat = next(s for s in spans if s.attributes.get("openinference.span.kind") == "LLM")
    a = chat.attributes
    assert a["llm.input_messages.0.message.role"] == "system"
    assert a["llm.input_messages.1.message.content"] == "Fly LHR to JFK on 2025-11-14"
    assert str(a["llm.output_messages.0.message.content"]).startswith("<think>Need flights first.</think>")
    assert a["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == "search_flights"
    assert a["llm.token_count.total"] == 150
    tools = [
        s.attributes["tool.name"] for s in spans if s.attributes.get("openinference.span.kind") == "TOOL"
    ]
    assert sorted(tools) == ["search_flights", "transfer_to_booker"]
    agent = next(s for s in spans if s.attributes.get("openinference.span.kind") == "AGENT")
    assert agent.attributes["agent.name"] in {"planner", "booker"}


def test_openllmetry_convention_uses_prompt_and_completion_keys() -> None:
    capture = Capture()
    _build("openllmetry", capture)
    spans = capture.take()
    chat = next(s for s in spans if s.name == "openai.chat")
    a = chat.attributes
    assert a["gen_ai.prompt.0.role"] == "system" and a["gen_ai.prompt.1.role"] == "user"
    assert a["gen_ai.completion.0.tool_calls.0.name"] == "search_flights"
    assert a["llm.request.functions.0.name"] == "search_flights"
    assert a["llm.usage.total_tokens"] == 150
    second = [s for s in spans if s.name == "openai.chat"][1].attributes
    assert second["gen_ai.prompt.1.role"] == "assistant"
    assert second["gen_ai.prompt.2.role"] == "tool" and second["gen_ai.prompt.2.tool_call_id"] == "call_1"
    tool = next(s for s in spans if s.name == "search_flights.tool")
    assert json.loads(str(tool.attributes["traceloop.entity.input"]))["kwargs"]["origin"] == "LHR"
