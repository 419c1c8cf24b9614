"""The launcher's contract: a headless Streamlit command with the store path as one argument, and
``wait_ready`` that fails fast and clearly. (Starting it for real: see test_browser.py.)"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.launcher import APP_PATH, DashboardError, start_dashboard, streamlit_command, wait_ready
from dashboard.settings import DashboardSettings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_command_is_headless_private_and_passes_the_db_after_double_dash() -> None:
    db = "/tmp/my traces; rm -rf ~ $(x)/it's.duckdb"
    cmd = streamlit_command(db, host="127.0.0.1", port=8600)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    for flag in (
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.port=8600",
        "--server.address=127.0.0.1",
    ):
        assert flag in cmd
    assert cmd[cmd.index("--") + 1 :] == ["--db", db]
    # and the app reads it back unchanged
    assert DashboardSettings.from_argv_env(cmd[cmd.index("--") + 1 :], environ={}).db_path == db


def test_settings_fall_back_to_env_then_default() -> None:
    assert DashboardSettings.from_argv_env([], {"FAULTLENS_DB": "/x.duckdb"}).db_path == "/x.duckdb"
    assert DashboardSettings.from_argv_env([], {}).db_path == "./faultlens.duckdb"
    assert DashboardSettings.from_argv_env([], {"FAULTLENS_PRICING": "p.toml"}).pricing_path == "p.toml"


def test_wait_ready_fails_fast_when_the_process_exits() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    with pytest.raises(DashboardError, match="exited with code 3"):
        wait_ready(_free_port(), timeout=30, proc=proc)


def test_wait_ready_times_out_with_the_reason() -> None:
    with pytest.raises(DashboardError, match=r"was not ready after 0s \(.*refused"):
        wait_ready(_free_port(), timeout=0.3)


def test_relative_db_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    proc = start_dashboard("rel.duckdb", port=_free_port(), env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""})
    try:
        cmd = proc.args
        assert isinstance(cmd, list) and cmd[-2:] == ["--db", str(tmp_path / "rel.duckdb")]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
