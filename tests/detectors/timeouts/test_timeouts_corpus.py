"""Precision, recall and origin accuracy of the ``timeout_cascade`` detectors over the labelled
scenarios of ``sample_traces/`` (through the real collector, a real DuckDB store, ``analysis.load``
and the engine's scoring, ``analysis.evaluation``). Targets from the brief: recall >= 0.9,
precision >= 0.9 (clean controls and near-misses included), origin accuracy >= 0.8."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.detectors.timeouts import CircuitBreakerWindowDetector, TimeoutCascadeDetector
from analysis.evaluation import evaluate, format_table
from analysis.model import Finding, Trace

from . import corpus

LABELS = corpus.labels()
pytestmark = pytest.mark.skipif(
    not any(e.detector == corpus.DETECTOR for s in LABELS for e in s.expected),
    reason="no timeout scenarios in sample_traces yet",
)


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> list[Trace]:
    return corpus.load_corpus(Path(tmp_path_factory.mktemp("corpus")) / "corpus.duckdb")


@pytest.fixture(scope="module")
def findings(traces: list[Trace]) -> dict[str, list[Finding]]:
    detector = TimeoutCascadeDetector()
    return {t.trace_id: detector.detect(t) for t in traces}


def test_every_labelled_trace_is_in_the_corpus(traces: list[Trace]) -> None:
    assert {s.trace_id for s in LABELS} <= {t.trace_id for t in traces}


def test_precision_recall_origin(findings: dict[str, list[Finding]]) -> None:
    ev = evaluate(LABELS, findings)
    print("\n" + format_table(ev))
    score = ev.by_detector[corpus.DETECTOR]
    assert score.recall is not None and score.recall >= 0.9
    assert score.precision is not None and score.precision >= 0.9
    assert score.origin_accuracy is not None and score.origin_accuracy >= 0.8
    for (detector, kind), s in ev.by_kind.items():  # every kind is found at all, not only on average
        if detector == corpus.DETECTOR:
            assert s.tp > 0, kind


def test_clean_controls_stay_clean(findings: dict[str, list[Finding]]) -> None:
    dirty = [
        f"{s.scenario}/{s.variant}: {f.kind}" for s in LABELS if s.clean for f in findings.get(s.trace_id, [])
    ]
    assert dirty == []


def test_window_detector_adds_no_false_positive(traces: list[Trace]) -> None:
    ordered = sorted(traces, key=lambda t: (int(t.spans["start_ns"].min() or 0), t.trace_id))  # type: ignore[arg-type]
    found = CircuitBreakerWindowDetector().detect_window(ordered)
    ev = evaluate(LABELS, {f.trace_id: [f] for f in found})
    assert all(s.fp == 0 for s in ev.by_detector.values())
