"""A small multi-agent store for the dashboard tests, written through the real store writer.

Three traces: ``HALLU`` (a researcher invents a hotel price that a writer then books — with HTML
and Markdown injection in the researcher's output), ``TIMEOUT`` (a timeout cascade) and ``CLEAN``.
Findings and the attribution are written like the analysis would (``replace_findings``).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from store import schema
from store.api import IngestBatch
from store.writer import DuckStoreWriter

_j = partial(json.dumps, ensure_ascii=False)

HALLU = "a1" * 16
TIMEOUT = "b2" * 16
CLEAN = "c3" * 16
T0 = 1_764_460_800_000_000_000  # 2025-11-30 00:00 UTC
MS = 1_000_000

CLAIM = "€189 per night"
INJECTION = (
    '<script>window.__flPwned = 1</script><img src=x onerror="window.__flPwned = 2">'
    "[click me](javascript:window.__flPwned=3) **bold?**"
)
#: a span name is untrusted too: it reaches titles, labels and charts
HOSTILE_NAME = (
    'invoke_agent helper [docs](javascript:window.__flPwned=4) <img src=x onerror="window.__flPwned=5">'
    " see https://evil.example/x or ops@evil.example"
)
ORIGIN = "0000000000000a04"
SPREAD_CHAT = "0000000000000a08"
BOOKING = "0000000000000a09"
HALLU_FINDING = "f0" * 16


def _msgs(*items: tuple[str, str]) -> str:
    return _j([{"role": r, "parts": [{"type": "text", "content": c}]} for r, c in items])


def _span(
    trace: str, sid: str, parent: str | None, name: str, start_ms: float, dur_ms: float, **kw: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trace_id": trace,
        "span_id": sid,
        "parent_span_id": parent,
        "name": name,
        "kind": 1,
        "start_ns": T0 + int(start_ms * MS),
        "end_ns": T0 + int((start_ms + dur_ms) * MS),
        "duration_ns": int(dur_ms * MS),
        "status_code": kw.pop("status_code", 1),
        "service_name": kw.pop("service_name", "travel-agents"),
        "convention": "genai",
        "attributes": _j({"gen_ai.operation.name": kw.get("operation")}),
    }
    row.update(kw)
    return row


def hallucination_trace() -> list[dict[str, Any]]:
    t = HALLU
    research_out = _j(
        [
            {
                "role": "assistant",
                "parts": [
                    {"type": "reasoning", "content": "The search returned no price; I'll estimate one."},
                    {"type": "text", "content": f"Hotel Avenida Palace costs {CLAIM}. {INJECTION}"},
                ],
                "finish_reason": "stop",
            }
        ]
    )
    return [
        _span(
            t,
            "0000000000000a01",
            None,
            "invoke_agent orchestrator",
            0,
            5000,
            operation="invoke_agent",
            agent_name="orchestrator",
        ),
        _span(
            t,
            "0000000000000a02",
            "0000000000000a01",
            "chat gpt-4o",
            10,
            800,
            operation="chat",
            provider="openai",
            request_model="gpt-4o",
            response_model="gpt-4o-2024-08-06",
            input_tokens=1200,
            output_tokens=80,
            cache_read_tokens=1000,
            system_instructions=_j([{"type": "text", "content": "You coordinate a travel team."}]),
            input_messages=_msgs(
                ("user", "Plan 2 nights in Lisbon for 2 people and book a hotel under $500.")
            ),
            output_messages=_j(
                [
                    {
                        "role": "assistant",
                        "parts": [
                            {
                                "type": "tool_call",
                                "id": "call_1",
                                "name": "transfer_to_researcher",
                                "arguments": {},
                            }
                        ],
                        "finish_reason": "tool_calls",
                    }
                ]
            ),
        ),
        _span(
            t,
            "0000000000000a03",
            "0000000000000a01",
            "execute_tool transfer_to_researcher",
            820,
            5,
            operation="execute_tool",
            tool_name="transfer_to_researcher",
            tool_arguments="{}",
        ),
        _span(
            t,
            "0000000000000a05",
            "0000000000000a01",
            "invoke_agent researcher",
            830,
            1800,
            operation="invoke_agent",
            agent_name="researcher",
        ),
        _span(
            t,
            "0000000000000a06",
            "0000000000000a05",
            "execute_tool search_hotels",
            840,
            300,
            operation="execute_tool",
            tool_name="search_hotels",
            tool_arguments=_j({"city": "Lisbon", "nights": 2}),
            tool_result=_j({"hotels": [{"name": "Avenida Palace", "price": None}]}),
        ),
        _span(
            t,
            ORIGIN,
            "0000000000000a05",
            "chat gpt-4o-mini",
            1200,
            1200,
            operation="chat",
            provider="openai",
            request_model="gpt-4o-mini",
            input_tokens=900,
            output_tokens=120,
            reasoning="The search returned no price; I'll estimate one.",
            input_messages=_msgs(
                ("system", "You research hotels. Only report prices the tools return."),
                ("user", "Find a hotel in Lisbon for 2 nights."),
            ),
            output_messages=research_out,
        ),
        _span(
            t,
            "0000000000000a0a",
            "0000000000000a05",
            "create_memory notes",
            2500,
            20,
            operation="create_memory",
            memory_store_id="notes",
            memory_record_id="hotel",
            memory_records=_j([{"hotel": "Avenida Palace", "price": CLAIM}]),
        ),
        _span(
            t,
            "0000000000000a07",
            "0000000000000a01",
            "invoke_agent writer",
            2700,
            2200,
            operation="invoke_agent",
            agent_name="writer",
        ),
        _span(
            t,
            "0000000000000a0b",
            "0000000000000a07",
            "search_memory notes",
            2710,
            15,
            operation="search_memory",
            memory_store_id="notes",
            memory_record_id="hotel",
            memory_records=_j([{"hotel": "Avenida Palace", "price": CLAIM}]),
        ),
        _span(
            t,
            SPREAD_CHAT,
            "0000000000000a07",
            "chat claude-3-5-sonnet",
            2750,
            1500,
            operation="chat",
            provider="anthropic",
            request_model="claude-3-5-sonnet-20241022",
            input_tokens=1500,
            output_tokens=300,
            input_messages=_msgs(
                ("user", "Write the itinerary."),
                ("assistant", f"Research notes: Hotel Avenida Palace costs {CLAIM}."),
            ),
            output_messages=_msgs(("assistant", f"Day 1: check in at Avenida Palace ({CLAIM}, booked).")),
        ),
        _span(
            t,
            BOOKING,
            "0000000000000a07",
            "execute_tool book_hotel",
            4300,
            500,
            operation="execute_tool",
            tool_name="book_hotel",
            tool_arguments=_j({"hotel": "Avenida Palace", "price": CLAIM, "nights": 2}),
            tool_result=_j({"status": "booked", "confirmation": "LIS-4471"}),
        ),
    ]


def timeout_trace() -> list[dict[str, Any]]:
    t = TIMEOUT
    return [
        _span(
            t,
            "0000000000000b01",
            None,
            "invoke_agent planner",
            0,
            30000,
            operation="invoke_agent",
            agent_name="planner",
            status_code=2,
            status_message="upstream timed out",
            error_type="TimeoutError",
        ),
        _span(
            t,
            "0000000000000b02",
            "0000000000000b01",
            "invoke_agent flights",
            100,
            29800,
            operation="invoke_agent",
            agent_name="flights",
            status_code=2,
            error_type="TimeoutError",
        ),
        _span(
            t,
            "0000000000000b03",
            "0000000000000b02",
            "execute_tool search_flights",
            200,
            29500,
            operation="execute_tool",
            tool_name="search_flights",
            status_code=2,
            error_type="504",
            status_message="DEADLINE_EXCEEDED",
            tool_arguments=_j({"from": "LIS", "to": "BER"}),
        ),
    ]


def clean_trace() -> list[dict[str, Any]]:
    t = CLEAN
    return [
        _span(
            t,
            "0000000000000c01",
            None,
            HOSTILE_NAME,
            0,
            900,
            operation="invoke_agent",
            agent_name="helper",
        ),
        _span(
            t,
            "0000000000000c02",
            "0000000000000c01",
            "chat gpt-4o-mini",
            10,
            850,
            operation="chat",
            request_model="gpt-4o-mini",
            input_tokens=50,
            output_tokens=20,
            input_messages=_msgs(("user", "What is 2+2?")),
            output_messages=_msgs(("assistant", "4")),
        ),
    ]


def _offsets(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def findings_rows(spans: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    by_id = {s["span_id"]: s for s in spans}

    def occ(sid: str, field: str) -> dict[str, Any]:
        raw = by_id[sid][field]
        start, end = _offsets(raw, CLAIM)
        return {"span_id": sid, "field": field, "start": start, "end": end, "text": CLAIM}

    hallu = {
        "finding_id": HALLU_FINDING,
        "trace_id": HALLU,
        "detector": "hallucination_propagation",
        "detector_version": "1",
        "kind": "ungrounded_claim",
        "origin_span_id": ORIGIN,
        "span_ids": _j([ORIGIN, SPREAD_CHAT, BOOKING]),
        "agents": _j(["researcher", "writer"]),
        "severity": "high",
        "mast": _j(["FM-3.3"]),
        "summary": f"researcher stated '{CLAIM}' with no support; writer booked it",
        "evidence": _j(
            {
                "claim": CLAIM,
                "occurrences": [
                    occ(ORIGIN, "output_messages"),
                    occ(SPREAD_CHAT, "input_messages"),
                    occ(SPREAD_CHAT, "output_messages"),
                    occ(BOOKING, "tool_arguments"),
                ],
                "reached_final_output": True,
                "reached_side_effect": True,
                "verified": False,
            }
        ),
        "created_ns": T0,
    }
    cascade = {
        "finding_id": "f1" * 16,
        "trace_id": TIMEOUT,
        "detector": "timeout_cascade",
        "detector_version": "1",
        "kind": "timeout_cascade",
        "origin_span_id": "0000000000000b03",
        "span_ids": _j(["0000000000000b03", "0000000000000b02", "0000000000000b01"]),
        "agents": _j(["flights", "planner"]),
        "severity": "medium",
        "mast": _j(["FM-1.5"]),
        "summary": "search_flights hit its deadline; flights and planner timed out behind it",
        "evidence": _j({"root_cause": "0000000000000b03"}),
        "created_ns": T0,
    }
    analysis = [
        {
            "trace_id": HALLU,
            "analyzed_ns": T0,
            "span_count": 11,
            "last_ingested_ns": T0,
            "attribution": _j({"agent": "researcher", "span_id": ORIGIN, "reason": "first ungrounded claim"}),
        },
        {
            "trace_id": TIMEOUT,
            "analyzed_ns": T0,
            "span_count": 3,
            "last_ingested_ns": T0,
            "attribution": None,
        },
        {"trace_id": CLEAN, "analyzed_ns": T0, "span_count": 2, "last_ingested_ns": T0, "attribution": None},
    ]
    return [hallu, cascade], analysis


def wide_trace(trace_id: str, n: int) -> list[dict[str, Any]]:
    """``n`` spans: a root agent, sub-agents of 50 calls each, alternating chat and tool spans."""
    rows = [
        _span(
            trace_id,
            f"{1:016x}",
            None,
            "invoke_agent root",
            0,
            n * 2.0,
            operation="invoke_agent",
            agent_name="root",
        )
    ]
    parent = f"{1:016x}"
    for i in range(2, n + 1):
        sid = f"{i:016x}"
        if i % 50 == 2:
            rows.append(
                _span(
                    trace_id,
                    sid,
                    f"{1:016x}",
                    f"invoke_agent worker{i // 50}",
                    i * 1.0,
                    100.0,
                    operation="invoke_agent",
                    agent_name=f"worker{i // 500}",
                )
            )
            parent = sid
        elif i % 2:
            rows.append(
                _span(
                    trace_id,
                    sid,
                    parent,
                    "chat gpt-4o-mini",
                    i * 1.0,
                    1.5,
                    operation="chat",
                    request_model="gpt-4o-mini",
                    input_tokens=100,
                    output_tokens=10,
                    input_messages=_msgs(("user", f"step {i}")),
                    output_messages=_msgs(("assistant", f"done {i}")),
                )
            )
        else:
            rows.append(
                _span(
                    trace_id,
                    sid,
                    parent,
                    "execute_tool lookup",
                    i * 1.0,
                    0.5,
                    operation="execute_tool",
                    tool_name="lookup",
                    tool_arguments=_j({"i": i}),
                    tool_result="ok",
                )
            )
    return rows


def build_store(path: Path, extra_spans: list[dict[str, Any]] | None = None) -> Path:
    """Write the three scenario traces (plus ``extra_spans``) and their findings to ``path``."""
    spans = hallucination_trace() + timeout_trace() + clean_trace()
    findings, analysis = findings_rows(spans)
    with DuckStoreWriter(path) as writer:
        writer.write(
            IngestBatch(spans=pa.Table.from_pylist(spans + (extra_spans or []), schema=schema.SPANS))
        )
        writer.replace_findings(
            [HALLU, TIMEOUT, CLEAN],
            pa.Table.from_pylist(findings, schema=schema.FINDINGS),
            pa.Table.from_pylist(analysis, schema=schema.TRACE_ANALYSIS),
        )
        writer.sync()
    return path
