"""Payloads between the server and its decode workers through files in shared memory (tmpfs).

Sending a request body to a worker and its decoded tables back through the process pool's pipes
copies each several times and costs the server's threads as much CPU as a quarter of the decoding
(``bench/ingest.py``). Instead, the sender writes the bytes once into a file of a private
directory on a RAM-backed file system, and the receiver memory-maps it and unlinks it at once:
Arrow reads the tables from the mapping without a copy, and the mapping goes away with the last
table that uses it. Nothing is written to disk.

Contract:
- ``HandoffDir.create()`` makes a directory only this user can read (mode 0700) under
  ``/dev/shm``, or returns None where there is none (another OS, a read-only or full tmpfs): callers
  then send bytes through the pool as before. ``close()`` removes it with anything left in it.
- ``write_file(directory, chunks)`` writes the chunks into a new file of ``directory`` and
  returns its path; ``OSError`` (a full tmpfs) is the caller's cue to fall back to bytes.
- ``take(path)`` maps the file, unlinks it, and returns the mapping's contents as one Arrow buffer;
  the memory stays valid for as long as any buffer or table made from it lives.
- A server killed with ``kill -9`` leaves its directory behind: the next ``create()`` removes the
  directories of servers that are no longer running.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

_ROOT = Path("/dev/shm")
_PREFIX = "faultlens-handoff-"
_counter = itertools.count()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class HandoffDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, root: Path = _ROOT) -> HandoffDir | None:
        """A fresh private directory under ``root`` (a tmpfs), or None when that is not possible."""
        if not root.is_dir() or not os.access(root, os.W_OK):
            return None
        _remove_stale(root)
        try:
            path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root))
        except OSError:
            return None
        return cls(path)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _remove_stale(root: Path) -> None:
    for entry in root.glob(f"{_PREFIX}*"):
        pid = entry.name[len(_PREFIX) :].split("-", 1)[0]
        try:
            mine = entry.is_dir() and entry.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def new_path(directory: str) -> str:
    """A file name in ``directory`` no other writer of this process or another one uses."""
    return os.path.join(directory, f"{os.getpid()}-{next(_counter)}")


def write_file(directory: str, chunks: Iterable[bytes | memoryview | pa.Buffer]) -> str:
    """Write ``chunks`` into a new file of ``directory``; return its path. Raises ``OSError``
    (after removing the partial file) when the file system refuses."""
    path = new_path(directory)
    try:
        with open(path, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
    except OSError:
        discard(path)
        raise
    return path


def take(path: str) -> pa.Buffer:
    """The contents of the file at ``path``, memory-mapped; the file is unlinked at once."""
    try:
        with pa.memory_map(path) as mapped:
            buffer = mapped.read_buffer()
    finally:
        discard(path)
    return buffer


def discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
