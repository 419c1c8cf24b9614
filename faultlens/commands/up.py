"""``faultlens up``: collector, incremental analysis and dashboard together, in one command."""

from __future__ import annotations

import logging
import threading

import click

from collector.config import default_decode_workers
from dashboard.launcher import DashboardError, start_dashboard, wait_ready
from faultlens.commands.serve import announce, build_server, wait_for_signal
from faultlens.errors import CliError, cli_errors
from faultlens.options import analysis_options, db_memory_limit_option, db_option, receiver_options

log = logging.getLogger(__name__)


def _send_demo(endpoint: str, traces: int, rate: float | None) -> None:
    from sample_traces.demo import run_demo

    try:
        result = run_demo(endpoint, "grpc", traces, rate, None)
        acked, sent = result.spans_acked, result.spans_sent
        click.echo(f"demo: {acked} of {sent} spans ({result.traces} traces) acknowledged")
    except Exception as e:  # the demo is a convenience: the server keeps running without it
        click.echo(f"demo traffic failed: {e}", err=True)


@click.command("up")
@db_option
@receiver_options
@click.option("--dashboard-port", default=8501, show_default=True, type=int, help="Dashboard port.")
@click.option("--demo", is_flag=True, help="Also send sample multi-agent traffic (with known failures).")
@click.option("--demo-traces", default=120, show_default=True, type=int, help="Traces the demo sends.")
@click.option(
    "--quiet-seconds", default=2.0, show_default=True, type=float, help="Analyse a trace once idle this long."
)
@db_memory_limit_option
@analysis_options
def command(
    db: str,
    host: str,
    grpc_port: int,
    http_port: int,
    dashboard_port: int,
    demo: bool,
    demo_traces: int,
    quiet_seconds: float,
    db_memory_limit: str | None,
    semantic_grounding: bool | None,
) -> None:
    """Start the OTLP receivers, the incremental analysis and the dashboard (all on 127.0.0.1 by default).

    Point agents at OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 and open the dashboard URL printed.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with cli_errors():
        workers = default_decode_workers()
        server = build_server(
            db,
            host,
            grpc_port,
            http_port,
            None,
            None,
            None,
            True,
            quiet_seconds,
            workers,
            semantic_grounding=semantic_grounding,
            db_memory_limit=db_memory_limit,
        )
        server.start()
    dash = None
    try:
        announce(server, db)
        try:
            dash = start_dashboard(db, "127.0.0.1", dashboard_port)
            wait_ready(dashboard_port, 90, proc=dash)
        except DashboardError as e:
            raise CliError(str(e)) from e
        click.echo(f"dashboard http://127.0.0.1:{dashboard_port}")
        if demo and server.grpc_port is not None:
            endpoint = f"http://127.0.0.1:{server.grpc_port}"
            threading.Thread(target=_send_demo, args=(endpoint, demo_traces, None), daemon=True).start()
        wait_for_signal()
    finally:
        if dash is not None:
            dash.terminate()
            try:
                dash.wait(15)
            except Exception:
                dash.kill()
        server.stop()
