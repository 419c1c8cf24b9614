"""Shared-memory hand-off files between the server and its decode workers (collector.handoff)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from collector import handoff
from collector.handoff import HandoffDir


def test_directory_is_private_and_removed_on_close(tmp_path: Path) -> None:
    d = HandoffDir.create(tmp_path)
    assert d is not None
    assert stat.S_IMODE(d.path.stat().st_mode) == 0o700
    handoff.write_file(str(d.path), [b"left over"])
    d.close()
    assert not d.path.exists()


def test_no_directory_where_the_root_is_missing(tmp_path: Path) -> None:
    assert HandoffDir.create(tmp_path / "absent") is None


def test_take_maps_unlinks_and_outlives_the_file(tmp_path: Path) -> None:
    d = HandoffDir.create(tmp_path)
    assert d is not None
    table = pa.table({"n": list(range(1000)), "s": ["x" * 50] * 1000})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    path = handoff.write_file(str(d.path), [b"", sink.getvalue()])
    buffer = handoff.take(path)
    assert not os.path.exists(path)
    read = pa.ipc.open_stream(buffer).read_all()
    del buffer
    d.close()
    assert read.equals(table)


def test_directories_of_dead_servers_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f"faultlens-handoff-{dead_pid}-abc"
    stale.mkdir()
    (stale / "1-0").write_bytes(b"x")
    live = tmp_path / f"faultlens-handoff-{os.getpid()}-def"
    live.mkdir()
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    d = HandoffDir.create(tmp_path)
    assert d is not None
    assert not stale.exists()
    assert live.exists() and unrelated.exists()
    d.close()
