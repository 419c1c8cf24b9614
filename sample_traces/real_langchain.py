"""A real LangChain multi-agent flow, traced by the OpenInference LangChain instrumentation, that
runs without an LLM.

Three runnables take part: a planner chain that calls a researcher chain and a writer chain. Each
of those drives a ``GenericFakeChatModel`` (scripted ``AIMessage``s, tool calls included) and a
real ``@tool``. ``openinference-instrumentation-langchain`` turns the run into OpenInference spans:
CHAIN / LLM / TOOL, flattened ``llm.input_messages.N.message.*`` and ``input.value`` /
``output.value``. This is the convention exactly as that library emits it. ``fabricate=True``
makes the researcher add a claim its tool never returned.

Optional dependencies (imported lazily): ``langchain-core``, ``openinference-instrumentation-langchain``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from sample_traces.real_agents import BRIEF, CLAIM, FABRICATION, FINANCIALS, REQUEST


def available() -> bool:
    try:
        import langchain_core  # noqa: F401
        import openinference.instrumentation.langchain  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def instrumented(provider: TracerProvider) -> Iterator[None]:
    """LangChain instrumented with ``provider`` for the duration (the instrumentation is global)."""
    from openinference.instrumentation.langchain import LangChainInstrumentor

    inst = LangChainInstrumentor()
    inst.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        inst.uninstrument()


def run_flow(*, fabricate: bool) -> str:
    """Run planner → researcher → writer once, inside ``instrumented(...)``. Returns the answer."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
    from langchain_core.runnables import RunnableLambda
    from langchain_core.tools import tool

    @tool
    def get_financials(ticker: str, period: str) -> dict[str, Any]:
        """Fetch reported quarterly financials for a listed company."""
        return {**FINANCIALS, "ticker": ticker, "period": period}

    @tool
    def send_email(to: str, subject: str, body: str) -> dict[str, str]:
        """Send an email on behalf of the investment team."""
        return {"status": "ok", "id": "msg-20394"}

    tools = {"get_financials": get_financials, "send_email": send_email}

    def agent_loop(script: list[AIMessage], prompt: str) -> str:
        model = GenericFakeChatModel(messages=iter(script))
        messages: list[BaseMessage] = [HumanMessage(prompt)]
        while True:
            reply = model.invoke(messages)
            messages.append(reply)
            if not isinstance(reply, AIMessage) or not reply.tool_calls:
                return str(reply.content)
            for call in reply.tool_calls:
                messages.append(tools[call["name"]].invoke(call))

    def researcher(question: str) -> str:
        fetch = {"name": "get_financials", "args": {"ticker": "NWRB", "period": "2025-Q3"}, "id": "call_fin"}
        brief = BRIEF + (FABRICATION if fabricate else "")
        return agent_loop([AIMessage(content="", tool_calls=[fetch]), AIMessage(content=brief)], question)

    def writer(brief: str) -> str:
        args = {
            "to": "cfo@contoso-capital.com",
            "subject": "NWRB Q3 2025 brief",
            "body": f"Hello,\n\n{brief}",
        }
        mail = {"name": "send_email", "args": args, "id": "call_mail"}
        done = AIMessage(content="Sent the brief to cfo@contoso-capital.com.")
        return agent_loop([AIMessage(content="", tool_calls=[mail]), done], brief)

    research = RunnableLambda(researcher).with_config(run_name="researcher")
    write = RunnableLambda(writer).with_config(run_name="writer")

    def planner(request: str) -> str:
        return str(write.invoke(research.invoke(request)))

    return str(RunnableLambda(planner).with_config(run_name="planner").invoke(REQUEST))


__all__ = ["CLAIM", "available", "instrumented", "run_flow"]
