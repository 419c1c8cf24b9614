"""Store benchmark: DuckDB insert throughput of realistic GenAI span rows, the dedup strategy the
store uses (the writer's hashes of the stored keys + plain INSERT, ``store.stored_keys``) against the
alternatives (DuckDB's primary key, with a plain INSERT redone when it refuses a row or with
INSERT OR IGNORE; no key and an anti-join + DISTINCT ON), the writer end to end (queue, group
commit, maintenance), bytes per span on disk, and the cost of DuckDB's automatic checkpoints at
its default WAL threshold against the writer's.

Figures from one run on one machine are comparable with each other (the ratios), not across
machines. Nothing here is asserted.

    python bench/store_insert.py [--rows 60000] [--batches 512,4096] [--stored 0,100000,400000] [--threads 4]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synthetic_text import AGENTS, WORDS  # noqa: E402  (bench/ is the script folder)

from store import schema  # noqa: E402
from store.api import IngestBatch  # noqa: E402
from store.config import StoreConfig  # noqa: E402
from store.database import open_database  # noqa: E402
from store.ingest import (  # noqa: E402
    conform_batch,
    insert_group,
    insert_plain,
    keyed_transaction,
    load_stored_keys,
    positional_tables,
)
from store.stored_keys import StoredKeys  # noqa: E402
from store.writer import DuckStoreWriter  # noqa: E402

SPANS_PER_TRACE = 32
T0 = 1_767_225_600_000_000_000


def _text(rng: random.Random, n: int) -> str:
    """Words plus numbers and ids, so the text does not compress better than real LLM output."""
    words: list[str] = []
    size = 0
    while size < n:
        w = rng.choice(WORDS) if rng.random() < 0.7 else f"{rng.getrandbits(24):x}"
        words.append(w)
        size += len(w) + 1
    return " ".join(words)[:n]


def make_spans(rng: random.Random, n: int, first: int) -> pa.Table:
    """``n`` GenAI spans (two ~600-char message columns, attributes JSON) numbered from ``first``,
    in traces of 32: an invoke_agent root per trace, chat and tool spans under it."""
    cols: dict[str, list[object]] = {name: [] for name in schema.SPANS.names}
    for k in range(first, first + n):
        trace, pos = divmod(k, SPANS_PER_TRACE)
        agent = AGENTS[trace % len(AGENTS)]
        is_root = pos == 0
        op = "invoke_agent" if is_root else ("chat" if pos % 2 else "execute_tool")
        inp = orjson.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": _text(rng, 600)}]}]
        ).decode()
        out = orjson.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": _text(rng, 600)}]}]
        ).decode()
        start = T0 + k * 1_000_000
        row: dict[str, object] = {
            "trace_id": f"{trace:032x}",
            "span_id": f"{k + 1:016x}",
            "parent_span_id": None if is_root else f"{trace * SPANS_PER_TRACE + 1:016x}",
            "name": f"{op} {agent}",
            "kind": 1,
            "start_ns": start,
            "end_ns": start + 900_000,
            "duration_ns": 900_000,
            "status_code": 0,
            "service_name": f"{agent}-svc",
            "resource_attributes": orjson.dumps({"service.name": f"{agent}-svc"}).decode(),
            "scope_name": "bench",
            "attributes": orjson.dumps(
                {
                    "gen_ai.operation.name": op,
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 120,
                    "gen_ai.usage.output_tokens": 40,
                }
            ).decode(),
            "convention": "genai",
            "operation": op,
            "provider": "openai",
            "request_model": "gpt-4o",
            "response_model": "gpt-4o-2024-08-06",
            "agent_name": agent if is_root else None,
            "input_tokens": 120,
            "output_tokens": 40,
            "input_messages": inp if op == "chat" else None,
            "output_messages": out if op == "chat" else None,
            "tool_name": "web_search" if op == "execute_tool" else None,
            "tool_arguments": inp if op == "execute_tool" else None,
            "tool_result": out if op == "execute_tool" else None,
        }
        for name in schema.SPANS.names:
            cols[name].append(row.get(name))
    return pa.Table.from_pydict(cols, schema=schema.SPANS)


def make_batches(rows: int, size: int) -> list[pa.Table]:
    rng = random.Random(7)
    return [make_spans(rng, min(size, rows - i), i) for i in range(0, rows, size)]


STRATEGIES = (
    "store: key hashes + plain INSERT",
    "primary key + plain INSERT",
    "pk + INSERT OR IGNORE",
    "no key + anti-join",
)


def _open_strategy(path: Path, strategy: str) -> duckdb.DuckDBPyConnection:
    if strategy.startswith("store"):
        return open_database(path)
    con = duckdb.connect(str(path), config={"enable_external_access": False})
    key = None if strategy.startswith("no key") else ("trace_id", "span_id")
    con.execute(schema.create_table_sql(schema.SPAN_ROWS_TABLE, schema.SPAN_ROWS, key))
    return con


def _insert(
    con: duckdb.DuckDBPyConnection,
    strategy: str,
    b: pa.Table,
    positional: frozenset[str],
    keys: dict[str, StoredKeys],
) -> None:
    """One batch by ``strategy``; ``positional`` is ``positional_tables(con)`` and ``keys`` the
    stored span keys, each looked up once per open as the writer does."""
    cols = ", ".join(schema.SPAN_ROWS.names)
    rows = schema.SPAN_ROWS_TABLE
    b = conform_batch(IngestBatch(spans=b)).spans
    with keyed_transaction(con, keys):  # the strategies without a key set stage nothing
        if strategy.startswith("store"):
            insert_group(con, [IngestBatch(spans=b)], time.time_ns(), keys)
        elif strategy == "primary key + plain INSERT":  # the store's way until schema version 3
            try:
                insert_plain(con, "spans", b)
            except duckdb.ConstraintException:  # redo without the stored keys
                con.execute("ROLLBACK")
                con.execute("BEGIN TRANSACTION")
                con.register("_in", b)
                con.execute(
                    f"INSERT INTO {rows} ({cols}) SELECT {cols} FROM _in b WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {rows} s WHERE s.trace_id = b.trace_id AND s.span_id = b.span_id)"
                )
                con.unregister("_in")
        else:
            con.register("_in", b)
            if strategy == "pk + INSERT OR IGNORE":
                con.execute(f"INSERT OR IGNORE INTO {rows} ({cols}) SELECT {cols} FROM _in")
            else:
                con.execute(
                    f"INSERT INTO {rows} ({cols}) SELECT {cols} FROM "
                    "(SELECT DISTINCT ON (trace_id, span_id) * FROM _in) b WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {rows} s WHERE s.trace_id = b.trace_id AND s.span_id = b.span_id)"
                )
            con.unregister("_in")


def _preload(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """``rows`` stored spans with random ids (generated in SQL: fast), so the strategies are
    measured against a store of that size."""
    if rows:
        con.execute(
            f"INSERT INTO {schema.SPAN_ROWS_TABLE} "
            "(trace_id, span_id, parent_span_id, name, start_ns, end_ns, attributes_rest) "
            "SELECT md5((i // 32)::VARCHAR || 'p'), substr(md5(i::VARCHAR || 'q'), 1, 16), NULL, "
            f"'chat ' || (i % 7), i, i + 1000, repeat('x', 300) FROM range({rows}) r(i)"
        )
        con.execute("CHECKPOINT")


def bench_dedup(tmp: Path, size: int, stored: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Per strategy: (rows/s inserting new batches of ``size`` into a store of ``stored`` spans,
    seconds to take one batch whose spans are all stored already)."""
    rng = random.Random(size + stored)
    batches = [make_spans(rng, size, 10**9 + i * size) for i in range(repeats)]
    out: dict[str, tuple[float, float]] = {}
    for n, strategy in enumerate(STRATEGIES):
        path = tmp / f"dedup-{size}-{stored}-{n}.duckdb"
        con = _open_strategy(path, strategy)
        try:
            _preload(con, stored)
            positional = positional_tables(con) if strategy.startswith("store") else frozenset()
            keys = load_stored_keys(con) if strategy.startswith("store") else {}
            times = []
            for b in batches:
                t = time.perf_counter()
                _insert(con, strategy, b, positional, keys)
                times.append(time.perf_counter() - t)
            t = time.perf_counter()
            _insert(con, strategy, batches[0], positional, keys)
            replay = time.perf_counter() - t
        finally:
            con.close()
        times.sort()
        out[strategy] = (size / times[len(times) // 2], replay)
        path.unlink()
    return out


def bench_writer(path: Path, batches: list[pa.Table], threads: int) -> tuple[float, float, float, int]:
    """End to end through DuckStoreWriter from ``threads`` callers: (acknowledged rows/s, seconds
    until maintenance caught up after the last ack, seconds for one small write + its maintenance
    pass on the full store, bytes on disk after close)."""
    writer = DuckStoreWriter(path, StoreConfig(queue_max_items=200_000))
    todo = list(batches)
    lock = threading.Lock()

    def caller() -> None:
        while True:
            with lock:
                if not todo:
                    return
                b = todo.pop()
            writer.write(IngestBatch(spans=b))

    t = time.perf_counter()
    workers = [threading.Thread(target=caller) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    acked = time.perf_counter() - t
    t2 = time.perf_counter()
    writer.sync()
    maintenance = time.perf_counter() - t2
    # A late span for one old trace: the cost of a commit + maintenance pass once the store is full.
    rng = random.Random(3)
    small: list[float] = []
    for i in range(5):
        late = make_spans(rng, 1, i * SPANS_PER_TRACE + 7)
        late = late.set_column(1, "span_id", pa.array([f"{10**15 + i:016x}"]))
        t3 = time.perf_counter()
        writer.write(IngestBatch(spans=late))
        writer.sync()
        small.append(time.perf_counter() - t3)
    writer.close()
    rows = sum(b.num_rows for b in batches)
    return rows / acked, maintenance, sorted(small)[2], _size(path)


def bench_maintenance(tmp: Path, stored: int) -> tuple[float, float]:
    """A store of ``stored`` spans; then one late span for a new trace: (seconds for its write to be
    acknowledged, seconds until its maintenance pass is done), medians of 5."""
    path = tmp / f"maint-{stored}.duckdb"
    con = open_database(path)
    _preload(con, stored)
    con.close()
    writer = DuckStoreWriter(path)
    rng = random.Random(5)
    acks: list[float] = []
    passes: list[float] = []
    try:
        for i in range(5):
            late = make_spans(rng, 1, 10**10 + i * SPANS_PER_TRACE + 3)
            t = time.perf_counter()
            writer.write(IngestBatch(spans=late))
            acks.append(time.perf_counter() - t)
            t = time.perf_counter()
            writer.sync()
            passes.append(time.perf_counter() - t)
    finally:
        writer.close()
    path.unlink()
    return sorted(acks)[2], sorted(passes)[2]


def bench_checkpoint(tmp: Path, batches: list[pa.Table], threshold: str) -> tuple[float, float]:
    """Group commits of 8 batches with DuckDB's ``checkpoint_threshold`` at ``threshold``: (rows/s
    until the last commit, rows/s including a final CHECKPOINT of what the WAL still holds)."""
    path = tmp / f"cp-{threshold}.duckdb"
    con = open_database(path)
    con.execute(f"SET checkpoint_threshold = '{threshold}'")
    rows = sum(b.num_rows for b in batches)
    positional = positional_tables(con)
    keys = load_stored_keys(con)
    t = time.perf_counter()
    for i in range(0, len(batches), 8):
        group = [conform_batch(IngestBatch(spans=b)) for b in batches[i : i + 8]]
        with keyed_transaction(con, keys):
            insert_group(con, group, T0, keys, positional=positional)
    committed = time.perf_counter() - t
    con.execute("CHECKPOINT")
    total = time.perf_counter() - t
    con.close()
    path.unlink()
    return rows / committed, rows / total


def _size(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=60_000, help="rows for the end-to-end writer runs")
    ap.add_argument("--batches", default="512,4096")
    ap.add_argument("--stored", default="0,100000,400000", help="store sizes for the dedup comparison")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--maint-stored", default="100000,1000000", help="store sizes for the maintenance cost")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--checkpoint-thresholds", default="16MB,256MB", help="DuckDB default vs the writer's")
    args = ap.parse_args()
    sizes = [int(s) for s in args.batches.split(",")]
    print(f"store bench: duckdb {duckdb.__version__}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        print("\n1. dedup strategy: rows/s for new batches (median of repeats) | one fully duplicate batch")
        for size in sizes:
            for stored in (int(s) for s in args.stored.split(",")):
                res = bench_dedup(Path(tmp), size, stored, args.repeats)
                base = res[STRATEGIES[0]][0]
                cells = "  ".join(f"{n}: {r:8,.0f} rows/s | {d * 1000:6,.0f} ms" for n, (r, d) in res.items())
                ratios = ", ".join(
                    f"x{base / r:.2f} vs {n.split(' + ')[-1]}" for n, (r, _) in list(res.items())[1:]
                )
                print(f"  batch {size:5d}, {stored:7,d} stored: {cells}\n      store strategy: {ratios}")
        print("\n2. one late span into a store of N spans: ack latency | its maintenance pass")
        for stored in (int(s) for s in args.maint_stored.split(",")):
            ack, maint = bench_maintenance(Path(tmp), stored)
            print(f"  {stored:9,d} stored: ack {ack * 1000:6,.0f} ms | maintenance {maint * 1000:6,.0f} ms")
        print(f"\n3. DuckStoreWriter end to end: {args.rows:,} realistic rows, {args.threads} callers")
        for size in sizes:
            batches = make_batches(args.rows, size)
            rate, catch_up, late, size_bytes = bench_writer(
                Path(tmp) / f"w{size}.duckdb", batches, args.threads
            )
            print(
                f"  batch {size}: {rate:9,.0f} rows/s acknowledged; maintenance caught up "
                f"{catch_up * 1000:.0f} ms after the last ack; one late span + its maintenance pass on the "
                f"full store: {late * 1000:.0f} ms (median of 5); {size_bytes / args.rows:,.0f} bytes/span"
            )
        print(f"\n4. checkpoint threshold: {args.rows:,} rows, group commits of 8 x 512")
        batches = make_batches(args.rows, 512)
        for threshold in args.checkpoint_thresholds.split(","):
            committed, total = bench_checkpoint(Path(tmp), batches, threshold)
            print(
                f"  {threshold:>6}: {committed:9,.0f} rows/s committed | "
                f"{total:9,.0f} rows/s incl. the final checkpoint"
            )


if __name__ == "__main__":
    main()
