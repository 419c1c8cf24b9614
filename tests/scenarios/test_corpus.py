"""The labelled corpus: deterministic, current, well-formed OTLP/JSON, and its labels point at real spans."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector.decode import decode_traces, parse_traces
from sample_traces.scenarios.corpus import CORPUS_DIR, LABELS_PATH, Corpus, build_corpus
from store.span_text import whole_spans

ROOT = Path(__file__).resolve().parents[2]
HEX16 = re.compile(r"^[0-9a-f]{16}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return build_corpus()


@pytest.fixture(scope="module")
def labels() -> list[dict[str, Any]]:
    data = json.loads(LABELS_PATH.read_text())
    assert data["version"] == 1
    rows: list[dict[str, Any]] = data["scenarios"]
    return rows


@pytest.fixture(scope="module")
def spans_by_trace() -> dict[str, dict[str, dict[str, Any]]]:
    """trace id → span id → decoded row, through the project's real OTLP/JSON decoder."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for path in sorted(CORPUS_DIR.glob("*.json")):
        decoded = decode_traces(parse_traces(path.read_bytes(), "json"))
        assert decoded.rejected == 0, path
        for row in whole_spans(decoded.batch.spans).to_pylist():
            out[row["trace_id"]][row["span_id"]] = row
    return out


def test_regeneration_is_byte_identical(corpus: Corpus) -> None:
    again = build_corpus()
    assert again.files == corpus.files
    assert again.labels == corpus.labels


def test_committed_corpus_is_current(corpus: Corpus) -> None:
    on_disk = {p.name: p.read_bytes() for p in CORPUS_DIR.glob("*.json")}
    assert sorted(on_disk) == sorted(corpus.files), "run: python -m sample_traces.scenarios"
    stale = [name for name, body in corpus.files.items() if on_disk[name] != body]
    assert not stale, f"stale corpus files {stale[:3]}; run: python -m sample_traces.scenarios"
    assert LABELS_PATH.read_bytes() == corpus.labels


def test_size_and_balance(corpus: Corpus, labels: list[dict[str, Any]]) -> None:
    total = sum(len(b) for b in corpus.files.values()) + len(corpus.labels)
    assert total < 5_000_000
    assert 150 <= len(labels) <= 300
    clean = sum(1 for r in labels if r["clean"])
    assert clean >= len(labels) - clean, "clean controls must be at least as many as failures"
    assert len({r["trace_id"] for r in labels}) == len(labels)


def test_files_are_otlp_json_with_hex_ids() -> None:
    for path in sorted(CORPUS_DIR.glob("*.json")):
        doc = json.loads(path.read_bytes())
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    assert HEX32.match(span["traceId"]) and HEX16.match(span["spanId"])
                    assert "parentSpanId" not in span or HEX16.match(span["parentSpanId"])
                    assert isinstance(span["startTimeUnixNano"], str) and isinstance(span["kind"], int)
                    for link in span.get("links", []):
                        assert HEX32.match(link["traceId"]) and HEX16.match(link["spanId"])
                        link["traceId"] = _b64(link["traceId"])
                        link["spanId"] = _b64(link["spanId"])
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in span:
                            span[key] = _b64(span[key])
        # with the ids back in the protobuf JSON mapping's base64, the strict parser accepts every field
        msg = json_format.ParseDict(doc, ExportTraceServiceRequest(), ignore_unknown_fields=False)
        assert sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans) > 0


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def test_every_label_points_at_spans_of_its_trace(
    labels: list[dict[str, Any]], spans_by_trace: dict[str, dict[str, dict[str, Any]]]
) -> None:
    for row in labels:
        spans = spans_by_trace.get(row["trace_id"])
        assert spans, f"{row['scenario']}/{row['variant']}: trace {row['trace_id']} not in the corpus"
        assert row["clean"] == (not row["expected"])
        for exp in row["expected"]:
            assert HEX16.match(exp["origin_span_id"])
            assert exp["origin_span_id"] == exp["span_ids"][0]
            missing = set(exp["span_ids"]) - set(spans)
            assert not missing, f"{row['scenario']}/{row['variant']}: {missing} not in trace"


def test_labels_use_the_findings_vocabulary(labels: list[dict[str, Any]]) -> None:
    vocab: dict[str, set[str]] = {}
    for line in (ROOT / "docs" / "findings-vocabulary.md").read_text().splitlines():
        m = re.match(r"^\| `(\w+)` \| (.+?) \|", line)
        if m:
            vocab[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
    used: set[tuple[str, str]] = set()
    for row in labels:
        assert row["convention"] in {"genai", "openinference", "openllmetry", "mixed"}
        for exp in row["expected"]:
            assert exp["kind"] in vocab[exp["detector"]], exp
            used.add((exp["detector"], exp["kind"]))
    every = {(d, k) for d, kinds in vocab.items() for k in kinds}
    assert every - used == set(), "every detector kind has labelled scenarios"


def test_every_family_comes_in_every_convention(labels: list[dict[str, Any]]) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for row in labels:
        seen[row["family"]].add(row["convention"])
    assert set(seen) == {"hallucination", "causal", "timeout", "structural"}
    assert all(v == {"genai", "openinference", "openllmetry"} for v in seen.values()), seen


def test_decoder_sees_agents_messages_and_tools_in_every_convention(
    labels: list[dict[str, Any]], spans_by_trace: dict[str, dict[str, dict[str, Any]]]
) -> None:
    per: dict[str, Counter[str]] = defaultdict(Counter)
    services: set[str] = set()
    for row in labels:
        for span in spans_by_trace[row["trace_id"]].values():
            services.add(span["service_name"])
            c = per[row["convention"]]
            op = span["operation"]
            if op == "chat" and span["input_messages"] and span["request_model"]:
                c["chat"] += 1
                c["reasoning"] += bool(span["reasoning"])
                c["tool_definitions"] += bool(span["tool_definitions"])
            elif op == "execute_tool" and span["tool_name"] and span["tool_arguments"]:
                c["tool"] += 1
                c["handoff"] += span["tool_name"].startswith("transfer_to_")
            elif op == "invoke_agent" and span["agent_name"]:
                c["agent"] += 1
            elif op in {"search_memory", "create_memory", "update_memory"} and span["memory_record_id"]:
                c["memory"] += 1
            c["error"] += span["status_code"] == 2 and bool(span["error_type"])
    for conv, c in per.items():
        for key in ("chat", "reasoning", "tool_definitions", "tool", "handoff", "agent", "memory", "error"):
            assert c[key] > 0, (conv, key, dict(c))
    assert {"planner", "researcher", "writer", "verifier", "tool-gateway", "memory-service"} <= services


def test_hallucination_labels_name_the_spans_that_carry_the_claim(
    labels: list[dict[str, Any]], spans_by_trace: dict[str, dict[str, dict[str, Any]]]
) -> None:
    checked = 0
    for row in labels:
        for exp in row["expected"]:
            if exp["kind"] != "ungrounded_claim":
                continue
            claim = exp["claim"]
            spans = spans_by_trace[row["trace_id"]]
            origin = spans[exp["origin_span_id"]]
            assert origin["operation"] == "chat" and claim in origin["output_messages"]
            # nothing before the origin said it: no span that ends before the origin starts carries it
            earlier = [s for s in spans.values() if s["end_ns"] <= origin["start_ns"]]
            assert not any(claim in (s["attributes"] or "") for s in earlier), (row["variant"], claim)
            assert len(exp["span_ids"]) >= 3  # it travelled
            checked += 1
    assert checked >= 20


def test_generate_samples_check_reports_a_current_corpus() -> None:
    from click.testing import CliRunner

    from faultlens.commands.generate import command

    result = CliRunner().invoke(command, ["--check"])
    assert result.exit_code == 0, result.output
    assert re.search(r"current \(\d+ traces\)", result.output)
