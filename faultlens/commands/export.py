"""``faultlens export --parquet DIR``: one Parquet file per table."""

from __future__ import annotations

from pathlib import Path

import click

from faultlens.errors import cli_errors
from faultlens.options import db_option
from store.export import export_parquet
from store.reader import open_reader


@click.command("export")
@db_option
@click.option(
    "--parquet",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write <table>.parquet files into (created if missing).",
)
def command(db: str, out_dir: Path) -> None:
    """Export every table of the store to Parquet (works while `faultlens serve` runs)."""
    with cli_errors():
        reader = open_reader(db)
        try:
            written = export_parquet(reader, out_dir)
        finally:
            reader.close()
    for path in written:
        click.echo(str(path))
