"""A store-holding process for cross-process tests:
``python -m tests.store.store_proc DB [--serve] [--journal]``.

Prints ``ready`` once the store is open (and ``serving PORT`` with ``--serve``), then follows
commands on stdin, one per line: ``write N`` writes a batch of N new spans and prints ``acked T``
(T = spans acknowledged so far) after ``write`` returns; ``loop N`` does that forever with batches
of N (for kill -9 tests); EOF closes the store and exits. With ``--journal`` the store
acknowledges through its ingest journal (``append``) and applies to DuckDB only when a read, or a
second, asks for it: what a kill -9 leaves is mostly journaled, not applied.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from store.api import IngestBatch
from store.config import StoreConfig
from store.query_server import QueryServer
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows

ROOT = Path(__file__).resolve().parents[2]


def spawn(db: Path, *flags: str) -> subprocess.Popen[str]:
    """Start this process on ``db`` with ``flags`` and wait for its ``ready``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.store_proc", str(db), *flags],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def main() -> None:
    db, serve, journal = sys.argv[1], "--serve" in sys.argv, "--journal" in sys.argv
    config = StoreConfig(journal=True, apply_min_items=10**9, apply_max_delay_s=1.0) if journal else None
    writer = DuckStoreWriter(db, config)
    server = QueryServer(writer) if serve else None
    print("ready", flush=True)
    if server is not None:
        print(f"serving {server.port}", flush=True)
    acked = 0
    batch_no = 0

    def write(n: int) -> None:
        nonlocal acked, batch_no
        batch_no += 1
        trace = f"{batch_no:032x}"
        batch = IngestBatch(spans=span_rows(n, trace=trace))
        if journal:
            writer.append(batch)
        else:
            writer.write(batch)
        acked += n
        print(f"acked {acked}", flush=True)

    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "write":
            write(int(arg))
        elif cmd == "loop":
            while True:
                write(int(arg))
    if server is not None:
        server.close()
    writer.close()


if __name__ == "__main__":
    main()
