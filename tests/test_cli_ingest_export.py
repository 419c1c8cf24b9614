"""`faultlens ingest` (every file form, with and without a server) and `faultlens export --parquet`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.collector.test_receiver_errors import make_request
from tests.conftest import ROOT, run_cli, start_serve, stop_serve
from tests.test_cli_serve import sql_json

EXAMPLES = (
    ROOT / "tests" / "collector" / "fixtures" / "otlp_proto_examples"
)  # unchanged copies, see its README


def test_ingest_every_file_form(tmp_path: Path) -> None:
    db = tmp_path / "i.duckdb"
    (tmp_path / "req.pb").write_bytes(make_request(4, trace_byte=1).SerializeToString())
    (tmp_path / "req.pb.gz").write_bytes(gzip.compress(make_request(3, trace_byte=2).SerializeToString()))
    from google.protobuf import json_format

    def otlp_json(trace_byte: int, n: int) -> dict[str, object]:
        doc = json_format.MessageToDict(make_request(n, trace_byte=trace_byte))
        for rs in doc["resourceSpans"]:  # OTLP/JSON ids are hex, not base64
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    sp["traceId"] = format(trace_byte, "02x") * 16
                    sp["spanId"] = bytes.fromhex(format(int(sp["name"].split("-")[1]) + 1, "016x")).hex()
        return doc

    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(otlp_json(b, 2)) for b in (3, 4)) + "\n")
    res = run_cli(
        "ingest",
        "--db",
        str(db),
        str(tmp_path / "req.pb"),
        str(tmp_path / "req.pb.gz"),
        str(tmp_path / "lines.jsonl"),
        str(EXAMPLES / "trace.json"),
        str(EXAMPLES / "logs.json"),
    )
    assert res.returncode == 0, res.stderr
    assert "ingested" in res.stdout
    example_spans = sum(
        len(ss["spans"])
        for rs in json.loads((EXAMPLES / "trace.json").read_text())["resourceSpans"]
        for ss in rs["scopeSpans"]
    )
    assert sql_json(db, "select count(*) as n from spans") == [{"n": 4 + 3 + 2 + 2 + example_spans}]
    assert sql_json(db, "select count(*) > 0 as ok from logs") == [{"ok": True}]
    # idempotent: ingesting the same files again adds nothing
    res = run_cli("ingest", "--db", str(db), str(tmp_path / "req.pb"))
    assert res.returncode == 0
    assert sql_json(db, "select count(*) as n from spans") == [{"n": 4 + 3 + 2 + 2 + example_spans}]


def test_ingest_bad_file_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 12}]}]}]}')
    (tmp_path / "junk.jsonl").write_text('{"resourceSpans": []}\nnot json\n')
    for name in ("bad.json", "junk.jsonl"):
        res = run_cli("ingest", "--db", str(tmp_path / "b.duckdb"), str(tmp_path / name))
        assert res.returncode == 2, res.stderr
        assert name in res.stderr and "Traceback" not in res.stderr
    res = run_cli("ingest", "--db", str(tmp_path / "b.duckdb"), str(tmp_path / "missing.json"))
    assert res.returncode == 2 and "missing.json" in res.stderr


def test_ingest_while_serving_goes_through_the_server(tmp_path: Path) -> None:
    sp = start_serve(tmp_path / "s.duckdb", "--no-analysis")
    try:
        (tmp_path / "req.pb").write_bytes(make_request(6, trace_byte=5).SerializeToString())
        res = run_cli("ingest", "--db", str(sp.db), str(tmp_path / "req.pb"))
        assert res.returncode == 0, res.stderr
        assert "via http://127.0.0.1" in res.stdout
        assert sql_json(sp.db, "select count(*) as n from spans") == [{"n": 6}]
    finally:
        stop_serve(sp)


def test_export_parquet_one_file_per_table(tmp_path: Path) -> None:
    db = tmp_path / "e.duckdb"
    (tmp_path / "req.pb").write_bytes(make_request(5).SerializeToString())
    assert run_cli("ingest", "--db", str(db), str(tmp_path / "req.pb")).returncode == 0
    out = tmp_path / "parquet"
    res = run_cli("export", "--db", str(db), "--parquet", str(out))
    assert res.returncode == 0, res.stderr
    files = {p.stem for p in out.glob("*.parquet")}
    assert {"spans", "span_events", "span_links", "logs", "metrics", "traces", "findings"} <= files
    assert pq.read_table(out / "spans.parquet").num_rows == 5
