"""The evaluation harness: detectors measured against labelled scenarios (sample_traces/labels.json,
format in docs/findings-vocabulary.md), clean controls included.

Matching, per trace: findings and expected items are paired one to one, greedily by score (same
detector required; same kind +2, same origin span +4, overlapping span ids +1). Then, per detector
and per (detector, kind):
- TP: a finding paired with an expected item of the same detector (for kinds: of the same kind);
- FP: a finding with no expected item of its detector (kind) in its trace — every finding on a
  clean control is one;
- duplicate: an unpaired finding whose trace does expect its detector (kind): reported, neither
  TP nor FP (several findings for one labelled failure);
- FN: an expected item without a paired finding;
- origin accuracy: among TPs, the share whose origin span equals the label's.
Only labelled traces count; findings on other traces are ignored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from analysis.engine import BATCH, Progress, analyze_traces
from analysis.load import trace_ids_since
from analysis.model import Finding
from analysis.options import AnalysisOptions


@dataclass(frozen=True)
class Expected:
    trace_id: str
    detector: str
    kind: str
    origin_span_id: str
    span_ids: frozenset[str]


@dataclass(frozen=True)
class Scenario:
    trace_id: str
    scenario: str
    variant: str
    clean: bool
    expected: tuple[Expected, ...]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    duplicates: int = 0
    origin_hits: int = 0
    clean_fp: int = 0  # FPs on clean controls (included in fp)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def origin_accuracy(self) -> float | None:
        return self.origin_hits / self.tp if self.tp else None

    def as_json(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "duplicates": self.duplicates,
            "clean_fp": self.clean_fp,
            "precision": r(self.precision),
            "recall": r(self.recall),
            "origin_accuracy": r(self.origin_accuracy),
        }


@dataclass
class Evaluation:
    by_detector: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    by_kind: dict[tuple[str, str], Score] = field(default_factory=lambda: defaultdict(Score))
    traces: int = 0
    clean_traces: int = 0
    clean_with_findings: int = 0
    errors: list[str] = field(default_factory=list)  # e.g. labelled traces missing from the corpus

    def as_json(self) -> dict[str, Any]:
        return {
            "traces": self.traces,
            "clean_traces": self.clean_traces,
            "clean_traces_with_findings": self.clean_with_findings,
            "by_detector": {d: s.as_json() for d, s in sorted(self.by_detector.items())},
            "by_kind": {f"{d}/{k}": s.as_json() for (d, k), s in sorted(self.by_kind.items())},
            "errors": self.errors,
        }


def load_labels(path: Path) -> list[Scenario]:
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise ValueError(f"{path}: expected {{'version': 1, 'scenarios': [...]}}")
    out: list[Scenario] = []
    for s in data["scenarios"]:
        tid = str(s["trace_id"]).lower()
        exp = tuple(
            Expected(
                tid,
                e["detector"],
                e["kind"],
                str(e.get("origin_span_id") or "").lower(),
                frozenset(str(x).lower() for x in e.get("span_ids") or []),
            )
            for e in s.get("expected") or []
        )
        out.append(
            Scenario(tid, str(s.get("scenario", "")), str(s.get("variant", "")), bool(s.get("clean")), exp)
        )
    return out


def _pair(
    findings: Sequence[Finding], expected: Sequence[Expected], same_kind: bool
) -> list[tuple[Finding, Expected]]:
    scored: list[tuple[int, int, int]] = []
    for i, f in enumerate(findings):
        for j, e in enumerate(expected):
            if f.detector != e.detector or (same_kind and f.kind != e.kind):
                continue
            score = (2 if f.kind == e.kind else 0) + (4 if f.origin_span_id == e.origin_span_id else 0)
            score += 1 if e.span_ids & set(f.span_ids) else 0
            scored.append((score, i, j))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_f: set[int] = set()
    used_e: set[int] = set()
    pairs: list[tuple[Finding, Expected]] = []
    for _, i, j in scored:
        if i not in used_f and j not in used_e:
            used_f.add(i)
            used_e.add(j)
            pairs.append((findings[i], expected[j]))
    return pairs


def evaluate(scenarios: Sequence[Scenario], findings: Mapping[str, Sequence[Finding]]) -> Evaluation:
    """Score ``findings`` (trace id → findings) against ``scenarios``."""
    ev = Evaluation()
    for sc in scenarios:
        ev.traces += 1
        ev.clean_traces += sc.clean
        found = list(findings.get(sc.trace_id, ()))
        if sc.clean and found:
            ev.clean_with_findings += 1
        for level in ("detector", "kind"):
            key = (lambda d, k: d) if level == "detector" else (lambda d, k: (d, k))
            table: Any = ev.by_detector if level == "detector" else ev.by_kind
            exp = list(sc.expected)
            fs = found
            pairs = _pair(fs, exp, same_kind=level == "kind")
            paired_f = {id(f) for f, _ in pairs}
            paired_e = {id(e) for _, e in pairs}
            expected_keys = {key(e.detector, e.kind) for e in exp}
            for f, e in pairs:
                s = table[key(e.detector, e.kind)]
                s.tp += 1
                s.origin_hits += f.origin_span_id == e.origin_span_id
            for f in fs:
                if id(f) in paired_f:
                    continue
                s = table[key(f.detector, f.kind)]
                if key(f.detector, f.kind) in expected_keys:
                    s.duplicates += 1
                else:
                    s.fp += 1
                    s.clean_fp += sc.clean
            for e in exp:
                if id(e) not in paired_e:
                    table[key(e.detector, e.kind)].fn += 1
    return ev


def format_table(ev: Evaluation) -> str:
    """A plain-text table: per detector, then per kind."""

    def pct(x: float | None) -> str:
        return "   -" if x is None else f"{x * 100:5.1f}"

    head = f"{'':46} {'TP':>4} {'FP':>4} {'FN':>4} {'dup':>4} {'prec%':>6} {'rec%':>6} {'origin%':>7}"
    lines = [
        f"{ev.traces} labelled traces, {ev.clean_traces} clean controls "
        f"({ev.clean_with_findings} with findings)",
        "",
        "per detector",
        head,
    ]
    for d, s in sorted(ev.by_detector.items()):
        lines.append(
            f"{d:46} {s.tp:4} {s.fp:4} {s.fn:4} {s.duplicates:4} {pct(s.precision):>6} "
            f"{pct(s.recall):>6} {pct(s.origin_accuracy):>7}"
        )
    lines += ["", "per kind", head]
    for (d, k), s in sorted(ev.by_kind.items()):
        lines.append(
            f"{d + '/' + k:46} {s.tp:4} {s.fp:4} {s.fn:4} {s.duplicates:4} {pct(s.precision):>6} "
            f"{pct(s.recall):>6} {pct(s.origin_accuracy):>7}"
        )
    for e in ev.errors:
        lines.append(f"error: {e}")
    return "\n".join(lines)


def corpus_files(corpus: Path) -> list[Path]:
    """The OTLP files of a corpus directory (labels and docs aside)."""
    skip = {"labels.json", "readme.md", "license"}
    return sorted(
        p
        for p in corpus.rglob("*")
        if p.is_file() and p.name.lower() not in skip and not p.name.startswith(".")
    )


def run(
    corpus: Path,
    labels: Path,
    workdir: Path,
    progress: Progress | None = None,
    options: AnalysisOptions | None = None,
) -> Evaluation:
    """Decode ``corpus`` into a fresh store under ``workdir``, analyse every trace (detectors
    configured by ``options``), score against ``labels``."""
    from collector.decode import parse_and_decode
    from collector.files import read_requests
    from store.writer import DuckStoreWriter

    scenarios = load_labels(labels)
    with DuckStoreWriter(workdir / "eval.duckdb") as writer:
        for path in corpus_files(corpus):
            for req in read_requests(path):
                batch = parse_and_decode(req.signal, req.body, req.fmt).batch
                if batch.item_count:
                    writer.write(batch)
        writer.sync()
        reader = writer.reader()
        stored = set(trace_ids_since(reader))
        ids = [s.trace_id for s in scenarios if s.trace_id in stored]
        results: dict[str, list[Finding]] = {}
        for lo in range(0, len(ids), BATCH):
            for r in analyze_traces(reader, ids[lo : lo + BATCH], options=options):
                results[r.trace_id] = list(r.findings)
            if progress is not None:
                progress(min(lo + BATCH, len(ids)), len(ids), 0)
    ev = evaluate([s for s in scenarios if s.trace_id in stored], results)
    missing = [s.trace_id for s in scenarios if s.trace_id not in stored]
    if missing:
        ev.errors.append(f"{len(missing)} labelled trace(s) not in the corpus, e.g. {missing[0]}")
    return ev
