"""Acknowledged means durable: a process acknowledging writes is killed with SIGKILL at an
arbitrary moment; every span it acknowledged is in the file when it is reopened."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from store.database import ROW_GROUP_SIZE
from store.journal import holds_records
from store.reader import ConnectionReader, open_reader
from tests.store.store_proc import spawn


@pytest.mark.slow
@pytest.mark.parametrize(
    ("serve", "batch", "journal"),
    [(False, 200, False), (True, 200, False), (False, 3 * ROW_GROUP_SIZE // 2, False), (False, 200, True)],
    # Batches of a row group or more are written to the file before their commit, the WAL only
    # pointing to them; smaller ones are in the WAL. With the journal, most acknowledged batches
    # are only in the journal when the process dies. All must survive.
    ids=["writer", "writer+server", "writer, row-group batches", "writer, journal"],
)
def test_acknowledged_spans_survive_kill_9(tmp_path: Path, serve: bool, batch: int, journal: bool) -> None:
    db = tmp_path / "s.duckdb"
    proc = spawn(db, *(["--serve"] if serve else []), *(["--journal"] if journal else []))
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"loop {batch}\n")
    proc.stdin.flush()
    acked = 0
    while acked < 20 * batch:  # 20 acknowledged commits, then kill mid-stream
        line = proc.stdout.readline().strip()
        if line.startswith("acked "):
            acked = int(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    # Applies the journal, replays the WAL; a stale discovery file is ignored.
    reader = open_reader(db)
    try:
        assert isinstance(reader, ConnectionReader)
        stored = reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py()
        complete = (
            reader.query(
                "SELECT count(*) AS n FROM (SELECT trace_id FROM spans GROUP BY 1 "
                f"HAVING count(*) <> {batch})"
            )
            .column("n")[0]
            .as_py()
        )
    finally:
        reader.close()
    assert stored >= acked
    assert complete == 0  # batches are atomic: none is half stored
    if journal:
        assert not holds_records(db)  # applied by the read's open, segments deleted
