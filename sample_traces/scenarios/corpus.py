"""Write the labelled corpus: ``sample_traces/corpus/<scenario>.json`` (one OTLP/JSON
ExportTraceServiceRequest per scenario, every variant's trace in it) and ``sample_traces/labels.json``.

Byte-identical on every run: seeded ids and content, fixed timestamps, a ``Resource`` without SDK
versions, and a stable JSON encoding.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

from sample_traces.scenarios.registry import Scenario, all_scenarios
from sample_traces.scenarios.run import Ran, run_variant, seed_of
from sample_traces.scenarios.telemetry import Capture

#: 2026-03-02T09:00:00Z: where the corpus's timeline starts
CORPUS_EPOCH_NS = 1_772_442_000 * 1_000_000_000
#: spacing between the traces' starts; longer than the longest scenario
TRACE_SPACING_NS = 5 * 60 * 1_000_000_000

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
LABELS_PATH = ROOT / "labels.json"


def _hex(b64: str) -> str:
    return base64.b64decode(b64).hex()


def _hex_ids(node: Any) -> None:
    """OTLP/JSON wants hex trace/span ids where the protobuf JSON mapping gives base64."""
    if isinstance(node, dict):
        for key in ("traceId", "spanId", "parentSpanId"):
            if isinstance(node.get(key), str):
                node[key] = _hex(node[key])
        for value in node.values():
            _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


def otlp_json(spans: Sequence[ReadableSpan]) -> bytes:
    """The ExportTraceServiceRequest of ``spans`` as OTLP/JSON: lowerCamelCase keys, hex ids,
    enums as integers, int64 as strings."""
    doc = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    _hex_ids(doc)
    return orjson.dumps(doc, option=orjson.OPT_APPEND_NEWLINE)


@dataclass(frozen=True)
class Corpus:
    files: dict[str, bytes]  # file name → OTLP/JSON
    labels: bytes
    runs: tuple[Ran, ...]


def iter_variants(scenarios: Sequence[Scenario]) -> Iterator[tuple[Scenario, int]]:
    for scn in scenarios:
        for v in range(scn.variants):
            yield scn, v


def build_corpus(scenarios: Sequence[Scenario] | None = None) -> Corpus:
    """Generate every variant of ``scenarios`` (default: all registered) in memory."""
    scenarios = list(scenarios) if scenarios is not None else all_scenarios()
    capture = Capture()
    files: dict[str, bytes] = {}
    runs: list[Ran] = []
    rows: list[dict[str, Any]] = []
    index = 0
    for scn in scenarios:
        spans: list[ReadableSpan] = []
        for v in range(scn.variants):
            seed = seed_of(scn.name, v)
            capture.ids.reseed(seed)
            ran = run_variant(scn, v, capture, base_ns=CORPUS_EPOCH_NS + index * TRACE_SPACING_NS, seed=seed)
            index += 1
            spans.extend(capture.take())
            runs.append(ran)
            rows.append(
                {
                    "trace_id": ran.trace_id,
                    "scenario": scn.name,
                    "variant": ran.outcome.variant,
                    "convention": scn.convention(v),
                    "clean": scn.clean,
                    "expected": [e.as_json() for e in ran.outcome.expected],
                    "family": scn.family,
                    "description": ran.outcome.description,
                    "file": f"corpus/{scn.name}.json",
                }
            )
        files[f"{scn.name}.json"] = otlp_json(spans)
    capture.shutdown()
    labels = orjson.dumps(
        {"version": 1, "scenarios": rows}, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )
    return Corpus(files, labels, tuple(runs))


def write_corpus(corpus: Corpus, corpus_dir: Path = CORPUS_DIR, labels_path: Path = LABELS_PATH) -> None:
    """Replace the corpus files (stale ``*.json`` of removed scenarios are deleted)."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for old in corpus_dir.glob("*.json"):
        if old.name not in corpus.files:
            old.unlink()
    for name, body in corpus.files.items():
        (corpus_dir / name).write_bytes(body)
    labels_path.write_bytes(corpus.labels)
