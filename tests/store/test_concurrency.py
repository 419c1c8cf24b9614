"""Reads while writing: reader threads (local and remote) run queries while writer threads commit;
every query sees at least everything acknowledged before it started, and never a partial batch."""

from __future__ import annotations

import threading
from pathlib import Path

from store.api import IngestBatch, StoreReader
from store.query_server import QueryServer
from store.reader import RemoteReader, open_reader
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows

BATCH = 50
WRITES = 20


def test_concurrent_reads_see_every_acknowledged_batch(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    writer = DuckStoreWriter(db)
    server = QueryServer(writer)
    remote = open_reader(db)
    assert isinstance(remote, RemoteReader)
    readers: list[StoreReader] = [writer.reader(), remote]
    acked = 0
    acked_lock = threading.Lock()
    done = threading.Event()
    failures: list[str] = []

    def write(worker: int) -> None:
        nonlocal acked
        for i in range(WRITES):
            writer.write(IngestBatch(spans=span_rows(BATCH, trace=f"{worker:02x}{i:030x}")))
            with acked_lock:
                acked += BATCH

    def read(reader: StoreReader) -> None:
        queries = 0
        while not done.is_set() or queries < 5:
            with acked_lock:
                floor = acked
            row = reader.query("SELECT count(*) AS n, count(DISTINCT trace_id) AS t FROM spans").to_pylist()[
                0
            ]
            if row["n"] < floor:
                failures.append(f"saw {row['n']} spans after {floor} were acknowledged")
            if row["n"] != row["t"] * BATCH:
                failures.append(f"partial batch visible: {row}")
            queries += 1

    writers = [threading.Thread(target=write, args=(w,)) for w in range(2)]
    reader_threads = [threading.Thread(target=read, args=(r,)) for r in readers for _ in range(2)]
    for t in writers + reader_threads:
        t.start()
    for t in writers:
        t.join(120)
    done.set()
    for t in reader_threads:
        t.join(120)
    try:
        assert failures == []
        assert remote.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == 2 * WRITES * BATCH
    finally:
        remote.close()
        server.close()
        writer.close()
