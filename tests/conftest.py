"""Fixtures shared by the suites: a real faultlens server (in-process or as a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXTERNAL = SHARED / "external"


def faultlens_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "faultlens", *args]


def run_cli(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        faultlens_cmd(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    db: Path
    grpc_port: int
    http_port: int

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


_ANNOUNCE = re.compile(r"grpc=[^:]+:(\d+) http=[^:]+:(\d+)")


def start_serve(db: Path, *extra: str, timeout: float = 60) -> ServeProcess:
    """Start `faultlens serve` on free ports and wait for its announcement line."""
    proc = subprocess.Popen(
        faultlens_cmd("serve", "--db", str(db), "--grpc-port", "0", "--http-port", "0", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"faultlens serve exited early ({proc.poll()}): {err}")
        m = _ANNOUNCE.search(line)
        if m:
            return ServeProcess(proc, db, int(m.group(1)), int(m.group(2)))
    proc.kill()
    raise RuntimeError("faultlens serve did not announce its ports in time")


def stop_serve(sp: ServeProcess) -> None:
    if sp.proc.poll() is None:
        sp.proc.terminate()
        try:
            sp.proc.wait(30)
        except subprocess.TimeoutExpired:
            sp.proc.kill()
            sp.proc.wait(10)


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[ServeProcess]:
    sp = start_serve(tmp_path / "store.duckdb", "--no-analysis")
    try:
        yield sp
    finally:
        stop_serve(sp)
