"""The TRAIL importer (real third-party data, /work/shared/external/trail: OpenInference span trees
with span-level error labels) and the detector on one of its hallucination-labelled traces.
Corpus-wide figures come from ``bench/hallucination.py --trail``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.importers import trail

pytestmark = pytest.mark.skipif(not trail.DATA.exists(), reason="TRAIL data not present")
# GAIA: the model "recalls" album names without any tool call and answers "Harbinger"
HARBINGER = trail.DATA / "traces" / "GAIA" / "5ec1cd43eb8ae4094e93a4892ff0f06f.json"


def test_iso_times() -> None:
    assert trail.duration_ns("PT8.0125S") == 8_012_500_000
    assert trail.duration_ns("PT1M2S") == 62_000_000_000 and trail.duration_ns("garbage") == 0
    assert trail.iso_ns("2025-03-19T16:41:36.401862Z") == trail.iso_ns("2025-03-19T16:41:36.401862")
    assert trail.iso_ns("1970-01-01T00:00:01.000001") == 1_000_001_000


def _nested(path: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    stack = list(orjson.loads(path.read_bytes())["spans"])
    while stack:
        span = stack.pop()
        out.append(span)
        stack.extend(span.get("child_spans") or [])
    return out


def test_import_goes_through_the_openinference_decoder() -> None:
    raw = _nested(HARBINGER)
    (trace,) = trail.read_traces([HARBINGER])
    spans = {r["span_id"]: r for r in trace.spans.iter_rows(named=True)}
    assert len(spans) == len(raw) and len(trace.hb.order()) == len(raw)
    for src in raw:
        row = spans[str(src["span_id"])]
        assert row["parent_span_id"] == src["parent_span_id"] and row["name"] == src["span_name"]
        assert row["end_ns"] - row["start_ns"] == trail.duration_ns(str(src["duration"]))
    ops = {r["operation"] for r in spans.values()}
    assert {"chat", "invoke_agent", "execute_tool"} <= ops  # LLM / AGENT / TOOL kinds mapped
    llm = spans["325d1e2da02153bc"]
    assert "Harbinger" in (llm["output_messages"] or "") and llm["convention"] == "openinference"
    assert trace.agent_of["325d1e2da02153bc"] == "CodeAgent.run"


def test_labels() -> None:
    labels = trail.read_labels(trail.DATA / "trail_annotations.jsonl")
    assert len(labels) == 148
    mine = {(lb.span_id, lb.category) for lb in labels["5ec1cd43eb8ae4094e93a4892ff0f06f"]}
    assert ("325d1e2da02153bc", "language-only") in mine
    assert trail.normalize_category(" Language-Only ") == "language-only"


def test_fabricated_answer_is_found_at_the_labelled_span() -> None:
    (trace,) = trail.read_traces([HARBINGER])
    findings = [f for f in HallucinationPropagation().detect(trace) if f.kind == "ungrounded_claim"]
    (f,) = [f for f in findings if f.origin_span_id == "325d1e2da02153bc"]
    assert f.evidence["reached_final_output"] and f.evidence["is_final_answer"]
    assert "Harbinger" in f.evidence["claim"]
