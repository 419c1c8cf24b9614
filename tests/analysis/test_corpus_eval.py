"""The structural detectors measured on the labelled scenario corpus (sample_traces/): precision,
recall and origin accuracy per detector, clean controls included — the same harness as
``faultlens eval``."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.evaluation import Evaluation, run

SAMPLES = Path(__file__).resolve().parents[2] / "sample_traces"
STRUCTURAL = (
    "step_repetition",
    "history_loss",
    "termination_unaware",
    "reasoning_action_mismatch",
    "premature_termination",
    "missing_verification",
    "duplicate_side_effect",
    "noisy_neighbour",
)


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    if not (SAMPLES / "labels.json").exists() or not (SAMPLES / "corpus").is_dir():
        pytest.skip("no labelled corpus in sample_traces/")
    return run(SAMPLES / "corpus", SAMPLES / "labels.json", tmp_path_factory.mktemp("eval"))


@pytest.mark.slow
@pytest.mark.parametrize("detector", STRUCTURAL)
def test_structural_detector_quality(evaluation: Evaluation, detector: str) -> None:
    score = evaluation.by_detector.get(detector)
    assert score is not None and score.tp + score.fn > 0, f"the corpus has no {detector} scenario"
    assert score.clean_fp == 0, f"{detector} fired on clean controls"
    assert (score.precision or 0) >= 0.8, score.as_json()
    assert (score.recall or 0) >= 0.75, score.as_json()
    assert (score.origin_accuracy or 0) >= 0.75, score.as_json()


@pytest.mark.slow
def test_harness_covers_the_corpus(evaluation: Evaluation) -> None:
    assert evaluation.errors == []
    assert evaluation.clean_traces > 0 and evaluation.traces > evaluation.clean_traces
