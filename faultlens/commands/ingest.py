"""``faultlens ingest FILE...``: load OTLP files into the store without a server."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from collector import decode
from collector.files import read_requests
from collector.service import CODECS
from faultlens.errors import CliError, EXIT_USAGE, cli_errors
from faultlens.options import db_option
from store.config import StoreConfig
from store.writer import DuckStoreWriter


def ingest_files(writer: DuckStoreWriter, paths: list[Path], progress: Progress | None = None) -> dict[str, int]:
    """Decode every request of every file and write it; return counts. A malformed file raises
    (naming the file); everything before it is already stored."""
    counts = {"files": 0, "requests": 0, "spans": 0, "logs": 0, "metric_points": 0, "rejected": 0}
    task = progress.add_task("ingest", total=len(paths)) if progress else None
    for path in paths:
        for req in read_requests(path):
            codec = CODECS[req.signal]
            decoded: decode.Decoded = codec.decode(codec.parse(req.body, req.fmt))
            if decoded.batch.item_count:
                writer.write(decoded.batch)
            counts["requests"] += 1
            counts["spans"] += decoded.batch.spans.num_rows
            counts["logs"] += decoded.batch.logs.num_rows
            counts["metric_points"] += decoded.batch.metrics.num_rows
            counts["rejected"] += decoded.rejected
        counts["files"] += 1
        if progress is not None and task is not None:
            progress.advance(task)
    return counts


@click.command("ingest")
@db_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def command(db: str, files: tuple[Path, ...]) -> None:
    """Load OTLP files (protobuf, OTLP/JSON, JSON Lines of requests; gzip allowed) into the store.

    The store file is created when missing. Run it while no `faultlens serve` holds the store
    (send to the server's OTLP endpoint instead).
    """
    paths: list[Path] = []
    for f in files:
        if f.is_dir():
            paths.extend(sorted(p for p in f.rglob("*") if p.is_file()))
        elif f.is_file():
            paths.append(f)
        else:
            raise CliError(f"no such file: {f}", EXIT_USAGE)
    with cli_errors():
        writer = DuckStoreWriter(Path(db), StoreConfig())
        try:
            with Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                transient=True,
            ) as progress:
                counts = ingest_files(writer, paths, progress)
        finally:
            writer.close()
    click.echo(
        f"ingested {counts['spans']} spans, {counts['logs']} log records, {counts['metric_points']} metric points "
        f"from {counts['files']} file(s) into {db}"
        + (f"; rejected {counts['rejected']}" if counts["rejected"] else "")
    )
