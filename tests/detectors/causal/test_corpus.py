"""``causal_consistency`` over the labelled scenarios of ``sample_traces/`` (clean controls and
near-misses included), through the real pipeline: OTLP/JSON → collector decode → DuckDB →
``analysis.load`` → the detector, scored by ``analysis.evaluation``."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.detectors.causal import CausalConsistency
from analysis.evaluation import Evaluation, evaluate, load_labels
from tests.detectors.timeouts.corpus import load_corpus

LABELS = Path(__file__).resolve().parents[3] / "sample_traces" / "labels.json"
NAME = CausalConsistency.name
KINDS = {
    "stale_read",
    "causal_inversion",
    "thin_air_read",
    "lost_update",
    "cyclic_causality",
    "clock_skew",
    "realtime_stale_read",
}


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    if not LABELS.exists():
        pytest.skip("sample_traces/labels.json is not there")
    scenarios = load_labels(LABELS)
    mine = [s for s in scenarios if s.clean or any(e.detector == NAME for e in s.expected)]
    traces = load_corpus(Path(tmp_path_factory.mktemp("causal")) / "corpus.duckdb")
    detector = CausalConsistency()
    return evaluate(mine, {t.trace_id: detector.detect(t) for t in traces})


def test_every_kind_has_labelled_scenarios(evaluation: Evaluation) -> None:
    assert {k for d, k in evaluation.by_kind if d == NAME} == KINDS


def test_recall_precision_and_origin_accuracy(evaluation: Evaluation) -> None:
    score = evaluation.by_detector[NAME]
    assert (score.recall or 0) >= 0.9, evaluation.as_json()
    assert (score.precision or 0) >= 0.9, evaluation.as_json()
    assert (score.origin_accuracy or 0) >= 0.8, evaluation.as_json()
    assert score.clean_fp == 0, evaluation.as_json()
