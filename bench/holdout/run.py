"""Hold-out measurement of faultlens's detectors, written apart from the team's corpus.

Records 116 labelled multi-agent traces from two independently written sets (half OTel GenAI
semconv, half OpenInference; several services each) through the real OpenTelemetry SDK into a
fresh ``faultlens serve`` — half over OTLP/gRPC, half over OTLP/HTTP —, runs
``faultlens report --format json`` while the server still runs, and scores the report per
detector and kind (see ``score.py``).

    python bench/holdout/run.py [--keep DIR] [--json OUT] [--only PREFIX]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:1] = [str(ROOT)]  # the script's own folder would otherwise come first

from bench.holdout import (  # noqa: E402
    gen_causal_cases,
    gen_clean_content,
    gen_clean_memory,
    gen_clean_ops,
    gen_fresh_hallucination,
    gen_hallucination,
    gen_hallucination_more,
    gen_mast,
    gen_probes,
    gen_probes_ops,
    gen_timeouts,
)
from bench.holdout.conv import CONVENTIONS  # noqa: E402
from bench.holdout.harness import Server, report  # noqa: E402
from bench.holdout.labels import Case, Scenario  # noqa: E402
from bench.holdout.otelkit import Exporters, Recorder, Transport  # noqa: E402
from bench.holdout.score import render, score  # noqa: E402

SCENARIOS: list[Scenario] = [
    *gen_hallucination.SCENARIOS,
    *gen_hallucination_more.SCENARIOS,
    *gen_causal_cases.SCENARIOS,
    *gen_timeouts.SCENARIOS,
    *gen_mast.SCENARIOS,
    *gen_probes.SCENARIOS,
    *gen_probes_ops.SCENARIOS,
    *gen_clean_content.SCENARIOS,
    *gen_clean_memory.SCENARIOS,
    *gen_clean_ops.SCENARIOS,
    *gen_fresh_hallucination.SCENARIOS,
]

#: Traces start this far apart (and well in the past) so window detectors see them as separate.
SPACING_NS = 300 * 1_000_000_000


def select(scenarios: list[Scenario], prefix: str | None) -> list[Scenario]:
    """The scenarios whose name, or whose module's name (with or without ``gen_``), starts with ``prefix``."""
    if not prefix:
        return scenarios
    kept = []
    for sc in scenarios:
        module = sc.build.__module__.rsplit(".", 1)[-1]
        if any(n.startswith(prefix) for n in (sc.name, module, module.removeprefix("gen_"))):
            kept.append(sc)
    return kept


def record_all(exporters: Exporters, scenarios: list[Scenario]) -> list[Case]:
    cases = []
    start = time.time_ns() - len(scenarios) * SPACING_NS - 3600 * 1_000_000_000
    for i, sc in enumerate(scenarios):
        transport: Transport = "grpc" if i % 2 == 0 else "http"
        r = Recorder(exporters, transport, start + i * SPACING_NS)
        expected = sc.build(r, CONVENTIONS[sc.convention])
        cases.append(Case(sc, transport, r.trace_id, expected, r.spans))
    return cases


def wait_visible(db: Path, spans: int, timeout_s: float = 30.0) -> int:
    """Poll the store (through the server's read path) until ``spans`` spans are visible."""
    seen = 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "faultlens",
                "sql",
                "--db",
                str(db),
                "--format",
                "json",
                "SELECT count(*) AS n FROM spans",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            seen = int(json.loads(done.stdout)[0]["n"])
            if seen >= spans:
                return seen
        time.sleep(0.5)
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, default=None, help="Keep the store and report in this folder.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the raw report here.")
    parser.add_argument(
        "--only", default=None, metavar="PREFIX", help="Keep scenarios whose name or module starts with this."
    )
    args = parser.parse_args()
    scenarios = select(SCENARIOS, args.only)
    if not scenarios:
        parser.error(f"--only {args.only}: no scenario name or module starts with it")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="holdout-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "holdout.duckdb"
        db.unlink(missing_ok=True)
        with Server(ROOT, db) as server:
            exporters = Exporters(server.grpc, server.http)
            cases = record_all(exporters, scenarios)
            flushed = exporters.flush()
            exporters.shutdown()
            n_spans = sum(len(c.spans) for c in cases)
            seen = wait_visible(db, n_spans)
            print(
                f"recorded {len(cases)} traces, {n_spans} spans (flushed={flushed}); "
                f"visible in store: {seen}",
                file=sys.stderr,
            )
            rep = report(ROOT, db)
        if args.json:
            args.json.write_text(json.dumps(rep, indent=1), encoding="utf-8")
    failed = sum(not c.scenario.clean for c in cases)
    print(render(score(cases, rep), failed, len(cases) - failed))
    print(f"(run took {time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
