"""Real pydantic-ai agents (scripted FunctionModels, no LLM) exported through the real OTLP gRPC
exporter into `faultlens serve`, then analysed and reported by the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from sample_traces import real_agents
from sample_traces.scenarios.telemetry import Capture, Providers, random_ids
from tests.conftest import run_cli, start_serve, stop_serve

pytest.importorskip("pydantic_ai")


def test_fabricated_claim_travels_through_real_agents() -> None:
    capture = Capture()
    run = real_agents.run_flow(capture, fabricate=True)
    spans = capture.take()
    services = {s.resource.attributes["service.name"] for s in spans}
    assert services == {"planner", "researcher", "writer"}
    names = {s.name for s in spans}
    assert {"invoke_agent planner", "invoke_agent researcher", "invoke_agent writer"} <= names
    assert {"execute_tool get_financials", "execute_tool send_email"} <= names
    assert run.claim is not None
    carriers = real_agents.claim_carriers(spans, run.claim)
    first_chat = next(
        s
        for s in carriers
        if s.name.startswith("chat")
        and run.claim in str((s.attributes or {}).get("gen_ai.output.messages", ""))
    )
    assert first_chat.resource.attributes["service.name"] == "researcher"
    mail = next(s for s in spans if s.name == "execute_tool send_email")
    assert run.claim in str((mail.attributes or {})["gen_ai.tool.call.arguments"])
    assert len({s.context.trace_id for s in spans}) == 1


def _report(db: Path) -> dict[str, Any]:
    res = run_cli("report", "--db", str(db), "--format", "json")
    assert res.returncode == 0, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def test_real_agent_traces_through_faultlens_serve(tmp_path: Path) -> None:
    sp = start_serve(tmp_path / "real.duckdb", "--no-analysis")
    try:
        exporter = OTLPSpanExporter(endpoint=sp.grpc_endpoint, insecure=True)

        def processors(_service: str) -> list[SpanProcessor]:
            return [BatchSpanProcessor(exporter)]

        providers = Providers(random_ids(), processors)
        bad = real_agents.run_flow(providers, fabricate=True)
        good = real_agents.run_flow(providers, fabricate=False)
        assert providers.force_flush()
        providers.shutdown()
    finally:
        stop_serve(sp)
    agents = run_cli(
        "sql",
        "--db",
        str(sp.db),
        "--format",
        "json",
        "select distinct resolved_agent_name as a from spans where resolved_agent_name is not null "
        "order by a",
    )
    assert agents.returncode == 0, agents.stderr
    assert [r["a"] for r in json.loads(agents.stdout)] == ["planner", "researcher", "writer"]
    assert run_cli("analyze", "--db", str(sp.db)).returncode == 0
    traces = {t["trace_id"]: t for t in _report(sp.db)["traces"]}
    assert bad.trace_id in traces and good.trace_id in traces

    def claims(trace_id: str) -> list[dict[str, Any]]:
        return [
            f
            for f in traces[trace_id]["findings"]
            if f["detector"] == "hallucination_propagation" and f["kind"] == "ungrounded_claim"
        ]

    found = claims(bad.trace_id)
    assert found, traces[bad.trace_id]["findings"]
    assert any(bad.claim and bad.claim in json.dumps(f["evidence"]) for f in found)
    assert claims(good.trace_id) == []
