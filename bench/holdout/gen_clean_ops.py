"""Clean timing controls: timeouts retried with growing back-off, slow successes, a tolerated
optional timeout, and millisecond clock jitter between services."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.labels import Build, Expected, Scenario
from bench.holdout.otelkit import Err, ErrStyle, Recorder


def backoff_retry(d: dict[str, Any]) -> Build:
    """A call fails twice (timeout, then 503) and succeeds on the third try; waits grow 1.1 s, 2.3 s."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, tool = d["svc"], d["tool"]
        root = c.agent(r, svc, None, 0, 12000, d["agent"], d["task"], d["answer"])
        style: ErrStyle = "attr" if c.name == "genai" else "event"
        c.tool(
            r,
            svc,
            root,
            100,
            2100,
            tool,
            d["args"],
            None,
            call_id="t1",
            err=Err("TimeoutError", f"{tool} timed out after 2s", style=style),
        )
        c.tool(
            r,
            svc,
            root,
            3200,
            3400,
            tool,
            d["args"],
            None,
            call_id="t2",
            err=Err("ServiceUnavailable", "503 Service Unavailable", style=style, http=503),
        )
        c.tool(r, svc, root, 5700, 6300, tool, d["args"], d["result"], call_id="t3")
        c.llm(
            r,
            svc,
            root,
            6400,
            8000,
            [Msg("user", d["task"]), Msg("tool", str(d["result"]), call_id="t3")],
            Msg("assistant", d["answer"]),
        )
        return []

    return build


def slow_success(d: dict[str, Any]) -> Build:
    """Long but successful: a 12 s tool and a 25 s model call, no deadline hit."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc = d["svc"]
        root = c.agent(r, svc, None, 0, 40000, d["agent"], d["task"], d["answer"])
        call = Call("s1", d["tool"], d["args"])
        c.llm(
            r,
            svc,
            root,
            100,
            1500,
            [Msg("user", d["task"])],
            Msg("assistant", calls=(call,)),
            tools={d["tool"]: list(d["args"])},
        )
        c.tool(r, svc, root, 1600, 13600, d["tool"], d["args"], d["result"], call_id="s1")
        c.llm(
            r,
            svc,
            root,
            13700,
            38700,
            [Msg("user", d["task"]), Msg("tool", d["result"], call_id="s1")],
            Msg("assistant", d["answer"]),
        )
        return []

    return build


def optional_timeout(r: Recorder, c: Convention) -> list[Expected]:
    """An optional enrichment call times out; the agent carries on without it and succeeds."""
    svc = "lead-scorer"
    root = c.agent(
        r,
        svc,
        None,
        0,
        9000,
        "Lead Scorer",
        "Score the lead from Orbis Dynamics.",
        "Orbis Dynamics scores 72/100.",
    )
    c.tool(
        r, svc, root, 100, 700, "crm_lookup", {"company": "Orbis Dynamics"}, {"employees": 240, "score": 72}
    )
    c.tool(
        r,
        svc,
        root,
        800,
        3800,
        "enrich_firmographics",
        {"company": "Orbis Dynamics"},
        None,
        err=Err("TimeoutError", "enrichment timed out after 3s (optional, skipped)"),
    )
    c.llm(
        r,
        svc,
        root,
        3900,
        8800,
        [
            Msg("user", "Score the lead from Orbis Dynamics."),
            Msg("tool", '{"employees": 240, "score": 72}', call_id="x"),
        ],
        Msg("assistant", "Orbis Dynamics scores 72/100."),
    )
    return []


def jitter(skew_ms: float) -> Build:
    """A remote agent whose clock is ``skew_ms`` behind: well inside NTP-grade tolerance."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        root = c.agent(
            r,
            "forecast-api",
            None,
            0,
            5000,
            "Forecaster",
            "Rain in Bergen tomorrow?",
            "70% chance of rain in Bergen tomorrow.",
        )
        client = r.span(
            "forecast-api",
            "POST /weather",
            root,
            100,
            2100,
            {"http.request.method": "POST", "server.address": "weather-svc"},
            kind=SpanKind.CLIENT,
        )
        server = c.agent(
            r,
            "weather-svc",
            client,
            105 - skew_ms,
            2095 - skew_ms,
            "Weather Agent",
            "Bergen tomorrow",
            "precipitation probability 70%",
        )
        c.tool(
            r,
            "weather-svc",
            server,
            150 - skew_ms,
            2000 - skew_ms,
            "met_api",
            {"city": "Bergen"},
            {"precip_prob": 0.7},
        )
        c.llm(
            r,
            "forecast-api",
            root,
            2200,
            4900,
            [Msg("user", "Rain in Bergen tomorrow?"), Msg("user", "precipitation probability 70%")],
            Msg("assistant", "70% chance of rain in Bergen tomorrow."),
        )
        return []

    return build


def _s(name: str, conv: str, build: Build) -> Scenario:
    return Scenario(name, conv, build, True)


SCENARIOS = [
    _s(
        "quote_backoff",
        "genai",
        backoff_retry(
            {
                "svc": "pricing-bot",
                "tool": "get_quote",
                "agent": "Pricing Bot",
                "task": "Quote ASML.",
                "args": {"symbol": "ASML", "venue": "XAMS"},
                "result": {"bid": 712.4, "ask": 712.9},
                "answer": "ASML: bid 712.4, ask 712.9.",
            }
        ),
    ),
    _s(
        "geocode_backoff",
        "openinference",
        backoff_retry(
            {
                "svc": "maps-concierge",
                "tool": "geocode",
                "agent": "Route Planner",
                "task": "Where is Guimarães?",
                "args": {"place": "Guimarães"},
                "result": {"lat": 41.4425, "lon": -8.2918},
                "answer": "Guimarães is at 41.4425, -8.2918.",
            }
        ),
    ),
    _s(
        "slow_genome",
        "genai",
        slow_success(
            {
                "svc": "bioinfo-lab",
                "agent": "Variant Annotator",
                "task": "Annotate variant rs429358.",
                "tool": "annotate_variant",
                "args": {"rsid": "rs429358"},
                "result": "rs429358: APOE, missense C112R, ClinVar risk factor",
                "answer": "rs429358 is a missense APOE variant (C112R), a ClinVar risk factor.",
            }
        ),
    ),
    _s(
        "slow_contract",
        "openinference",
        slow_success(
            {
                "svc": "legal-review",
                "agent": "Contract Reviewer",
                "task": "Review the indemnity clause of MSA-0192.",
                "tool": "fetch_contract",
                "args": {"contract": "MSA-0192", "section": "indemnity"},
                "result": "Section 9 Indemnity: capped at 12 months of fees",
                "answer": "MSA-0192 section 9 caps indemnity at 12 months of fees.",
            }
        ),
    ),
    _s("optional_timeout", "genai", optional_timeout),
    _s("jitter_genai", "genai", jitter(2)),
    _s("jitter_oi", "openinference", jitter(0.5)),
]
