"""Bad input never breaks the detector: malformed message JSON, odd part payloads, parent cycles,
long texts; and extraction offsets always point at the claim's own text (property test)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.detectors.hallucination.claims import extract_claims

from .tracebuild import TraceBuilder

DETECTOR = HallucinationPropagation()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300), st.booleans())
def test_claim_offsets_are_exact(text: str, json_text: bool) -> None:
    for claim in extract_claims(text, json_text=json_text):
        assert 0 <= claim.start < claim.end <= len(text)
        assert text[claim.start : claim.end] == claim.text
        assert claim.keys


def test_malformed_columns_and_parent_cycles() -> None:
    b = TraceBuilder("garbage")
    b.span("a", "c", 0, 1, operation="invoke_agent", agent_name="x", output_messages="{not json")
    b.span(
        "c", "a", 0, 1, operation="chat", input_messages='{"role": "user"}', output_messages="[1, null, {}]"
    )
    b.span(
        "d",
        None,
        0,
        2,
        operation="chat",
        output_messages='[{"role": "assistant", "parts": [{"type": "text", "content": {"nested": '
        '["Revenue $9.9B", 3]}}, {"type": "tool_call", "name": 7, "arguments": null}]}]',
    )
    b.span(
        "e",
        "d",
        1,
        2,
        operation="execute_tool",
        tool_name="send_email",
        tool_arguments="[[[",
        tool_result="x" * 20000,
        tool_definitions='{"weird": true}',
    )
    b.span("f", "d", 2, 3, operation="chat", output_messages="plain text that is not JSON, ORD-12345 shipped")
    findings = DETECTOR.detect(b.build())
    assert all(f.detector == "hallucination_propagation" for f in findings)


def test_empty_trace() -> None:
    b = TraceBuilder("empty")
    b.span("only", None, 0, 1)
    assert DETECTOR.detect(b.build()) == []
