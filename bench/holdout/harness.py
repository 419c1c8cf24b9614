"""Driving the real product: ``faultlens serve`` in a child process, ``faultlens report`` beside it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_READY = re.compile(r"faultlens serving .*grpc=(\S+) http=(\S+)")


class Server:
    """``python -m faultlens serve`` on ephemeral loopback ports, stopped with SIGTERM."""

    def __init__(self, root: Path, db: Path) -> None:
        self.root = root
        self.db = db
        self.proc: subprocess.Popen[str] | None = None
        self.grpc = ""
        self.http = ""

    def __enter__(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(self.root)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faultlens",
                "serve",
                "--db",
                str(self.db),
                "--grpc-port",
                "0",
                "--http-port",
                "0",
            ],
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"faultlens serve exited early: {err.strip()[-500:]}")
            m = _READY.search(line)
            if m:
                self.grpc, self.http = m.group(1), m.group(2)
                return self
        raise RuntimeError("faultlens serve did not announce its ports within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def report(root: Path, db: Path) -> dict[str, Any]:
    """``faultlens report --db DB --format json``, parsed (run while the server holds the store)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "faultlens", "report", "--db", str(db), "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"faultlens report failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed
