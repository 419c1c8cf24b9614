"""``faultlens demo``: send labelled multi-agent sample traffic to an OTLP endpoint through the
real OpenTelemetry SDK exporters (see sample_traces/demo.py)."""

from __future__ import annotations

from typing import Literal, cast

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from faultlens.errors import EXIT_OPERATIONAL, CliError
from sample_traces.demo import DEFAULT_ENDPOINTS, DemoError, run_demo


@click.command("demo")
@click.option(
    "--endpoint",
    default=None,
    help="OTLP endpoint URL. [default: http://127.0.0.1:4317 for grpc, http://127.0.0.1:4318 for http]",
)
@click.option("--protocol", type=click.Choice(["grpc", "http"]), default="grpc", show_default=True)
@click.option("--traces", type=click.IntRange(min=1), default=60, show_default=True, help="Traces to send.")
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Traces per second (default: as fast as the endpoint takes them).",
)
@click.option("--token", envvar="FAULTLENS_TOKEN", default=None, help="Bearer token of the receiver, if any.")
def command(endpoint: str | None, protocol: str, traces: int, rate: float | None, token: str | None) -> None:
    """Send sample multi-agent traces (hallucinations, causal violations, timeout cascades, MAST
    modes and clean controls) with fresh ids and current timestamps; every run adds new traces."""
    proto = cast(Literal["grpc", "http"], protocol)
    url = endpoint or DEFAULT_ENDPOINTS[proto]
    progress = Progress(
        TextColumn("[bold]demo"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    )
    task = progress.add_task("demo", total=traces)
    try:
        with progress:
            result = run_demo(
                url,
                proto,
                traces,
                rate,
                lambda done, _total: progress.update(task, completed=done),
                token=token,
            )
    except DemoError as e:
        raise CliError(str(e), EXIT_OPERATIONAL) from e
    lost = result.spans_sent - result.spans_acked
    click.echo(
        f"sent {result.traces} traces ({result.spans_sent} spans) to {url} over {proto} "
        f"in {result.elapsed_s:.1f}s; "
        f"{result.spans_acked} spans acknowledged" + (f", {lost} not acknowledged" if lost else "")
    )
