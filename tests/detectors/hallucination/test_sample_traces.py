"""``hallucination_propagation`` measured on the labelled ``sample_traces/`` corpus (clean controls
and near-misses included), through the real pipeline: OTLP/JSON files → collector decode → a real
DuckDB store → ``analysis.load`` → the detector → ``analysis.evaluation``."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.evaluation import evaluate, load_labels
from analysis.load import load_traces, trace_ids_since
from faultlens.commands.ingest import ingest_files
from store.api import IngestBatch
from store.writer import DuckStoreWriter

ROOT = Path(__file__).resolve().parents[3] / "sample_traces"
pytestmark = pytest.mark.skipif(not (ROOT / "labels.json").exists(), reason="no labelled corpus")
DETECTOR = HallucinationPropagation()


@pytest.mark.slow
def test_precision_recall_and_origin_on_the_corpus(tmp_path: Path) -> None:
    paths = sorted((ROOT / "corpus").glob("*.json*"))
    with DuckStoreWriter(tmp_path / "corpus.duckdb") as writer:
        ingest_files(lambda _req, batch: _store(writer, batch), paths)
        writer.sync()
        reader = writer.reader()
        traces = list(load_traces(reader, trace_ids_since(reader)))
    scenarios = load_labels(ROOT / "labels.json")
    mine = [s for s in scenarios if s.clean or any(e.detector == DETECTOR.name for e in s.expected)]
    assert sum(not s.clean for s in mine) >= 10, "the corpus should label hallucination scenarios"
    findings = {t.trace_id: DETECTOR.detect(t) for t in traces}
    score = evaluate(mine, findings).by_detector[DETECTOR.name]
    print(f"\nhallucination_propagation: {score.as_json()}")
    assert score.recall is not None and score.recall >= 0.9
    assert score.precision is not None and score.precision >= 0.9
    assert score.origin_accuracy is not None and score.origin_accuracy >= 0.8


def _store(writer: DuckStoreWriter, batch: IngestBatch) -> None:
    if batch.item_count:
        writer.write(batch)
