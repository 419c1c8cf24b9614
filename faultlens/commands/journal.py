"""``faultlens journal``: the acknowledged batches the store could not apply and kept aside.

A batch that ``serve`` acknowledged (it is in the ingest journal) but that DuckDB then refused -
a full disk, a fault - is not dropped: it is kept under ``<db>.journal/failed/`` with the reason,
and every writable open of the store tries it again. This command lists them (it reads files only,
so it works while ``serve`` runs) and, with ``--retry``, opens the store to try them now.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click
import pyarrow as pa

from faultlens.errors import CliError, cli_errors
from faultlens.options import db_option
from faultlens.output import to_json
from store.errors import StoreLocked, StoreNotFound
from store.journal import KeptAside, journal_dir, kept_aside
from store.writer import DuckStoreWriter


@click.command("journal")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one array of objects, one per batch kept aside.",
)
@click.option(
    "--retry",
    is_flag=True,
    help=(
        "Open the store and try the kept batches again now (a running `faultlens serve` does so "
        "when it starts; stop it first). Lists what is still kept afterwards."
    ),
)
def command(db: str, fmt: str, retry: bool) -> None:
    """List the acknowledged batches that could not be applied to the store and were kept aside.

    Exits 0 whether or not any are kept; the list (or `[]`) says which.
    """
    path = Path(db)
    with cli_errors():
        if not path.exists() and not journal_dir(path).exists():
            raise StoreNotFound(f"no store at {path}")
        before = kept_aside(path)
        if retry and before:
            try:
                DuckStoreWriter(path).close()  # the open tries every kept batch once
            except StoreLocked as e:
                raise CliError(
                    f"{e}. A running `faultlens serve` tries the kept batches again when it starts: "
                    "stop it, then run `faultlens journal --retry`"
                ) from e
        kept = kept_aside(path) if retry else before
    if retry and before:
        applied = len(before) - len(kept)
        click.echo(f"applied {applied} of {len(before)} kept batches", err=True)
    if fmt == "json":
        sys.stdout.buffer.write(to_json(_table(kept)) + b"\n")
        return
    if not kept:
        click.echo(f"no batches kept aside for {path}")
        return
    for row in map(_row, kept):
        counts = ", ".join(
            f"{'?' if row[key] is None else row[key]} {label}"
            for key, label in (("spans", "spans"), ("logs", "logs"), ("metric_points", "metric points"))
        )
        click.echo(f"batch {row['seq']}  kept {row['kept_at']}  {counts}  {row['bytes']:,} bytes")
        click.echo(f"  reason: {row['reason'] or '(none recorded)'}")
        click.echo(f"  file:   {row['file']}")
    click.echo(f"{len(kept)} batch{'es' if len(kept) != 1 else ''} kept aside")


def _row(k: KeptAside) -> dict[str, Any]:
    return {
        "seq": k.seq,
        "kept_at": dt.datetime.fromtimestamp(k.kept_at_ns / 1e9, dt.UTC).isoformat(timespec="seconds"),
        "spans": k.spans,
        "logs": k.logs,
        "metric_points": k.metric_points,
        "bytes": k.bytes,
        "reason": k.problem or k.reason,
        "file": str(k.path),
    }


def _table(kept: list[KeptAside]) -> pa.Table:
    schema = pa.schema(
        [
            ("seq", pa.int64()),
            ("kept_at", pa.string()),
            ("spans", pa.int64()),
            ("logs", pa.int64()),
            ("metric_points", pa.int64()),
            ("bytes", pa.int64()),
            ("reason", pa.string()),
            ("file", pa.string()),
        ]
    )
    return pa.Table.from_pylist([_row(k) for k in kept], schema=schema)
