"""Timeout-family scenarios (SPEC §5.3): cascades with a known root cause, and retry storms."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.labels import Expected, Scenario
from bench.holdout.otelkit import Err, Recorder

TC = "timeout_cascade"


def slow_query_cascade(r: Recorder, c: Convention) -> list[Expected]:
    """A SQL query runs 57 s; the tool above it gives up at 29 s, the agent and its caller follow.
    The query itself never errors: it is the root cause only through its exclusive time."""
    svc = "analyst-api"
    root = c.agent(
        r,
        svc,
        None,
        0,
        31000,
        "Portfolio Analyst",
        "Rebalance the growth sleeve.",
        "",
        err=Err("TimeoutError", "request timed out after 30s", http=504),
    )
    md = c.agent(
        r,
        svc,
        root,
        100,
        30100,
        "Market Data Agent",
        "Fetch closing prices.",
        "",
        err=Err("TimeoutError", "deadline of 30000 ms exceeded"),
    )
    call = Call("q1", "get_prices", {"tickers": "NVDA,ASML,TSM", "days": "90"})
    c.llm(
        r,
        svc,
        md,
        150,
        900,
        [Msg("user", "Fetch closing prices.")],
        Msg("assistant", calls=(call,)),
        tools={"get_prices": ["tickers", "days"]},
    )
    tool = c.tool(
        r,
        svc,
        md,
        950,
        30050,
        "get_prices",
        call.args,
        None,
        call_id="q1",
        err=Err("TimeoutError", "get_prices timed out after 29.1s", style="both"),
    )
    fast = r.span(
        "tick-db",
        "SELECT ticks",
        tool,
        960,
        1010,
        {
            "db.system.name": "postgresql",
            "db.operation.name": "SELECT",
            "db.query.text": "SELECT symbol FROM universe",
        },
        kind=SpanKind.CLIENT,
    )
    slow = r.span(
        "tick-db",
        "SELECT ticks",
        tool,
        1020,
        58000,
        {
            "db.system.name": "postgresql",
            "db.operation.name": "SELECT",
            "db.query.text": "SELECT close FROM ticks WHERE day > now() - interval '90 days'",
        },
        kind=SpanKind.CLIENT,
    )
    del fast
    return [Expected(TC, "timeout_cascade", slow, also=(tool,))]


def geocode_cascade(r: Recorder, c: Convention) -> list[Expected]:
    """A geocoding tool hangs until its 19.4 s timeout; planner and orchestrator time out after it."""
    svc = "maps-concierge"
    root = c.agent(
        r,
        svc,
        None,
        0,
        20500,
        "Trip Orchestrator",
        "Route me from Porto to Braga avoiding tolls.",
        "",
        err=Err("TimeoutError", "orchestrator deadline exceeded", style="event"),
    )
    planner = c.agent(
        r,
        svc,
        root,
        50,
        20300,
        "Route Planner",
        "Porto -> Braga, no tolls",
        "",
        err=Err("TimeoutError", "timed out waiting for geocode", style="event"),
    )
    call = Call("g1", "geocode", {"place": "Braga"})
    c.llm(
        r,
        svc,
        planner,
        100,
        800,
        [Msg("user", "Porto -> Braga, no tolls")],
        Msg("assistant", calls=(call,)),
        tools={"geocode": ["place"], "route": ["from", "to"]},
    )
    c.tool(r, svc, planner, 820, 870, "geocode", {"place": "Porto"}, {"lat": 41.1579, "lon": -8.6291})
    leaf = c.tool(
        r,
        svc,
        planner,
        880,
        20250,
        "geocode",
        {"place": "Braga"},
        None,
        call_id="g1",
        err=Err("TimeoutError", "geocode timed out after 19.4s", style="event"),
    )
    return [Expected(TC, "timeout_cascade", leaf)]


def remote_llm_cascade(r: Recorder, c: Convention) -> list[Expected]:
    """An LLM call in another service hangs until DEADLINE_EXCEEDED; the gateway answers 504."""
    root = c.agent(
        r,
        "support-gw",
        None,
        0,
        15500,
        "Support Triage",
        "Summarise ticket #88120.",
        "",
        err=Err("GatewayTimeout", "upstream summariser timed out", http=504),
    )
    client = r.span(
        "support-gw",
        "POST /v1/summarise",
        root,
        200,
        15200,
        {"http.request.method": "POST", "server.address": "summariser"},
        kind=SpanKind.CLIENT,
        err=Err("GatewayTimeout", "504 Gateway Timeout", http=504),
    )
    server = c.agent(
        r,
        "summariser",
        client,
        250,
        15150,
        "Summariser",
        "Summarise ticket #88120.",
        "",
        err=Err("DEADLINE_EXCEEDED", "deadline exceeded"),
    )
    c.tool(r, "summariser", server, 260, 400, "load_ticket", {"ticket": "88120"}, {"subject": "Refund stuck"})
    hung = c.llm(
        r,
        "summariser",
        server,
        420,
        15100,
        [Msg("user", "Summarise: Refund stuck")],
        Msg("assistant", ""),
        err=Err("DEADLINE_EXCEEDED", "model call exceeded 14.6s deadline"),
    )
    return [Expected(TC, "timeout_cascade", hung)]


def nested_retriever_cascade(r: Recorder, c: Convention) -> list[Expected]:
    """Three nested agents; the innermost retrieval is slow and every level above times out."""
    svc = "legal-research"
    sup = c.agent(
        r,
        svc,
        None,
        0,
        45000,
        "Case Supervisor",
        "Find precedent on software patents.",
        "",
        err=Err("TimeoutError", "supervisor timed out after 45s", style="both"),
    )
    an = c.agent(
        r,
        svc,
        sup,
        100,
        44000,
        "Precedent Analyst",
        "software patents",
        "",
        err=Err("TimeoutError", "analyst timed out after 43.9s", style="both"),
    )
    c.llm(r, svc, an, 150, 1200, [Msg("user", "software patents")], Msg("assistant", "Ask the retriever."))
    ret = c.agent(
        r,
        svc,
        an,
        1300,
        43800,
        "Case Retriever",
        "software patents",
        "",
        err=Err("TimeoutError", "retriever timed out", style="both"),
    )
    slow = r.span(
        svc,
        "vector_search caselaw",
        ret,
        1350,
        43700,
        {
            "openinference.span.kind": "RETRIEVER",
            "gen_ai.operation.name": "retrieval",
            "input.value": "software patents abstract idea",
        },
        err=Err("TimeoutError", "vector search timed out after 42.3s", style="both"),
    )
    return [Expected(TC, "timeout_cascade", slow)]


def tool_retry_storm(r: Recorder, c: Convention) -> list[Expected]:
    """Seven identical quote requests 40 ms apart, each timing out: no back-off at all."""
    svc = "pricing-bot"
    root = c.agent(r, svc, None, 0, 16000, "Pricing Bot", "Quote NVDA for the client.", "Quote unavailable.")
    calls = []
    t = 100.0
    for i in range(7):
        calls.append(
            c.tool(
                r,
                svc,
                root,
                t,
                t + 2000,
                "get_quote",
                {"symbol": "NVDA", "venue": "XNAS"},
                None,
                call_id=f"gq{i}",
                err=Err("TimeoutError", "quote service timed out after 2s"),
            )
        )
        t += 2040
    return [Expected(TC, "retry_storm", calls[0], also=(calls[1],))]


def llm_retry_storm(r: Recorder, c: Convention) -> list[Expected]:
    """The same chat request re-sent six times, 10 ms apart, each answered 429 / overloaded."""
    svc = "essay-grader"
    root = c.agent(r, svc, None, 0, 5000, "Essay Grader", "Grade essay 3312.", "Grading failed.")
    prompt = [Msg("user", "Grade this essay against rubric R-4: 'The industrial revolution ...'")]
    tries = []
    t = 100.0
    for _ in range(6):
        tries.append(
            c.llm(
                r,
                svc,
                root,
                t,
                t + 350,
                prompt,
                Msg("assistant", ""),
                err=Err("RateLimitError", "429 Too Many Requests: overloaded", style="event", http=429),
            )
        )
        t += 360
    return [Expected(TC, "retry_storm", tries[0], also=(tries[1],))]


def _s(name: str, conv: str, fn: Any) -> Scenario:
    return Scenario(name, conv, fn, False)


SCENARIOS = [
    _s("slow_query_cascade", "genai", slow_query_cascade),
    _s("geocode_cascade", "openinference", geocode_cascade),
    _s("remote_llm_cascade", "genai", remote_llm_cascade),
    _s("nested_retriever_cascade", "openinference", nested_retriever_cascade),
    _s("tool_retry_storm", "genai", tool_retry_storm),
    _s("llm_retry_storm", "openinference", llm_retry_storm),
]
