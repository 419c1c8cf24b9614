"""Real LangChain runnables and fake chat models, traced by the OpenInference instrumentation and
decoded by the collector like any OpenInference producer."""

from __future__ import annotations

import json

import pytest

from collector.decode import decode_traces, parse_traces
from sample_traces import real_langchain
from sample_traces.scenarios.corpus import otlp_json
from sample_traces.scenarios.telemetry import Capture

pytest.importorskip("langchain_core")
pytest.importorskip("openinference.instrumentation.langchain")


def test_openinference_langchain_spans_decode_into_the_normalized_columns() -> None:
    capture = Capture()
    capture.ids.reseed(11)
    with real_langchain.instrumented(capture.provider("research-crew")):
        answer = real_langchain.run_flow(fabricate=True)
    assert answer == "Sent the brief to cfo@contoso-capital.com."
    spans = capture.take()
    kinds = sorted(str((s.attributes or {}).get("openinference.span.kind")) for s in spans)
    assert kinds.count("LLM") == 4 and kinds.count("TOOL") == 2 and kinds.count("CHAIN") >= 3

    rows = decode_traces(parse_traces(otlp_json(spans), "json")).batch.spans.to_pylist()
    assert {r["convention"] for r in rows} == {"openinference"}
    chats = [r for r in rows if r["operation"] == "chat"]
    assert len(chats) == 4 and all(r["input_messages"] and r["output_messages"] for r in chats)
    origin = next(r for r in chats if real_langchain.CLAIM in r["output_messages"])
    brief_parts = json.loads(origin["output_messages"])[0]["parts"]
    assert brief_parts[0]["type"] == "text" and real_langchain.CLAIM in brief_parts[0]["content"]
    tools = {r["tool_name"]: r for r in rows if r["operation"] == "execute_tool"}
    assert set(tools) == {"get_financials", "send_email"}
    assert real_langchain.CLAIM in tools["send_email"]["tool_arguments"]
    assert "4230000000" in tools["get_financials"]["tool_result"]
    # the claim's first emitter is the researcher's LLM call, under the researcher chain
    by_id = {r["span_id"]: r for r in rows}
    assert by_id[origin["parent_span_id"]]["name"] == "researcher"
