"""Store test harness: the store implementations the conformance suite runs against, and helpers
to turn OTLP/JSON fixture requests into ``IngestBatch``es through the real decoder."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from collector.decode import (
    decode_logs,
    decode_metrics,
    decode_traces,
    parse_logs,
    parse_metrics,
    parse_traces,
)
from store import ingest, schema
from store.api import IngestBatch, StoreReader, WriteResult
from store.config import StoreConfig
from store.query_server import QueryServer
from store.reader import ConnectionReader, RemoteReader, open_reader
from store.writer import DuckStoreWriter

FIXTURES = Path(__file__).parent / "fixtures"


def decode_request(signal: str, body: dict[str, Any]) -> IngestBatch:
    """One OTLP/JSON request of ``signal`` through the collector's decoder."""
    raw = json.dumps(body).encode()
    if signal == "traces":
        return decode_traces(parse_traces(raw, "json")).batch
    if signal == "logs":
        return decode_logs(parse_logs(raw, "json")).batch
    if signal == "metrics":
        return decode_metrics(parse_metrics(raw, "json")).batch
    raise ValueError(f"unknown signal {signal}")


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def disk_full_for_batches_of(spans: int) -> Callable[..., Any]:
    """A stand-in for ``store.ingest.insert_group`` (to monkeypatch) that fails like a full disk
    for any group holding a batch of ``spans`` spans, and inserts the others."""
    real = ingest.insert_group

    def insert_group(con: object, batches: list[IngestBatch], *a: object, **k: object) -> object:
        if any(b.spans.num_rows == spans for b in batches):
            raise duckdb.IOException("could not write: no space left on device (simulated)")
        return real(con, batches, *a, **k)  # type: ignore[arg-type]

    return insert_group


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def span_rows(
    n: int, trace: str = "ab" * 16, parents: list[str | None] | None = None, **cols: Any
) -> pa.Table:
    """``n`` spans of one trace with ids 1..n (16-hex) and chained parents unless ``parents``."""
    ids = [f"{i + 1:016x}" for i in range(n)]
    data: dict[str, Any] = {
        "trace_id": [trace] * n,
        "span_id": ids,
        "parent_span_id": parents if parents is not None else [None, *ids[:-1]],
        "name": [f"span {i}" for i in range(n)],
        "start_ns": list(range(n)),
        "end_ns": [i + 10 for i in range(n)],
    }
    data.update(cols)
    return pa.table({k: pa.array(v, schema.SPANS.field(k).type) for k, v in data.items()})


class StoreUnderTest:
    """One store implementation: write through ``write``, then ``settle`` and read with ``reader``.

    kinds: ``direct`` (the writer's own reader), ``remote`` (QueryServer + ``open_reader`` over
    HTTP while the writer holds the file), ``reopened`` (writer closed, ``open_reader`` opens the
    file read-only), ``journal`` and ``journal-remote`` (``direct`` and ``remote`` with the
    writer's ingest journal, applying only when a read or ``write`` asks for it)."""

    def __init__(self, kind: str, path: Path, config: StoreConfig | None = None) -> None:
        self.kind = kind
        self.path = path
        if kind.startswith("journal") and config is None:
            config = StoreConfig(journal=True, apply_min_items=10**9, apply_max_delay_s=1.0)
        self.writer = DuckStoreWriter(path, config)
        self.server = QueryServer(self.writer) if kind.endswith("remote") else None
        self._reader: StoreReader | None = None

    def write(self, batch: IngestBatch) -> WriteResult:
        return self.writer.write(batch)

    def settle(self) -> StoreReader:
        """Wait for maintenance and return the reader of this implementation."""
        if self._reader is not None:
            if self.kind != "reopened":
                self.writer.sync()
            return self._reader
        if self.kind == "reopened":
            self.writer.close()
            reader: StoreReader = open_reader(self.path)
            assert isinstance(reader, ConnectionReader)
        else:
            self.writer.sync()
            reader = self.writer.reader() if self.kind in ("direct", "journal") else open_reader(self.path)
            if self.kind.endswith("remote"):
                assert isinstance(reader, RemoteReader)
        self._reader = reader
        return reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self.server is not None:
            self.server.close()
        self.writer.close()


STORE_KINDS = ("direct", "remote", "reopened", "journal", "journal-remote")


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    sut = StoreUnderTest(request.param, tmp_path / "faultlens.duckdb")
    yield sut
    sut.close()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[DuckStoreWriter]:
    w = DuckStoreWriter(tmp_path / "faultlens.duckdb")
    yield w
    w.close()
