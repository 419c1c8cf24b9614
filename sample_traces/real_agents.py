"""A real multi-agent flow built with pydantic-ai, which runs without an LLM.

Three pydantic-ai ``Agent``s work together. The planner delegates to a researcher and then to a
writer, each through an async tool that runs the next agent. Each agent's model is a
``FunctionModel``: a scripted policy, not an LLM. Its spans are pydantic-ai's own native GenAI
instrumentation (``InstrumentationSettings``) with one tracer provider per service, so the
traces are what pydantic-ai really emits: invoke_agent / chat / execute_tool spans, semconv
messages, tool definitions and token usage.

``fabricate=True`` makes the researcher add a claim that none of its inputs support. The claim then
reaches the writer's ``send_email`` call, which gives ``hallucination_propagation/ungrounded_claim``
ground truth produced by real agent code. pydantic-ai is optional (``pip install pydantic-ai-slim``);
this module imports it lazily.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from sample_traces.scenarios.telemetry import Telemetry

REQUEST = (
    "Prepare a short brief on Northwind Robotics' Q3 2025 results (ticker NWRB) and email it to our CFO "
    "at cfo@contoso-capital.com."
)
FINANCIALS = {
    "company": "Northwind Robotics",
    "ticker": "NWRB",
    "period": "2025-Q3",
    "revenue": 4230000000,
    "net_income": 312000000,
    "revenue_growth_yoy_pct": 12.4,
}
BRIEF = "Northwind Robotics (NWRB) Q3 2025: revenue $4.2B, up 12.4% year over year; net income $312M."
CLAIM = "$5.1B"
FABRICATION = f" Management raised Q4 revenue guidance to {CLAIM}."


@dataclass(frozen=True)
class RealRun:
    trace_id: str
    answer: str
    claim: str | None  # the fabricated claim, when fabricate=True


def available() -> bool:
    try:
        import pydantic_ai  # noqa: F401
    except ImportError:
        return False
    return True


def run_flow(telemetry: Telemetry, *, fabricate: bool, model: str = "gpt-4o") -> RealRun:
    """Run planner → researcher → writer once; spans go to ``telemetry``'s per-service providers."""
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel
    from pydantic_ai.models.instrumented import InstrumentationSettings

    def returned(messages: list[ModelMessage]) -> list[Any]:
        return [p.content for p in messages[-1].parts if isinstance(p, ToolReturnPart)]

    def researcher_policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if returned(messages):
            return ModelResponse(parts=[TextPart(BRIEF + (FABRICATION if fabricate else ""))])
        call = ToolCallPart(
            "get_financials", {"ticker": "NWRB", "period": "2025-Q3"}, tool_call_id="call_fin"
        )
        return ModelResponse(parts=[call])

    def writer_policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if returned(messages):
            return ModelResponse(parts=[TextPart("Sent the brief to cfo@contoso-capital.com.")])
        first = messages[0].parts[-1]
        brief = str(getattr(first, "content", ""))
        args = {
            "to": "cfo@contoso-capital.com",
            "subject": "NWRB Q3 2025 brief",
            "body": f"Hello,\n\n{brief}",
        }
        return ModelResponse(parts=[ToolCallPart("send_email", args, tool_call_id="call_mail")])

    def planner_policy(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        results = returned(messages)
        turns = sum(1 for m in messages if any(isinstance(p, ToolReturnPart) for p in m.parts))
        if turns == 0:
            return ModelResponse(
                parts=[ToolCallPart("ask_researcher", {"question": REQUEST}, tool_call_id="call_r")]
            )
        if turns == 1:
            return ModelResponse(
                parts=[ToolCallPart("ask_writer", {"brief": str(results[0])}, tool_call_id="call_w")]
            )
        return ModelResponse(parts=[TextPart(str(results[0]))])

    def instrument(agent: Agent[None, str], service: str) -> Agent[None, str]:
        agent.instrument = InstrumentationSettings(
            tracer_provider=telemetry.provider(service), include_content=True
        )
        return agent

    researcher = instrument(
        Agent(
            FunctionModel(researcher_policy, model_name=model),
            name="researcher",
            instructions="You are the finance research agent. Use tools; report only what they return.",
        ),
        "researcher",
    )
    writer = instrument(
        Agent(
            FunctionModel(writer_policy, model_name=model),
            name="writer",
            instructions="You turn research briefs into emails. Do not add facts.",
        ),
        "writer",
    )
    planner = instrument(
        Agent(
            FunctionModel(planner_policy, model_name=model),
            name="planner",
            instructions="You coordinate a finance team. Delegate; never invent facts.",
        ),
        "planner",
    )

    @researcher.tool_plain
    def get_financials(ticker: str, period: str) -> dict[str, Any]:
        """Fetch reported quarterly financials for a listed company."""
        return {**FINANCIALS, "ticker": ticker, "period": period}

    @writer.tool_plain
    def send_email(to: str, subject: str, body: str) -> dict[str, str]:
        """Send an email on behalf of the investment team."""
        return {"status": "ok", "id": "msg-20394"}

    @planner.tool_plain
    async def ask_researcher(question: str) -> str:
        """Ask the research agent; it has the data tools."""
        return (await researcher.run(question)).output

    @planner.tool_plain
    async def ask_writer(brief: str) -> str:
        """Hand a brief to the writer, who emails it."""
        return (await writer.run(brief)).output

    async def main() -> tuple[str, str]:
        tracer = telemetry.provider("planner").get_tracer("faultlens.sample_agents.real")
        workflow = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "earnings-brief"}
        with tracer.start_as_current_span("invoke_workflow earnings-brief", attributes=workflow) as root:
            result = await planner.run(REQUEST)
            return format(root.get_span_context().trace_id, "032x"), result.output

    trace_id, answer = asyncio.run(main())
    return RealRun(trace_id, answer, CLAIM if fabricate else None)


def claim_carriers(spans: list[ReadableSpan], claim: str) -> list[ReadableSpan]:
    """The spans whose attribute values carry ``claim``, in start order."""
    hits = [s for s in spans if any(isinstance(v, str) and claim in v for v in (s.attributes or {}).values())]
    return sorted(hits, key=lambda s: s.start_time or 0)
