"""The dashboard on what the real pipeline produces: sample OTLP ingested with ``faultlens ingest``,
analysed with ``faultlens analyze`` (the real hallucination detector's evidence), then every claim
occurrence the detector reports must be highlighted in the step that holds it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.data.chain import chain_index
from dashboard.data.findings import FindingFilter, list_findings, occurrences, trace_findings
from dashboard.data.trace import build_tree, load_content, load_skeleton
from dashboard.render.steps import step_html
from store.reader import open_reader
from tests.conftest import ROOT, run_cli

CORPUS = ROOT / "sample_traces" / "corpus" / "fabricated_claim_propagates.json"
_MARK = re.compile(r'<mark class="fl-claim (fl-origin|fl-spread)"[^>]*>(.*?)</mark>')

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("real") / "faultlens.duckdb"
    for args in (("ingest", "--db", str(db), str(CORPUS)), ("analyze", "--db", str(db))):
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
    return db


def test_every_reported_occurrence_is_highlighted(analysed: Path) -> None:
    reader = open_reader(analysed)
    rows, total = list_findings(reader, FindingFilter(kind="ungrounded_claim"), page_size=100)
    assert total >= 5
    checked = 0
    for trace_id in sorted(set(rows.column("trace_id").to_pylist())):
        tree = build_tree(trace_id, load_skeleton(reader, trace_id))
        findings = trace_findings(reader, trace_id)
        index = chain_index(tree, findings)
        steps = {s.span_id: s for s in index.steps(range(len(index)))}
        content = load_content(reader, trace_id, list(steps))
        for f in findings:
            if f.kind != "ungrounded_claim":
                continue
            for occ in occurrences(f):
                body = step_html(steps[occ.span_id], content[occ.span_id], [])
                marks = {(kind, html.unescape(text).lower()) for kind, text in _MARK.findall(body)}
                claim = occ.text.lower()
                if occ.origin:  # red where it was first stated
                    assert ("fl-origin", claim) in marks, (trace_id, occ)
                else:  # amber where it spread (red if this step also states it first)
                    assert ("fl-spread", claim) in marks or ("fl-origin", claim) in marks, (trace_id, occ)
                checked += 1
            assert any(o.origin for o in occurrences(f)), f.finding_id
    assert checked >= 20
    reader.close()


def test_trace_page_on_real_findings(analysed: Path, app_for: Callable[[Path, str | None], AppTest]) -> None:
    reader = open_reader(analysed)
    rows, _ = list_findings(reader, FindingFilter(kind="ungrounded_claim"), page_size=1)
    finding = rows.to_pylist()[0]
    reader.close()
    at = app_for(analysed, "trace")
    at.query_params["trace_id"] = finding["trace_id"]
    at.query_params["span_id"] = finding["origin_span_id"]
    at.run()
    assert not at.exception and not at.error
    body = "\n".join(el.proto.body for el in at.get("html"))
    assert body.count("fl-origin") >= 1 and body.count("fl-spread") >= 2
    assert any(e.label.startswith("▶ ") and "failure starts here" in e.label for e in at.expander)
