"""``faultlens sql``: read-only SQL over the store, whether or not ``faultlens serve`` holds it."""

from __future__ import annotations

import sys

import click

from faultlens.errors import cli_errors
from faultlens.options import db_option
from faultlens.output import print_table, to_csv, to_json
from store.reader import open_reader


@click.command("sql")
@db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="json: an array of row objects.",
)
@click.argument("query")
def command(db: str, fmt: str, query: str) -> None:
    """Run one read-only SQL statement (SELECT, WITH, DESCRIBE, ...) against the store.

    Works while `faultlens serve` holds the store (through its loopback read path) and when nothing
    does (the file is opened read-only). Statements that would write are refused.
    """
    with cli_errors():
        reader = open_reader(db)
        try:
            result = reader.query(query)
        finally:
            reader.close()
    if fmt == "json":
        sys.stdout.buffer.write(to_json(result) + b"\n")
    elif fmt == "csv":
        sys.stdout.buffer.write(to_csv(result))
    else:
        print_table(result)
