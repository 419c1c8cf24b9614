"""``faultlens sql``: read-only SQL over the store, whether or not ``faultlens serve`` holds it.

json and csv stream: each batch of the result is printed as it arrives (``StoreReader.query_batches``),
so memory stays bounded and rows show up before the query has finished. The table keeps the first
``TABLE_ROWS`` rows only and counts the rest.
"""

from __future__ import annotations

import os
import sys

import click
import pyarrow as pa

from faultlens.errors import cli_errors
from faultlens.options import db_option
from faultlens.output import print_table, write_csv, write_json
from store.api import RecordBatchStream
from store.reader import open_reader

#: Rows the terminal table shows at most; the result is still read to the end to count the others.
TABLE_ROWS = 1000


@click.command("sql")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help=(
        "json: one array of row objects; json and csv print rows as they arrive, whatever the result "
        f"size. table: the first {TABLE_ROWS} rows, then how many were not shown."
    ),
)
@click.argument("query")
def command(db: str, fmt: str, query: str) -> None:
    """Run one read-only SQL statement (SELECT, WITH, DESCRIBE, ...) against the store.

    Works while `faultlens serve` holds the store (through its loopback read path) and when nothing
    does (the file is opened read-only). Statements that would write are refused.

    With --format json or csv, rows are printed as the result streams in. If the statement fails
    partway through, the output stops there (the JSON array is left unclosed) and the command
    exits with the error; if the reader of the output goes away (`| head`), it stops quietly.
    """
    shown: pa.Table | None = None
    total = 0
    with cli_errors():
        reader = open_reader(db)
        try:
            with reader.query_batches(query) as stream:
                if fmt == "table":
                    shown, total = _head(stream, TABLE_ROWS)
                else:
                    try:
                        _write(fmt, stream)
                    except BrokenPipeError:
                        _discard_stdout()
                        return
        finally:
            reader.close()
    if shown is not None:
        print_table(shown, total_rows=total)


def _write(fmt: str, stream: RecordBatchStream) -> None:
    out = sys.stdout.buffer
    if fmt == "json":
        write_json(stream, out)
        out.write(b"\n")
    else:
        write_csv(stream.schema, stream, out)
    out.flush()


def _head(stream: RecordBatchStream, limit: int) -> tuple[pa.Table, int]:
    """The first ``limit`` rows of ``stream`` and its total row count (read to the end)."""
    kept: list[pa.RecordBatch] = []
    total = 0
    for batch in stream:
        if total < limit:
            kept.append(batch.slice(0, limit - total))
        total += batch.num_rows
    return pa.Table.from_batches(kept, schema=stream.schema), total


def _discard_stdout() -> None:
    # The pipe is closed: point stdout at /dev/null so the interpreter's final flush stays quiet.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
