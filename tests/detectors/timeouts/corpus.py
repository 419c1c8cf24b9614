"""The labelled corpus of ``sample_traces/`` for the timeout tests, through the real pipeline:
OTLP/JSON files → collector decode → a real DuckDB store → ``analysis.load``. Scoring is the
engine's own (``analysis.evaluation``), fed with the findings of this family only."""

from __future__ import annotations

from pathlib import Path

from analysis.evaluation import Scenario, corpus_files, load_labels
from analysis.load import load_traces, trace_ids_since
from analysis.model import Trace
from collector.files import FileRequest
from faultlens.commands.ingest import ingest_files
from store.api import IngestBatch
from store.writer import DuckStoreWriter

ROOT = Path(__file__).resolve().parents[3] / "sample_traces"
DETECTOR = "timeout_cascade"


def labels() -> list[Scenario]:
    path = ROOT / "labels.json"
    return load_labels(path) if path.exists() else []


def load_corpus(db: Path) -> list[Trace]:
    with DuckStoreWriter(db) as writer:

        def sink(_req: FileRequest, batch: IngestBatch) -> None:
            if batch.item_count:
                writer.write(batch)

        ingest_files(sink, corpus_files(ROOT / "corpus"))
        writer.sync()
        reader = writer.reader()
        return list(load_traces(reader, trace_ids_since(reader)))
