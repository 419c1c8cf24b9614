"""``faultlens ingest FILE...``: load OTLP files into the store — directly when no server holds it,
through the server's OTLP/HTTP receiver when ``faultlens serve`` does."""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from collector.decode import parse_and_decode
from collector.errors import MalformedPayload
from collector.files import FileRequest, read_requests
from faultlens import otlp_endpoint
from faultlens.errors import EXIT_USAGE, CliError, cli_errors
from faultlens.options import db_option
from store.api import IngestBatch
from store.config import StoreConfig
from store.errors import StoreLocked
from store.writer import DuckStoreWriter

Sink = Callable[[FileRequest, IngestBatch], None]


def ingest_files(sink: Sink, paths: list[Path], progress: Progress | None = None) -> dict[str, int]:
    """Decode every request of every file and hand it to ``sink``; return counts. A malformed file
    raises (naming the file and line); everything before it is already stored."""
    counts = {"files": 0, "requests": 0, "spans": 0, "logs": 0, "metric_points": 0, "rejected": 0}
    task = progress.add_task("ingest", total=len(paths)) if progress else None
    for path in paths:
        for req in read_requests(path):
            try:
                decoded = parse_and_decode(req.signal, req.body, req.fmt)
            except MalformedPayload as e:
                raise MalformedPayload(f"{req.where}: {e}") from e
            sink(req, decoded.batch)
            counts["requests"] += 1
            counts["spans"] += decoded.batch.spans.num_rows
            counts["logs"] += decoded.batch.logs.num_rows
            counts["metric_points"] += decoded.batch.metrics.num_rows
            counts["rejected"] += decoded.rejected
        counts["files"] += 1
        if progress is not None and task is not None:
            progress.advance(task)
    return counts


def _writer_sink(writer: DuckStoreWriter) -> Sink:
    def sink(req: FileRequest, batch: IngestBatch) -> None:
        if batch.item_count:
            writer.write(batch)

    return sink


def _http_sink(base_url: str, token: str | None) -> Sink:
    """Send each request, as read, to the serving process's OTLP/HTTP receiver."""
    ctx = ssl.create_default_context() if base_url.startswith("https") else None

    def sink(req: FileRequest, batch: IngestBatch) -> None:
        headers = {"Content-Type": "application/json" if req.fmt == "json" else "application/x-protobuf"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for _attempt in range(30):
            request = urllib.request.Request(f"{base_url}/v1/{req.signal}", data=req.body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=60, context=ctx) as resp:
                    resp.read()
                    return
            except urllib.error.HTTPError as e:
                if e.code in (429, 503):
                    time.sleep(float(e.headers.get("Retry-After") or 1))
                    continue
                raise CliError(f"{req.where}: the server refused it: HTTP {e.code} {e.read()[:200]!r}") from e
            except urllib.error.URLError as e:
                raise CliError(f"cannot reach the server holding the store at {base_url}: {e.reason}") from e
        raise CliError(f"{req.where}: the server stayed busy; try again later")

    return sink


def _expand(files: tuple[Path, ...]) -> list[Path]:
    paths: list[Path] = []
    for f in files:
        if f.is_dir():
            paths.extend(sorted(p for p in f.rglob("*") if p.is_file()))
        elif f.is_file():
            paths.append(f)
        else:
            raise CliError(f"no such file: {f}", EXIT_USAGE)
    return paths


@click.command("ingest")
@db_option
@click.option(
    "--token", envvar="FAULTLENS_TOKEN", default=None, help="Bearer token of the serving process, if any."
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def command(db: str, token: str | None, files: tuple[Path, ...]) -> None:
    """Load OTLP files (protobuf, OTLP/JSON, JSON Lines of requests; gzip allowed; folders are walked).

    The store is created when missing. While `faultlens serve` holds the store, the files are sent to
    its OTLP/HTTP receiver instead.
    """
    paths = _expand(files)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
    with cli_errors():
        writer: DuckStoreWriter | None = None
        try:
            writer = DuckStoreWriter(Path(db), StoreConfig())
            sink, via = _writer_sink(writer), ""
        except StoreLocked:
            endpoint = otlp_endpoint.lookup(db)
            if endpoint is None or endpoint.http_url is None:
                raise
            sink, via = _http_sink(endpoint.http_url, token), f" via {endpoint.http_url}"
        try:
            with progress:
                counts = ingest_files(sink, paths, progress)
        finally:
            if writer is not None:
                writer.close()
    click.echo(
        f"ingested {counts['spans']} spans, {counts['logs']} log records, "
        f"{counts['metric_points']} metric points "
        f"from {counts['files']} file(s) into {db}{via}"
        + (f"; rejected {counts['rejected']}" if counts["rejected"] else "")
    )
