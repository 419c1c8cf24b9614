"""Parquet export: one file per table, through any ``StoreReader`` (local or remote: both
answer Arrow)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

from store import schema
from store.api import StoreReader


def export_parquet(reader: StoreReader, out_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Write ``<out_dir>/<table>.parquet`` for every table of ``store.schema.TABLES`` (zstd); return
    the row count per table. The files carry the tables' Arrow schemas exactly."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, table_schema, key in schema.TABLES:
        cols = ", ".join(table_schema.names)
        table = reader.query(f"SELECT {cols} FROM {name} ORDER BY {', '.join(key)}")
        table = table.cast(table_schema)
        tmp = out / f".{name}.parquet.tmp"
        pq.write_table(table, tmp, compression="zstd")
        tmp.replace(out / f"{name}.parquet")
        counts[name] = table.num_rows
    return counts
