"""The discovery file ``<db path>.serve.json``: how offline readers find the serving process.

Written (mode 0600: it holds the bearer token) by ``QueryServer`` when it starts, removed when it
stops. A file left by a killed server is harmless: ``open_reader`` checks that the server answers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass(frozen=True)
class Endpoint:
    pid: int
    host: str
    port: int
    token: str
    db: str  # resolved path of the store the server owns


def discovery_path(db_path: str | os.PathLike[str]) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".serve.json")


def write_atomically(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` through a temporary file and a rename (readers never see half a
    file), readable by the owner only."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    return target


def write_endpoint(db_path: str | os.PathLike[str], endpoint: Endpoint) -> Path:
    """Atomically write the discovery file, readable by the owner only."""
    return write_atomically(discovery_path(db_path), orjson.dumps(endpoint.__dict__))


def read_endpoint(db_path: str | os.PathLike[str]) -> Endpoint | None:
    """The endpoint in the discovery file, or None when there is none or it is unreadable."""
    try:
        data = orjson.loads(discovery_path(db_path).read_bytes())
        return Endpoint(
            pid=int(data["pid"]),
            host=str(data["host"]),
            port=int(data["port"]),
            token=str(data["token"]),
            db=str(data["db"]),
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def remove_endpoint(db_path: str | os.PathLike[str], endpoint: Endpoint) -> None:
    """Remove the discovery file if it still describes ``endpoint`` (a newer server may own it)."""
    if read_endpoint(db_path) == endpoint:
        discovery_path(db_path).unlink(missing_ok=True)
