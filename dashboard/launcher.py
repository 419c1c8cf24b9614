"""Start the dashboard as its own process (``faultlens up`` uses this; so do the browser tests).

``start_dashboard`` runs ``python -m streamlit run dashboard/app.py`` headless on ``host:port``,
with usage statistics off, no browser opening, no file watcher, and the store path passed after
``--`` as ``--db PATH`` (absolute; an argv element: no shell, no quoting issues) and as
``FAULTLENS_DB``.
``wait_ready`` polls Streamlit's health endpoint until it answers.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
_PROJECT_ROOT = APP_PATH.parent.parent


class DashboardError(RuntimeError):
    """The dashboard process did not start or did not become ready."""


def streamlit_command(db_path: str, host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The argv that serves the dashboard (exposed for logging and tests)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={int(port)}",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        f"--browser.serverAddress={host}",
        f"--browser.serverPort={int(port)}",
        "--global.developmentMode=false",
        "--client.toolbarMode=minimal",
        "--",
        "--db",
        str(db_path),
    ]


def start_dashboard(
    db_path: str,
    host: str = "127.0.0.1",
    port: int = 8501,
    *,
    env: Mapping[str, str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the dashboard for the store at ``db_path`` and return its process (not yet ready: call
    ``wait_ready``). Output goes to ``log_path`` when given, else it is discarded. The caller owns
    the process: ``proc.terminate(); proc.wait()`` stops it."""
    db = str(Path(db_path).resolve())  # the child may resolve relative paths elsewhere: pin it down
    child_env = dict(os.environ if env is None else env)
    child_env["FAULTLENS_DB"] = db
    child_env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    child_env["STREAMLIT_SERVER_HEADLESS"] = "true"
    # the app imports the project's packages: make them importable without an installed wheel
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_PROJECT_ROOT), child_env.get("PYTHONPATH")) if p
    )
    out = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(
            streamlit_command(db, host, port),
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    except OSError as e:
        raise DashboardError(f"cannot start the dashboard: {e}") from e
    finally:
        if log_path is not None and not isinstance(out, int):
            out.close()


def wait_ready(
    port: int, timeout: float = 30.0, host: str = "127.0.0.1", proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until the dashboard on ``host:port`` answers its health check; raise ``DashboardError``
    after ``timeout`` seconds or as soon as ``proc`` (if given) has exited."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise DashboardError(f"the dashboard exited with code {proc.returncode} before it was ready")
        conn = http.client.HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", "/_stcore/health")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200 and body.strip() == b"ok":
                return
            last = f"HTTP {resp.status}"
        except (OSError, http.client.HTTPException) as e:
            last = str(e)
        finally:
            conn.close()
        time.sleep(0.1)
    raise DashboardError(f"the dashboard on {host}:{port} was not ready after {timeout:.0f}s ({last})")
