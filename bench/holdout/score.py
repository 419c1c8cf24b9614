"""Scoring a ``faultlens report`` against the hold-out labels.

Per detector and per (detector, kind):
- a labelled failure is found (TP) when its trace has a finding of that detector (and kind); else FN;
- origin accuracy: among TPs, the share where one such finding's ``origin_span_id`` is the label's
  origin (strict) or one of the label's acceptable alternatives (lenient);
- FP: every finding on a clean control; precision = TP / (TP + FP);
- findings in failure traces by a detector (kind) not labelled there are listed apart ("extra"),
  outside precision: they may be true secondary effects or noise; a reader decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.holdout.labels import Case, Expected


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    origin: int = 0
    origin_lenient: int = 0

    def row(self, name: str) -> str:
        def ratio(a: int, b: int) -> str:
            return f"{a / b:.2f}" if b else "  - "

        return (
            f"{name:<44} {self.tp:>3} {self.fp:>3} {self.fn:>3}  {ratio(self.tp, self.tp + self.fp):>5}"
            f"  {ratio(self.tp, self.tp + self.fn):>5}  {ratio(self.origin, self.tp):>5}"
            f"  {ratio(self.origin_lenient, self.tp):>5}"
        )


@dataclass
class Result:
    by_detector: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_slice: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[str] = field(default_factory=list)
    origin_misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    unreported: list[str] = field(default_factory=list)


def _findings_by_trace(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in report.get("traces", []):
        out[t["trace_id"]].extend(t.get("findings", []))
    return out


def _describe(case: Case, f: dict[str, Any]) -> str:
    summary = str(f.get("summary", "")).replace("\n", "\\n")[:110]
    return (
        f"{case.scenario.name} [{case.scenario.convention}] {f['detector']}/{f['kind']} "
        f"origin={case.span_label(f.get('origin_span_id'))}: {summary}"
    )


def _score_label(case: Case, e: Expected, found: list[dict[str, Any]], res: Result) -> None:
    allowed = {e.origin.span_id, *(h.span_id for h in e.also)}
    for key, tallies, matching in (
        (e.detector, res.by_detector, [f for f in found if f["detector"] == e.detector]),
        (
            f"{e.detector}/{e.kind}",
            res.by_kind,
            [f for f in found if f["detector"] == e.detector and f["kind"] == e.kind],
        ),
    ):
        tally = tallies[key]
        if not matching:
            tally.fn += 1
            continue
        tally.tp += 1
        origins = {f.get("origin_span_id") for f in matching}
        tally.origin += e.origin.span_id in origins
        tally.origin_lenient += bool(origins & allowed)
    same_kind = [f for f in found if f["detector"] == e.detector and f["kind"] == e.kind]
    where = case.span_label(e.origin.span_id)
    label = f"{case.scenario.name} [{case.scenario.convention}] {e.detector}/{e.kind} @ {where}"
    if not same_kind:
        others = [f"{f['detector']}/{f['kind']}" for f in found]
        res.misses.append(f"MISS {label}; trace had: {', '.join(others) or 'nothing'}")
    elif e.origin.span_id not in {f.get("origin_span_id") for f in same_kind}:
        got = ", ".join(case.span_label(f.get("origin_span_id")) for f in same_kind)
        lenient = (
            " (an acceptable alternative)" if {f.get("origin_span_id") for f in same_kind} & allowed else ""
        )
        res.origin_misses.append(f"ORIGIN {label}; finding says {got}{lenient}")


def _slice(case: Case, found: list[dict[str, Any]], res: Result) -> None:
    """Detector-level outcomes of one trace, added to its convention's and transport's slices."""
    for key in (f"convention={case.scenario.convention}", f"transport={case.transport}"):
        tally = res.by_slice[key]
        if case.scenario.clean:
            tally.fp += len(found)
        for e in case.expected:
            origins = {f.get("origin_span_id") for f in found if f["detector"] == e.detector}
            if not origins:
                tally.fn += 1
                continue
            tally.tp += 1
            tally.origin += e.origin.span_id in origins
            tally.origin_lenient += bool(origins & {e.origin.span_id, *(h.span_id for h in e.also)})


def score(cases: Sequence[Case], report: dict[str, Any]) -> Result:
    res = Result()
    findings = _findings_by_trace(report)
    reported = {t["trace_id"] for t in report.get("traces", [])}
    for case in cases:
        if case.trace_id not in reported:
            res.unreported.append(f"{case.scenario.name}: trace {case.trace_id} not in the report")
        found = findings.get(case.trace_id, [])
        _slice(case, found, res)
        if case.scenario.clean:
            for f in found:
                res.by_detector[f["detector"]].fp += 1
                res.by_kind[f"{f['detector']}/{f['kind']}"].fp += 1
                res.false_positives.append("FP " + _describe(case, f))
            continue
        for e in case.expected:
            _score_label(case, e, found, res)
        labelled = {(e.detector, e.kind) for e in case.expected}
        for f in found:
            if (f["detector"], f["kind"]) not in labelled:
                res.extras.append("EXTRA " + _describe(case, f))
    return res


HEADER = f"{'detector / kind':<44} " + "  ".join(
    f"{h:>{w}}"
    for h, w in (("TP", 3), ("FP", 2), ("FN", 2), ("prec", 5), ("recall", 5), ("orig", 5), ("orig~", 5))
)


def render(res: Result, n_failed: int, n_clean: int) -> str:
    lines = [
        f"hold-out: {n_failed} labelled failure traces, {n_clean} clean controls",
        "",
        HEADER,
        "-" * len(HEADER),
    ]
    total = Tally()
    for name in sorted(res.by_detector):
        t = res.by_detector[name]
        lines.append(t.row(name))
        for kind in sorted(k for k in res.by_kind if k.startswith(name + "/")):
            lines.append(res.by_kind[kind].row("  " + kind.split("/", 1)[1]))
        total.tp += t.tp
        total.fp += t.fp
        total.fn += t.fn
        total.origin += t.origin
        total.origin_lenient += t.origin_lenient
    lines += [
        "-" * len(HEADER),
        total.row("ALL detectors"),
        "",
        *(res.by_slice[k].row(k) for k in sorted(res.by_slice)),
        "",
        "orig = strict origin accuracy; orig~ = origin is the label's or an acceptable alternative",
        "",
    ]
    for title, items in (
        ("misses", res.misses),
        ("origin misses", res.origin_misses),
        ("false positives on clean controls", res.false_positives),
        ("extra findings in failure traces (unlabelled detector/kind)", res.extras),
        ("traces missing from the report", res.unreported),
    ):
        lines.append(f"{title} ({len(items)}):")
        lines += ["  " + s for s in items] or ["  none"]
        lines.append("")
    return "\n".join(lines)
