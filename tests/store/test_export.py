"""Parquet export through both reader kinds: one file per table, the tables' exact schemas."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from store import schema
from store.export import export_parquet
from tests.store.conftest import StoreUnderTest, decode_request, load_fixture


@pytest.mark.parametrize("kind", ["direct", "remote"])
def test_export_writes_every_table(tmp_path: Path, kind: str) -> None:
    sut = StoreUnderTest(kind, tmp_path / "s.duckdb")
    try:
        for name in ("multi_agent_genai", "logs_before_span", "metrics"):
            for request in load_fixture(name)["requests"]:
                sut.write(decode_request(request["signal"], request["body"]))
        counts = export_parquet(sut.settle(), tmp_path / "out")
    finally:
        sut.close()
    assert counts["spans"] == 8 and counts["logs"] == 1 and counts["metrics"] == 3 and counts["traces"] == 2
    for name, table_schema, _ in schema.TABLES:
        table = pq.read_table(tmp_path / "out" / f"{name}.parquet")
        assert table.schema.equals(table_schema), name
        assert table.num_rows == counts[name]
    spans = pq.read_table(tmp_path / "out" / "spans.parquet")
    assert set(spans.column("resolved_agent_name").to_pylist()) == {"orchestrator", "researcher", "math"}
