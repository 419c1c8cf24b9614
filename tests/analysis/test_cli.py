"""``faultlens analyze``, ``report`` and ``eval`` end to end: spans from the real OTel SDK written as
an OTLP protobuf file, decoded by the collector, stored in real DuckDB files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from analysis.report import schema
from collector.files import FileRequest
from faultlens.commands import analyze, report
from faultlens.commands import eval as eval_cmd
from faultlens.commands.analyze import parse_since
from store.api import IngestBatch

MS = 1_000_000
T0 = 1_760_000_000_000 * MS


def _otlp_file(path: Path) -> str:
    """One trace: an agent that sends the same email twice (a duplicate side effect). Returns its id."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "mailer-svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.analysis")
    root = tracer.start_span(
        "invoke_agent mailer",
        start_time=T0,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "mailer"},
    )
    from opentelemetry import trace

    ctx = trace.set_span_in_context(root)
    for i in range(2):
        span = tracer.start_span(
            "execute_tool send_email",
            context=ctx,
            start_time=T0 + (10 + i * 10) * MS,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "send_email",
                "gen_ai.tool.call.arguments": json.dumps({"to": "cfo@example.com", "body": "Q3 brief"}),
                "gen_ai.tool.call.result": json.dumps({"ok": True, "id": f"m{i}"}),
            },
        )
        span.end(end_time=T0 + (15 + i * 10) * MS)
    root.end(end_time=T0 + 100 * MS)
    provider.force_flush()
    spans = exporter.get_finished_spans()
    path.write_bytes(encode_spans(spans).SerializeToString())
    return format(spans[0].context.trace_id, "032x")


def test_report_from_files_json_md_html_and_fail_on(tmp_path: Path) -> None:
    otlp = tmp_path / "trace.pb"
    trace_id = _otlp_file(otlp)
    runner = CliRunner()
    res = runner.invoke(report.command, [str(otlp), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, schema())
    [t] = doc["traces"]
    assert t["trace_id"] == trace_id and t["agents"] == ["mailer"]
    dup = [f for f in t["findings"] if f["detector"] == "duplicate_side_effect"]
    assert len(dup) == 1 and dup[0]["mast"] == ["FM-1.3"] and dup[0]["severity"] == "high"
    assert {"id": "FM-1.3", "name": "Step repetition", "finding_ids": [dup[0]["id"]]} in t["failure_modes"]
    assert t["attribution"]["agent"] == "mailer"

    out = tmp_path / "r.html"
    res = runner.invoke(
        report.command, [str(tmp_path), "--format", "html", "--out", str(out), "--fail-on", "high"]
    )
    assert res.exit_code == 1 and "at or above high" in res.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    res = runner.invoke(report.command, [str(otlp), "--format", "md", "--fail-on", "critical"])
    assert res.exit_code == 0 and "duplicate_side_effect" in res.stdout


def test_report_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (
        [str(tmp_path / "missing.pb")],
        ["--db", str(tmp_path / "none.duckdb")],
        ["--format", "pdf"],
    ):
        res = runner.invoke(report.command, args)
        assert res.exit_code == 2, (args, res.output)
        assert res.output.strip().splitlines()[-1].startswith("Error: ")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = runner.invoke(report.command, [str(bad)])
    assert res.exit_code == 2 and "Error" in res.output


def test_analyze_then_report_from_the_store(tmp_path: Path) -> None:
    otlp = tmp_path / "t.pb"
    trace_id = _otlp_file(otlp)
    db = tmp_path / "s.duckdb"
    from faultlens.commands.ingest import ingest_files
    from store.writer import DuckStoreWriter

    with DuckStoreWriter(db) as writer:

        def sink(_req: FileRequest, batch: IngestBatch) -> None:
            if batch.item_count:
                writer.write(batch)

        ingest_files(sink, [otlp])
        writer.sync()
    runner = CliRunner()
    res = runner.invoke(analyze.command, ["--db", str(db), "--trace", trace_id])
    assert res.exit_code == 0, res.output
    assert "analysed 1 trace(s), 3 span(s)" in res.stdout and "1 failed trace(s)" in res.stdout
    res = runner.invoke(report.command, ["--db", str(db)])
    assert (
        res.exit_code == 0
        and json.loads(res.stdout)["summary"]["findings_by_detector"]["duplicate_side_effect"] == 1
    )
    res = runner.invoke(analyze.command, ["--db", str(db), "--trace", "XYZ"])
    assert res.exit_code == 2 and "32-hex-digit" in res.output
    res = runner.invoke(analyze.command, ["--db", str(tmp_path / "nope.duckdb")])
    assert res.exit_code == 2 and "no store" in res.output


def test_parse_since() -> None:
    now = 10**18
    assert parse_since("2h", now) == now - 2 * 3600 * 10**9
    assert parse_since("1700000000000000000") == 1_700_000_000_000_000_000
    assert parse_since("2025-01-01T00:00:00Z") == 1_735_689_600 * 10**9
    assert parse_since(None) is None
    import click

    with pytest.raises(click.BadParameter):
        parse_since("yesterday")


def test_eval_scores_detectors_on_labelled_scenarios(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    trace_id = _otlp_file(corpus / "dup.pb")
    clean_id = _otlp_file(corpus / "clean.pb")  # same shape, but labelled clean: findings are FPs
    labels = tmp_path / "labels.json"
    labels.write_text(
        json.dumps(
            {
                "version": 1,
                "scenarios": [
                    {
                        "trace_id": trace_id,
                        "scenario": "dup",
                        "variant": "a",
                        "convention": "genai",
                        "clean": False,
                        "expected": [
                            {
                                "detector": "duplicate_side_effect",
                                "kind": "duplicate_side_effect",
                                "origin_span_id": "0" * 16,
                                "span_ids": [],
                            },
                            {
                                "detector": "step_repetition",
                                "kind": "step_repetition",
                                "origin_span_id": "0" * 16,
                                "span_ids": [],
                            },
                        ],
                    },
                    {
                        "trace_id": clean_id,
                        "scenario": "clean",
                        "variant": "b",
                        "convention": "genai",
                        "clean": True,
                        "expected": [],
                    },
                ],
            }
        )
    )
    res = CliRunner().invoke(
        eval_cmd.command, ["--corpus", str(corpus), "--labels", str(labels), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    dup = doc["by_detector"]["duplicate_side_effect"]
    assert (dup["tp"], dup["fp"], dup["fn"], dup["clean_fp"]) == (1, 1, 0, 1)
    assert dup["precision"] == 0.5 and dup["recall"] == 1.0 and dup["origin_accuracy"] == 0.0
    assert doc["by_detector"]["step_repetition"]["fn"] == 1
    assert doc["clean_traces"] == 1 and doc["clean_traces_with_findings"] == 1
    text = CliRunner().invoke(eval_cmd.command, ["--corpus", str(corpus), "--labels", str(labels)])
    assert "duplicate_side_effect" in text.stdout and "prec%" in text.stdout
