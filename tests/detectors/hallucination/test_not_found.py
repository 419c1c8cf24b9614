"""``not_found_entity`` across the ways tools say "no such thing": structured error codes, "no
<thing> with ...", null answers to a lookup by key — and the empty answers that are not about a
made-up entity (searches, lists, writes, findings of a check, ids the user gave)."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.detectors.hallucination.notfound import spelled
from analysis.model import Finding

from .tracebuild import TraceBuilder, sid

DETECTOR = HallucinationPropagation()
ASK = "The shipment to our Lyon warehouse never arrived. What happened to it?"


def _not_found(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "not_found_entity"]


def _lookup(
    name: str, tool: str, args: dict[str, Any], result: Any, *, ask: str = ASK, **cols: Any
) -> TraceBuilder:
    """One agent: the model calls ``tool`` with ``args`` (made up unless ``ask`` holds them), the
    tool answers ``result``, the model reports back."""
    b = TraceBuilder(name)
    b.agent("root", None, 0, 5, "logistics", input=ask, output="I could not locate that shipment.")
    b.chat("c1", "root", 0.1, 0.5, input=[("user", ask)], tools=[tool], tool_calls=[(tool, args)])
    b.tool("t1", "root", 0.6, 1.0, tool, args, result, **cols)
    text = result if isinstance(result, str) else str(result)
    b.chat(
        "c2",
        "root",
        1.1,
        1.5,
        input=[("user", ask), ("tool", text)],
        output="I could not locate that shipment.",
    )
    return b


@pytest.mark.parametrize(
    "result",
    [
        {"error": "SHIPMENT_NOT_FOUND", "detail": "lookup failed"},
        {"status": "error", "code": "ENTITY_DOES_NOT_EXIST"},
        {"errorType": "ResourceNotFoundException"},
        {"error": {"code": "ENOENT", "path": "/shipments"}},
        "No shipment with tracking number SHP-5521907 on file.",
        "no shipments found for SHP-5521907",
        "The requested consignment could not be located.",
        "There is no shipment SHP-5521907 in the carrier network.",
        {"ok": False, "reason": "Invalid tracking number"},
        {"data": {"shipment": {}}},
        {"shipment": None},
        {"tracking_number": "SHP-5521907", "shipment": None, "events": None},
        {"tracking_number": "SHP-5521907", "exists": False},
        "null",
    ],
)
def test_tool_says_the_made_up_entity_does_not_exist(result: Any) -> None:
    args = {"tracking_number": "SHP-5521907"}
    (f,) = _not_found(DETECTOR.detect(_lookup("nf", "get_shipment", args, result).build()))
    assert f.origin_span_id == sid("c1") and f.span_ids == (sid("c1"), sid("t1"))
    assert f.evidence["emitted_by"] == sid("c1")
    assert f.evidence["entity"] == "SHP-5521907" and f.evidence["tool"] == "get_shipment"


def test_error_codes_read_as_words() -> None:
    assert spelled("ResourceNotFoundException") == "resource not found exception"
    assert spelled("does_not_exist NoSuchBucket non-existent") == "does not exist no such bucket non existent"
    assert spelled("ERR-404 v2_api") == "err-404 v2_api"  # digits are not joined words


def test_user_supplied_entity_with_a_null_answer_is_clean() -> None:
    ask = "Where is shipment SHP-5521907? It never reached Lyon."
    args = {"tracking_number": "SHP-5521907"}
    assert (
        DETECTOR.detect(_lookup("nf-user", "get_shipment", args, {"shipment": None}, ask=ask).build()) == []
    )


@pytest.mark.parametrize(
    ("tool", "args", "result"),
    [
        # a search with no hits says nothing about a made-up entity
        ("search_shipments", {"query": "pallets delayed at lyon depot last week"}, []),
        ("search_shipments", {"query": "pallets delayed at lyon depot last week"}, "No results."),
        # an empty list for a key: the key exists, it has no rows
        ("list_shipment_events", {"tracking_number": "SHP-5521907"}, {"events": []}),
        # a write returns nothing on success
        ("cancel_shipment", {"tracking_number": "SHP-5521907"}, "null"),
        # a check that found nothing wrong found the thing it checked
        ("validate_manifest", {"manifest": "MNF-20417-B"}, "No issues found with this manifest."),
        # fields that are present, one of them null, are data
        ("get_shipment", {"tracking_number": "SHP-5521907"}, {"carrier": "DHL", "delivered_at": None}),
    ],
)
def test_empty_answers_that_are_not_a_missing_entity(tool: str, args: dict[str, Any], result: Any) -> None:
    assert _not_found(DETECTOR.detect(_lookup(f"clean-{tool}", tool, args, result).build())) == []


def test_a_made_up_numeric_key_is_an_entity_and_a_made_up_count_is_not() -> None:
    keyed = _lookup("nf-num", "get_order", {"order_id": 884120}, "Order 884120 could not be found.")
    (f,) = _not_found(DETECTOR.detect(keyed.build()))
    assert f.evidence["entity"] == "884120" and f.evidence["kind"] == "number"
    counted = _lookup("nf-count", "search_orders", {"destination": "Lyon", "limit": 250}, "No results.")
    assert _not_found(DETECTOR.detect(counted.build())) == []


def test_a_search_for_a_made_up_word_that_matches_nothing_is_not_a_missing_entity() -> None:
    word = _lookup(
        "nf-word", "search_shipments", {"status": "misrouted"}, '{"results": [], "note": "No results"}'
    )
    assert _not_found(DETECTOR.detect(word.build())) == []
    keyed = _lookup("nf-word-key", "search_shipments", {"tracking_number": "SHP-5521907"}, "No results")
    assert [f.evidence["entity"] for f in _not_found(DETECTOR.detect(keyed.build()))] == ["SHP-5521907"]
