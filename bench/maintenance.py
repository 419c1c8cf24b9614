"""Maintenance benchmark: what one pass (``store.maintenance.run_maintenance``) costs per span next
to inserting and committing the same spans, and how it divides into its steps (agent resolution,
the GenAI log-event join, the ``traces`` summary). The spans are ``bench/ingest.py``'s requests
(512 GenAI spans each, in traces of 32), decoded by the collector and inserted into a real DuckDB
file that already holds as many older spans, as a serving writer applies them: groups of 16
requests, then one pass over every trace they touched.

Figures from one run on one machine are comparable with each other (the ratios), not across
machines. Nothing here is asserted.

    python bench/maintenance.py [--requests 112] [--passes 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ingest as ingest_bench  # noqa: E402

from collector.decode.request import parse_and_decode  # noqa: E402
from store import ingest, maintenance  # noqa: E402
from store.api import IngestBatch  # noqa: E402
from store.database import open_database  # noqa: E402

GROUP = 16  # requests per applied group (8,192 spans: the writer's group)
STEPS = ("resolve_touched_agents", "join_log_content", "upsert_traces")


def _batches(first: int, n: int) -> list[IngestBatch]:
    return [
        ingest.conform_batch(
            parse_and_decode("traces", ingest_bench.make_request(random.Random(i), 512, i), "protobuf").batch
        )
        for i in range(first, first + n)
    ]


class _Timed:
    """Wraps the pass's steps in ``store.maintenance`` to add up the time spent in each."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STEPS, 0.0)
        for name in STEPS:
            setattr(maintenance, name, self._wrap(name, getattr(maintenance, name)))

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t

        return timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=112, help="requests of 512 spans per timed pass")
    ap.add_argument("--passes", type=int, default=5)
    args = ap.parse_args()

    con = open_database(Path(tempfile.mkdtemp(prefix="faultlens-bench-")) / "m.duckdb", threads=1)
    stored = ingest.load_stored_keys(con)
    positional = ingest.positional_tables(con)
    timed = _Timed()
    insert_s: list[float] = []
    pass_s: list[float] = []
    steps: dict[str, list[float]] = {name: [] for name in STEPS}
    first = 0
    for round_ in range(args.passes + 1):  # the first round only fills the store
        batches = _batches(first, args.requests)
        first += args.requests
        t = time.perf_counter()
        for i in range(0, len(batches), GROUP):
            with ingest.keyed_transaction(con, stored):
                ingest.insert_group(
                    con, batches[i : i + GROUP], time.time_ns(), stored, positional=positional
                )
        inserted = time.perf_counter() - t
        touched = set().union(*(ingest.touched_traces(b) for b in batches))
        timed.seconds = dict.fromkeys(STEPS, 0.0)
        t = time.perf_counter()
        maintenance.run_maintenance(con, touched, min(ingest.earliest_start(b) for b in batches))
        passed = time.perf_counter() - t
        if round_:
            insert_s.append(inserted)
            pass_s.append(passed)
            for name in STEPS:
                steps[name].append(timed.seconds[name])
    con.close()

    spans = args.requests * 512
    print(f"{spans:,} spans in {spans // 32:,} traces per pass; medians of {args.passes} passes")
    ins, mnt = statistics.median(insert_s), statistics.median(pass_s)
    print(f"  insert + commit {ins * 1e3:7.1f} ms  {ins / spans * 1e6:5.2f} us/span")
    print(
        f"  maintenance     {mnt * 1e3:7.1f} ms  {mnt / spans * 1e6:5.2f} us/span  "
        f"({mnt / ins:.2f} of the insert)"
    )
    for name in STEPS:
        s = statistics.median(steps[name])
        print(f"    {name:22s} {s * 1e3:7.1f} ms  {s / spans * 1e6:5.2f} us/span")


if __name__ == "__main__":
    main()
