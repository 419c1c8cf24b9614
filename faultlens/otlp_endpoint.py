"""``<db>.otlp.json``: where the server holding a store receives OTLP, so that ``faultlens ingest``
can send files to it instead of failing on the file lock. Holds no secret (the token, if any, is the
user's own), written atomically, removed on stop; a stale file is harmless (the send fails fast)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from store.discovery import write_atomically


@dataclass(frozen=True)
class OtlpEndpoint:
    pid: int
    http_url: str | None  # e.g. "http://127.0.0.1:4318"
    grpc_target: str | None  # e.g. "127.0.0.1:4317"
    tls: bool


def _path(db: str | os.PathLike[str]) -> Path:
    p = Path(db)
    return p.with_name(p.name + ".otlp.json")


def publish(db: str | os.PathLike[str], endpoint: OtlpEndpoint) -> None:
    write_atomically(_path(db), orjson.dumps(asdict(endpoint)))


def lookup(db: str | os.PathLike[str]) -> OtlpEndpoint | None:
    try:
        data = orjson.loads(_path(db).read_bytes())
        return OtlpEndpoint(
            int(data["pid"]), data.get("http_url"), data.get("grpc_target"), bool(data.get("tls"))
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def withdraw(db: str | os.PathLike[str]) -> None:
    found = lookup(db)
    if found is not None and found.pid == os.getpid():
        _path(db).unlink(missing_ok=True)
