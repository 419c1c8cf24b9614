"""`faultlens journal`: the acknowledged batches kept aside because the store refused them are
listed (also while `serve` holds the store) and, with `--retry`, applied once they can be."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from store import ingest as ingest_mod
from store.api import IngestBatch
from store.config import StoreConfig
from store.ingest import conform_batch
from store.writer import DuckStoreWriter
from tests.conftest import run_cli, start_serve, stop_serve
from tests.store.conftest import disk_full_for_batches_of, span_rows
from tests.test_cli_serve import sql_json

LAZY = StoreConfig(journal=True, apply_min_items=1_000_000, apply_max_delay_s=1.0)


def _batch(n: int, trace: int) -> IngestBatch:
    return conform_batch(IngestBatch(spans=span_rows(n, trace=f"{trace:032x}")))


def _store_with_a_kept_batch(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store holding 4 spans, and a 3-span batch that was acknowledged but kept aside: the disk
    was full (simulated) when the writer applied it."""
    with monkeypatch.context() as m:
        m.setattr(ingest_mod, "insert_group", disk_full_for_batches_of(3))
        with DuckStoreWriter(db, LAZY) as writer:
            writer.append(_batch(3, 1))
            writer.append(_batch(4, 2))


def _journal(db: Path, *args: str) -> list[dict[str, object]]:
    res = run_cli("journal", "--db", str(db), "--format", "json", *args)
    assert res.returncode == 0, res.stderr
    rows: list[dict[str, object]] = json.loads(res.stdout)
    return rows


def test_kept_batches_are_listed_then_applied_by_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    _store_with_a_kept_batch(db, monkeypatch)
    (kept,) = _journal(db)
    assert kept["spans"] == 3 and kept["logs"] == 0 and kept["metric_points"] == 0
    assert "no space left on device" in str(kept["reason"])
    assert Path(str(kept["file"])).exists() and int(str(kept["bytes"])) > 0
    assert isinstance(kept["seq"], int) and kept["seq"] >= 1
    table = run_cli("journal", "--db", str(db))
    assert table.returncode == 0, table.stderr
    assert "3 spans, 0 logs, 0 metric points" in table.stdout and "no space left" in table.stdout
    assert str(kept["file"]) in table.stdout and "1 batch kept aside" in table.stdout

    assert _journal(db, "--retry") == []  # the disk has room again: applied
    assert sql_json(db, "select count(*) as n from spans") == [{"n": 7}]
    assert sql_json(db, "select count(*) as n from traces") == [{"n": 2}]  # maintained too
    assert "no batches kept aside" in run_cli("journal", "--db", str(db)).stdout


def test_a_batch_still_refused_stays_kept_with_the_new_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    _store_with_a_kept_batch(db, monkeypatch)
    reason = next((db.parent / "s.duckdb.journal" / "failed").glob("*.reason"))
    reason.write_text("an old reason\n")
    # The retry runs in this process so that the disk can still be full for it.
    monkeypatch.setattr(
        ingest_mod,
        "insert_group",
        lambda *a, **k: (_ for _ in ()).throw(duckdb.IOException("still no space left (simulated)")),
    )
    DuckStoreWriter(db).close()  # any writable open tries it again, without the journal too
    (kept,) = _journal(db)
    assert "still no space left" in str(kept["reason"])


def test_listing_works_while_serve_holds_the_store_and_retry_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    _store_with_a_kept_batch(db, monkeypatch)
    sp = start_serve(db, "--no-analysis")
    try:
        # serve's own open already tried it, and the disk has room: nothing is kept any more.
        assert _journal(db) == []
        assert sql_json(db, "select count(*) as n from spans") == [{"n": 7}]
        (db.parent / "s.duckdb.journal" / "failed").mkdir(exist_ok=True)
        (db.parent / "s.duckdb.journal" / "failed" / f"{99:020d}.seg").write_bytes(b"FLJ1 torn")
        (kept,) = _journal(db)  # read from the files, while serve holds the database
        assert kept["seq"] == 99 and kept["spans"] is None and "cannot be read back" in str(kept["reason"])
        res = run_cli("journal", "--db", str(db), "--retry")
        assert res.returncode == 3
        assert "locked" in res.stderr and "stop it" in res.stderr
    finally:
        stop_serve(sp)


def test_no_store_is_a_clear_error(tmp_path: Path) -> None:
    res = run_cli("journal", "--db", str(tmp_path / "missing.duckdb"))
    assert res.returncode == 2
    assert "no store at" in res.stderr
