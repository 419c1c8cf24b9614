"""Maintenance benchmark: what reading log records costs one maintenance pass for 100 recently
touched traces (the GenAI log-event join, ``store.maintenance.join_log_content``, and the
``traces`` summary's last ingest time, ``upsert_traces``), as the store holds more log records of
older traces, with the pass's time bound (what the writer uses) and without it (every stored
record's trace id scanned). Store files are real DuckDB files; records are inserted in time order, as a
live server stores them, 1,000 a second: with the bound a pass reads the records of the last
``LOG_CLOCK_SKEW_NS`` before the touched traces began (300,000 here), whatever the store holds.

Figures from one run on one machine are comparable with each other (the ratios), not across
machines. Nothing here is asserted.

    python bench/log_join.py [--stored 300000,1000000,3000000] [--passes 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store import schema  # noqa: E402
from store.database import open_database  # noqa: E402
from store.maintenance import _TOUCHED, join_log_content, upsert_traces  # noqa: E402

T0 = 1_767_225_600_000_000_000
EVENTS_PER_TRACE = 4  # one per chat span
TOUCHED = 100
CHUNK = 200_000
MESSAGES = '[{"role":"user","parts":[{"type":"text","content":"What changed in the supplier contract?"}]}]'


def _logs(first: int, n: int) -> pa.Table:
    """``n`` GenAI events, record ``first`` onwards: one per chat span, a millisecond apart."""
    rows = range(first, first + n)
    columns = {f.name: pa.nulls(n, f.type) for f in schema.LOGS}
    columns.update(
        log_id=pa.array([f"log-{i}" for i in rows]),
        trace_id=pa.array([f"{i // EVENTS_PER_TRACE:032x}" for i in rows]),
        span_id=pa.array([f"{i % EVENTS_PER_TRACE + 2:016x}" for i in rows]),
        time_ns=pa.array([T0 + i * 1_000_000 for i in rows], pa.int64()),
        event_name=pa.array(["gen_ai.client.inference.operation.details"] * n),
        input_messages=pa.array([MESSAGES] * n),
    )
    return pa.table(columns, schema=schema.LOGS)


def _spans(trace_ids: list[str], start: int) -> pa.Table:
    """The touched traces' chat spans (no content: the events carry it), one per event."""
    n = len(trace_ids) * EVENTS_PER_TRACE
    columns = {f.name: pa.nulls(n, f.type) for f in schema.SPAN_ROWS}
    columns.update(
        trace_id=pa.array([t for t in trace_ids for _ in range(EVENTS_PER_TRACE)]),
        span_id=pa.array([f"{k + 2:016x}" for _ in trace_ids for k in range(EVENTS_PER_TRACE)]),
        name=pa.array(["chat gpt-4o"] * n),
        start_ns=pa.array([start + i * 1_000_000 for i in range(n)], pa.int64()),
        end_ns=pa.array([start + i * 1_000_000 + 500_000 for i in range(n)], pa.int64()),
        ingested_ns=pa.array([0] * n, pa.int64()),
    )
    return pa.table(columns, schema=schema.SPAN_ROWS)


def measure(stored: int, passes: int) -> tuple[float, float]:
    """Median ms of a pass without and with the time bound, over a store of ``stored`` records."""
    with tempfile.TemporaryDirectory() as tmp:
        con = open_database(Path(tmp) / "bench.duckdb", threads=1)
        for first in range(0, stored, CHUNK):
            con.execute("BEGIN")
            con.from_arrow(_logs(first, min(CHUNK, stored - first))).insert_into("logs")
            con.execute("COMMIT")
        con.execute("CHECKPOINT")
        last_trace = stored // EVENTS_PER_TRACE - 1
        trace_ids = [f"{t:032x}" for t in range(last_trace - TOUCHED + 1, last_trace + 1)]
        # The writer's bound: the earliest start of the touched traces' spans.
        bound = T0 + (last_trace - TOUCHED + 1) * EVENTS_PER_TRACE * 1_000_000
        con.execute("BEGIN")
        con.from_arrow(_spans(trace_ids, bound)).insert_into(schema.SPAN_ROWS_TABLE)
        con.execute("COMMIT")
        con.register(_TOUCHED, pa.table({"trace_id": pa.array(trace_ids)}))
        timings: dict[int | None, list[float]] = {None: [], bound: []}
        for _ in range(passes):
            for b in timings:
                con.execute("BEGIN")
                t0 = time.perf_counter()
                join_log_content(con, b)
                upsert_traces(con, b)
                timings[b].append(time.perf_counter() - t0)
                con.execute("ROLLBACK")
        con.close()
    return statistics.median(timings[None]) * 1e3, statistics.median(timings[bound]) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stored", default="300000,1000000,3000000")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    print(f"the log reads of one maintenance pass for {TOUCHED} touched traces (median of {args.passes}):")
    print(f"{'stored records':>15} {'no bound ms':>12} {'bound ms':>9} {'ratio':>6}")
    for stored in (int(s) for s in args.stored.split(",")):
        unbounded, bounded = measure(stored, args.passes)
        print(f"{stored:>15,} {unbounded:>12.1f} {bounded:>9.1f} {unbounded / bounded:>6.1f}")


if __name__ == "__main__":
    main()
