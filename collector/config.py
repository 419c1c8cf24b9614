"""The receivers' configuration: one typed object with defaults and a ``validate()`` whose error
names the bad key."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


def default_decode_workers() -> int:
    """Decode worker processes for a server on this machine: one core fewer than it has (at least
    one). The store writer keeps a core busy applying batches to DuckDB; a decode worker more than
    the cores left only time-slices with it, and every process then runs slower (on 2 cores, one
    worker gave 10-20% more queryable spans/s than two in the same ``bench/ingest.py`` runs)."""
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class ReceiverConfig:
    host: str = "127.0.0.1"
    grpc_port: int = 4317  # 0 picks a free port; -1 disables the receiver
    http_port: int = 4318
    token: str | None = None  # when set, every request needs "Authorization: Bearer <token>"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # after decompression
    write_timeout_s: float = 30.0  # how long a request waits for its commit
    grpc_workers: int = 16
    decode_workers: int = 0  # processes that decode beside the receivers; 0 decodes in the request's thread
    decode_shared_memory: bool = True  # hand bodies and tables to/from them through tmpfs files
    max_http_inflight: int = 64  # concurrent OTLP/HTTP requests; beyond it: 503 + Retry-After, body unread

    def validate(self) -> ReceiverConfig:
        for key in ("grpc_port", "http_port"):
            port = getattr(self, key)
            if not -1 <= port <= 65535:
                raise ConfigError(f"{key}: {port} is not a port number (0 = any free port, -1 = off)")
        if self.grpc_port == -1 and self.http_port == -1:
            raise ConfigError("grpc_port/http_port: at least one receiver must be enabled")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("tls_cert/tls_key: give both or neither")
        for key in ("tls_cert", "tls_key"):
            path = getattr(self, key)
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"{key}: no such file: {path}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes: {self.max_body_bytes} is too small (minimum 1024)")
        if self.token is not None and not self.token.strip():
            raise ConfigError("token: must not be empty")
        if self.write_timeout_s <= 0:
            raise ConfigError("write_timeout_s: must be positive")
        if self.decode_workers < 0:
            raise ConfigError("decode_workers: must be 0 (in-thread) or more")
        if self.max_http_inflight < 1:
            raise ConfigError("max_http_inflight: must be at least 1")
        if self.grpc_workers < 1:
            raise ConfigError("grpc_workers: must be at least 1")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None
