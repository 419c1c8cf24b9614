"""Optional semantic grounding (``analysis.detectors.hallucination.semantic``) with the real model:
a paraphrased name is grounded with it on and flagged with it off; a different number, a swapped or
an added name in a near-identical sentence stay flagged with it on; the switch reaches the detector
from the CLI (``report``, ``analyze``, ``eval``), from ``serve``'s configuration (the incremental
scheduler and ``POST /analyze``) and from its environment variable; without the extra, switching
it on is a one-line error that says how to install it.

The model is loaded once per test session (the module keeps it per process)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from analysis.detectors.hallucination import HallucinationPropagation, semantic
from analysis.model import Finding
from analysis.options import AnalysisOptions, OptionError
from analysis.remote import AnalyzeRoute
from analysis.scheduler import AnalysisScheduler
from collector.files import read_requests
from faultlens.commands import analyze, report, serve
from faultlens.commands import eval as eval_cmd
from store.writer import DuckStoreWriter

from .tracebuild import TraceBuilder, sid

needs_model = pytest.mark.skipif(
    bool(semantic.missing()),
    reason=f"the optional 'semantic' extra is not installed ({semantic.INSTALL})",
)

OFF = HallucinationPropagation()
QUESTION = "Where is the annual donor gala this year, and what should the invitation say?"
# the tool names the venue one way, the researcher another: every word of "Rijks Museum Amsterdam"
# but "rijks" is in the source, so the lexical test cannot ground it
VENUE = "The Rijksmuseum in Amsterdam will host the annual donor gala in its atrium on 14 June."
PARAPHRASE = "The annual donor gala is held in the atrium of the Rijks Museum Amsterdam on 14 June."
INVITATION = "Join us on 14 June in the atrium of the Rijks Museum Amsterdam for the annual donor gala."


@pytest.fixture(scope="session")
def on() -> HallucinationPropagation:
    if semantic.missing():
        pytest.skip(f"the optional 'semantic' extra is not installed ({semantic.INSTALL})")
    detector = HallucinationPropagation(semantic=True)
    assert detector.semantic is not None
    detector.semantic.embedder.embed(["load the model once"])
    return detector


def _pipeline(source: str, research: str, brief: str, name: str) -> TraceBuilder:
    """orchestrator → researcher (a lookup tool, then its summary) → writer → final answer."""
    b = TraceBuilder(name)
    b.agent("root", None, 0, 10, "orchestrator", input=QUESTION, output=brief)
    b.agent("researcher", "root", 0.1, 4, "researcher", input=QUESTION, output=research)
    b.chat(
        "r1",
        "researcher",
        0.2,
        0.8,
        input=[("user", QUESTION)],
        tools=["lookup"],
        tool_calls=[("lookup", {"query": "donor gala"})],
    )
    b.tool("t1", "researcher", 0.9, 1.2, "lookup", {"query": "donor gala"}, source)
    b.chat(
        "r2",
        "researcher",
        1.3,
        2.0,
        tools=["lookup"],
        output=research,
        input=[("user", QUESTION), ("tool", source)],
    )
    b.agent("writer", "root", 4.1, 8, "writer", input=research, output=brief)
    b.chat(
        "w1",
        "writer",
        4.2,
        7.5,
        input=[("user", f"Write it up from this research:\n{research}")],
        output=brief,
    )
    return b


def _claims(findings: list[Finding]) -> list[str]:
    return [c["claim"] for f in findings if f.kind == "ungrounded_claim" for c in f.evidence["claims"]]


@needs_model
def test_a_paraphrased_name_is_grounded_only_with_semantic_grounding(on: HallucinationPropagation) -> None:
    trace = _pipeline(VENUE, PARAPHRASE, INVITATION, "paraphrase").build()
    (f,) = [f for f in OFF.detect(trace) if f.kind == "ungrounded_claim"]
    assert f.evidence["claim"] == "Rijks Museum Amsterdam" and f.origin_span_id == sid("r2")
    assert _claims(on.detect(trace)) == []


@needs_model
@pytest.mark.parametrize(
    ("source", "research", "brief", "claim"),
    [
        # same sentence, another amount: a different fact, never a paraphrase
        (
            "Northwind's fiscal 2024 revenue was $4.2 billion, according to the annual filing.",
            "Northwind's fiscal 2024 revenue was $4.7 billion, according to the annual filing.",
            "Northwind reported fiscal 2024 revenue of $4.7 billion.",
            "$4.7 billion",
        ),
        # same sentence, another person
        (
            "The keynote at the developer summit will be given by Ingrid Solberg on Tuesday.",
            "The keynote at the developer summit will be given by Tomasz Wierzbicki on Tuesday.",
            "Tomasz Wierzbicki gives the developer summit keynote on Tuesday.",
            "Tomasz Wierzbicki",
        ),
        # the source sentence with a name added to it
        (
            "The data retention policy was approved at the steering committee meeting.",
            "The data retention policy was approved by Rafael Okonkwo at the steering committee meeting.",
            "Rafael Okonkwo approved the data retention policy.",
            "Rafael Okonkwo",
        ),
    ],
    ids=["other-amount", "swapped-name", "added-name"],
)
def test_a_different_fact_in_a_similar_sentence_stays_flagged(
    on: HallucinationPropagation, source: str, research: str, brief: str, claim: str
) -> None:
    trace = _pipeline(source, research, brief, claim).build()
    assert claim in _claims(OFF.detect(trace))
    assert claim in _claims(on.detect(trace))


# -- the switch, from the edges ---------------------------------------------------------------------

MS = 1_000_000
T0 = 1_760_000_000_000 * MS


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def _otlp_file(path: Path) -> str:
    """The paraphrase pipeline as a real OTel SDK export (GenAI semconv), one protobuf file."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "events-crew"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.semantic")

    def span(name: str, parent: Any, start_ms: int, end_ms: int, **attrs: str) -> Any:
        ctx = trace.set_span_in_context(parent) if parent is not None else None
        s = tracer.start_span(name, context=ctx, start_time=T0 + start_ms * MS, attributes=attrs)
        s.end(end_time=T0 + end_ms * MS)
        return s

    root = tracer.start_span(
        "invoke_agent orchestrator",
        start_time=T0,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "orchestrator",
            "gen_ai.input.messages": _messages("user", QUESTION),
            "gen_ai.output.messages": _messages("assistant", INVITATION),
        },
    )
    ctx = trace.set_span_in_context(root)
    researcher = tracer.start_span(
        "invoke_agent researcher",
        context=ctx,
        start_time=T0 + 10 * MS,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"},
    )
    span(
        "execute_tool lookup",
        researcher,
        20,
        30,
        **{
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "lookup",
            "gen_ai.tool.call.arguments": json.dumps({"query": "donor gala"}),
            "gen_ai.tool.call.result": VENUE,
        },
    )
    span(
        "chat model",
        researcher,
        40,
        60,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "model",
            "gen_ai.input.messages": json.dumps(
                [
                    {"role": "user", "parts": [{"type": "text", "content": QUESTION}]},
                    {
                        "role": "tool",
                        "parts": [{"type": "tool_call_response", "id": "c1", "response": VENUE}],
                    },
                ]
            ),
            "gen_ai.output.messages": _messages("assistant", PARAPHRASE),
        },
    )
    researcher.end(end_time=T0 + 70 * MS)
    writer = tracer.start_span(
        "invoke_agent writer",
        context=ctx,
        start_time=T0 + 80 * MS,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "writer"},
    )
    span(
        "chat model",
        writer,
        90,
        110,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "model",
            "gen_ai.input.messages": _messages("user", f"Write it up from this research:\n{PARAPHRASE}"),
            "gen_ai.output.messages": _messages("assistant", INVITATION),
        },
    )
    writer.end(end_time=T0 + 120 * MS)
    root.end(end_time=T0 + 130 * MS)
    provider.force_flush()
    spans = exporter.get_finished_spans()
    path.write_bytes(encode_spans(spans).SerializeToString())
    return format(spans[0].context.trace_id, "032x")


@pytest.fixture
def otlp(tmp_path: Path) -> Path:
    path = tmp_path / "gala.pb"
    _otlp_file(path)
    return path


def _report_claims(doc: dict[str, Any]) -> list[str]:
    return [
        f["evidence"]["claim"]
        for t in doc["traces"]
        for f in t["findings"]
        if f["detector"] == "hallucination_propagation" and f["kind"] == "ungrounded_claim"
    ]


@needs_model
def test_report_flag_and_environment_variable_reach_the_detector(
    on: HallucinationPropagation, otlp: Path
) -> None:
    runner = CliRunner()
    off = runner.invoke(report.command, [str(otlp), "--format", "json"])
    assert off.exit_code == 0, off.output
    assert _report_claims(json.loads(off.stdout)) == ["Rijks Museum Amsterdam"]
    flag = runner.invoke(report.command, [str(otlp), "--format", "json", "--semantic-grounding"])
    assert flag.exit_code == 0, flag.output
    assert _report_claims(json.loads(flag.stdout)) == []
    env = runner.invoke(
        report.command, [str(otlp), "--format", "json"], env={"FAULTLENS_SEMANTIC_GROUNDING": "1"}
    )
    assert env.exit_code == 0, env.output
    assert _report_claims(json.loads(env.stdout)) == []


def _store(db: Path, otlp: Path) -> None:
    from collector.decode import parse_and_decode

    with DuckStoreWriter(db) as writer:
        for req in read_requests(otlp):
            writer.write(parse_and_decode(req.signal, req.body, req.fmt).batch)
        writer.sync()


def _stored_claims(writer: DuckStoreWriter) -> list[str]:
    rows = writer.reader().query(
        "SELECT evidence FROM findings"
        " WHERE detector = 'hallucination_propagation' AND kind = 'ungrounded_claim'"
    )
    return [orjson.loads(e)["claim"] for e in rows.column("evidence").to_pylist()]


@needs_model
def test_analyze_flag_reaches_the_detector(on: HallucinationPropagation, otlp: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _store(db, otlp)
    runner = CliRunner()
    res = runner.invoke(analyze.command, ["--db", str(db)])
    assert res.exit_code == 0, res.output
    with DuckStoreWriter(db) as writer:
        assert _stored_claims(writer) == ["Rijks Museum Amsterdam"]
    res = runner.invoke(analyze.command, ["--db", str(db), "--semantic-grounding"])
    assert res.exit_code == 0, res.output
    with DuckStoreWriter(db) as writer:
        assert _stored_claims(writer) == []


@needs_model
def test_serve_configuration_reaches_the_scheduler_and_the_analyze_route(
    on: HallucinationPropagation, otlp: Path, tmp_path: Path
) -> None:
    server = serve.build_server(
        str(tmp_path / "x.duckdb"), "127.0.0.1", 0, 0, None, None, None, True, 1.0, semantic_grounding=True
    )
    assert server.config.analysis.options == AnalysisOptions(semantic_grounding=True)
    db = tmp_path / "s.duckdb"
    _store(db, otlp)
    with DuckStoreWriter(db) as writer:
        scheduler = AnalysisScheduler(
            writer.reader(), writer, quiet_seconds=0, options=server.config.analysis.options
        )
        assert scheduler.run_once() == 1 and _stored_claims(writer) == []
        route = AnalyzeRoute(writer.reader(), writer, AnalysisOptions())
        status, _ = route(b"{}")  # the server's own options: off
        assert status == 200 and _stored_claims(writer) == ["Rijks Museum Amsterdam"]
        status, _ = route(b'{"semantic_grounding": true}')  # the request's
        assert status == 200 and _stored_claims(writer) == []


@needs_model
def test_eval_takes_the_flag(on: HallucinationPropagation, otlp: Path, tmp_path: Path) -> None:
    trace_id = _otlp_file(otlp)
    labels = tmp_path / "labels.json"
    labels.write_bytes(
        orjson.dumps({"version": 1, "scenarios": [{"trace_id": trace_id, "clean": True, "expected": []}]})
    )
    args = ["--corpus", str(otlp.parent), "--labels", str(labels), "--format", "json"]
    fps = []
    for flag in ([], ["--semantic-grounding"]):
        res = CliRunner().invoke(eval_cmd.command, args + flag)
        assert res.exit_code == 0, res.output
        by_detector = json.loads(res.stdout)["by_detector"]
        fps.append(by_detector.get("hallucination_propagation", {}).get("fp", 0))
    assert fps == [1, 0]  # the clean control's paraphrase is a false positive only without it


# -- without the extra ------------------------------------------------------------------------------


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The model package as Python sees a package that is not installed."""
    monkeypatch.setitem(sys.modules, semantic.MODEL_PACKAGE, None)
    yield


def test_switching_it_on_without_the_extra_says_how_to_install_it(without_extra: None, otlp: Path) -> None:
    assert semantic.missing() == [semantic.MODEL_PACKAGE]
    with pytest.raises(OptionError, match="semantic_grounding") as err:
        AnalysisOptions(semantic_grounding=True).validate()
    assert semantic.INSTALL in str(err.value)
    with pytest.raises(semantic.SemanticUnavailable):
        HallucinationPropagation(semantic=True)
    AnalysisOptions().validate()  # off: nothing is checked, nothing is needed
    res = CliRunner().invoke(report.command, [str(otlp), "--semantic-grounding"])
    assert res.exit_code == 2
    assert "pip install 'faultlens[semantic]'" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
