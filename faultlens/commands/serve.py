"""``faultlens serve``: the OTLP receivers, the store, its read path and the incremental analysis."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from collector.config import ReceiverConfig, default_decode_workers
from faultlens.app import AnalysisConfig, FaultlensServer, ServeConfig
from faultlens.errors import cli_errors
from faultlens.options import (
    analysis_options,
    build_options,
    db_memory_limit_option,
    db_option,
    receiver_options,
)
from store.config import StoreConfig


def build_server(
    db: str,
    host: str,
    grpc_port: int,
    http_port: int,
    token: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    analysis: bool,
    quiet_seconds: float,
    decode_workers: int = 0,
    db_threads: int | None = None,
    shared_memory: bool = True,
    semantic_grounding: bool | None = None,
    journal: bool = True,
    db_memory_limit: str | None = None,
) -> FaultlensServer:
    receivers = ReceiverConfig(
        host=host,
        grpc_port=grpc_port,
        http_port=http_port,
        token=token,
        tls_cert=Path(tls_cert) if tls_cert else None,
        tls_key=Path(tls_key) if tls_key else None,
        decode_workers=decode_workers,
        decode_shared_memory=shared_memory,
    )
    return FaultlensServer(
        ServeConfig(
            db=Path(db),
            receivers=receivers,
            store=StoreConfig(threads=db_threads, journal=journal, memory_limit=db_memory_limit),
            analysis=AnalysisConfig(
                enabled=analysis,
                quiet_seconds=quiet_seconds,
                options=build_options(semantic_grounding=semantic_grounding),
            ),
        )
    )


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()

    def _handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    while not stop.wait(3600):
        pass


def announce(server: FaultlensServer, db: str) -> None:
    host = server.config.receivers.host
    parts = [f"store={db}"]
    if server.grpc_port is not None:
        parts.append(f"grpc={host}:{server.grpc_port}")
    if server.http_port is not None:
        parts.append(f"http={host}:{server.http_port}")
    if server.query_server is not None:
        parts.append(f"query=127.0.0.1:{server.query_server.port}")
    click.echo("faultlens serving " + " ".join(parts), nl=True)


@click.command("serve")
@db_option
@receiver_options
@click.option(
    "--token", envvar="FAULTLENS_TOKEN", default=None, help="Require 'Authorization: Bearer TOKEN'."
)
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None, help="TLS certificate (PEM).")
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None, help="TLS private key (PEM).")
@click.option(
    "--analysis/--no-analysis", default=True, show_default=True, help="Analyse traces as they settle."
)
@click.option(
    "--quiet-seconds", default=5.0, show_default=True, type=float, help="Analyse a trace once idle this long."
)
@click.option(
    "--decode-workers",
    default=default_decode_workers(),
    show_default=True,
    type=int,
    help="Processes that decode requests beside the receivers (0: decode in the request's thread). "
    "The default leaves one core to the store writer.",
)
@click.option(
    "--db-threads",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="DuckDB worker threads for the store. One keeps ingest cheapest: a parallel INSERT of "
    "small batches costs more CPU than it saves (bench/ingest.py).",
)
@db_memory_limit_option
@click.option(
    "--decode-shared-memory/--decode-pipes",
    default=True,
    hidden=True,
    help="How requests reach the decode workers (for comparing them in bench/ingest.py).",
)
@click.option(
    "--journal/--no-journal",
    default=True,
    show_default=True,
    help="Acknowledge requests once they are in the ingest journal beside the store (fsync'd; "
    "applied to DuckDB in large groups, and before any read), instead of after their own DuckDB "
    "commit each. Both survive kill -9; with the journal the server spends about a third less CPU "
    "per span (bench/ingest.py).",
)
@analysis_options
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def command(
    db: str,
    host: str,
    grpc_port: int,
    http_port: int,
    token: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    analysis: bool,
    quiet_seconds: float,
    decode_workers: int,
    db_threads: int,
    decode_shared_memory: bool,
    journal: bool,
    db_memory_limit: str | None,
    semantic_grounding: bool | None,
    verbose: bool,
) -> None:
    """Receive OTLP traces, logs and metrics (gRPC and HTTP) into the DuckDB store.

    A success response is sent only once the data is durable (in the ingest journal, or committed
    to DuckDB with --no-journal). While serving, `faultlens sql`,
    `analyze`, `report` and the dashboard read the same store through a loopback read path.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    with cli_errors():
        server = build_server(
            db,
            host,
            grpc_port,
            http_port,
            token,
            tls_cert,
            tls_key,
            analysis,
            quiet_seconds,
            decode_workers,
            db_threads,
            decode_shared_memory,
            semantic_grounding,
            journal=journal,
            db_memory_limit=db_memory_limit,
        )
        server.start()
    try:
        announce(server, db)
        wait_for_signal()
    finally:
        server.stop()
