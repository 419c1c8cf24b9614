"""Grounding that must generalise beyond the corpus: facts found only in retrieved documents,
Title Case and Markdown answers, units with SI prefixes, year-like counts written with a thousands
separator — each with a near-miss that is still an invention."""

from __future__ import annotations

import pytest

from analysis.detectors.hallucination import HallucinationPropagation
from analysis.detectors.hallucination.claims import extract_claims
from analysis.detectors.hallucination.numbers import QUANTITY, Quantity, parse_quantity, same_quantity
from analysis.detectors.hallucination.units import key_unit
from analysis.model import Finding
from collector.decode.normalize import normalize_span

from .tracebuild import TraceBuilder, sid

DETECTOR = HallucinationPropagation()


def _claims(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "ungrounded_claim"]


def _relay(name: str, ask: str, answer: str, source: dict[str, object] | None = None) -> TraceBuilder:
    """analyst (reads ``source`` from a tool when given, answers) → presenter relays the answer."""
    b = TraceBuilder(name)
    b.agent("root", None, 0, 10, "coordinator", input=ask, output=answer)
    b.agent("analyst", "root", 0.1, 4, "analyst", input=ask, output=answer)
    inputs = [("user", ask)]
    if source is not None:
        b.tool("t1", "analyst", 0.2, 0.6, "fetch_report", {"period": "current"}, source)
        inputs.append(("tool", str(source)))
    b.chat("a1", "analyst", 0.7, 2.0, input=inputs, output=answer)
    b.agent("presenter", "root", 4.1, 8, "presenter", input=answer, output=answer)
    b.chat(
        "p1", "presenter", 4.2, 7.5, input=[("user", f"Present this to the client:\n{answer}")], output=answer
    )
    return b


# -- retrieved documents ---------------------------------------------------------------------------

ASK = "Can I bring my e-bike battery on the ferry to Gotland?"
DOCS = {
    "openinference.span.kind": "RETRIEVER",
    "input.value": "ferry e-bike battery rules",
    "retrieval.documents.0.document.id": "terms-44",
    "retrieval.documents.0.document.score": 0.77,
    "retrieval.documents.0.document.content": "Lithium batteries up to 300 Wh travel free; larger "
    "packs need a dangerous-goods form filed 48 hours before sailing.",
    "retrieval.documents.1.document.id": "terms-45",
    "retrieval.documents.1.document.content": "Questions go to the Visby harbour office.",
}


def _rag(answer: str, name: str) -> TraceBuilder:
    """A RAG agent: an OpenInference retriever span, decoded by the real collector, then the model
    answers from it; a second agent relays the answer."""
    b = TraceBuilder(name)
    b.agent("root", None, 0, 10, "concierge", input=ASK, output=answer)
    b.agent("rag", "root", 0.1, 4, "travel_rules", input=ASK, output=answer)
    decoded = normalize_span(DOCS, "retrieve")
    b.span("ret", "rag", 0.2, 0.5, **{k: v for k, v in decoded.items() if k != "convention"})
    b.chat(
        "c1", "rag", 0.6, 2.0, input=[("system", "Answer from the documents."), ("user", ASK)], output=answer
    )
    b.agent("mail", "root", 4.1, 8, "mailer", input=answer, output=answer)
    b.chat("m1", "mail", 4.2, 7.0, input=[("user", f"Send this reply:\n{answer}")], output=answer)
    return b


def test_facts_from_retrieved_documents_are_grounded() -> None:
    answer = "Yes: batteries up to 300 Wh go free; above that, file the form 48 hours ahead (Visby harbour)."
    assert DETECTOR.detect(_rag(answer, "rag-ok").build()) == []


def test_a_figure_the_documents_do_not_hold_is_still_an_invention() -> None:
    answer = "Yes: batteries up to 300 Wh go free; above that, file the form 72 hours ahead."
    (f,) = _claims(DETECTOR.detect(_rag(answer, "rag-bad").build()))
    assert f.origin_span_id == sid("c1") and f.evidence["claim"] == "72 hours"


# -- Title Case and Markdown -----------------------------------------------------------------------


def test_title_case_and_markdown_lines_are_not_names() -> None:
    text = (
        "### Quarterly Fleet Summary\n## Throughput Rose Sharply in the Benelux\n- Busiest Depot: Rotterdam\n"
        "Feel Free To Reach Out If You Have Questions.\nThanks Again For Your Patience\n"
        "**Volumes Up Sharply**, Hope This Helps"
    )
    names = [c for c in extract_claims(text) if c.kind == "name"]
    assert all("\n" not in c.text for c in names)
    assert [c.text for c in names if c.strong] == []
    answer = f"{text}\nDepot throughput: 18,240 pallets."
    source = {"busiest_depot": "Rotterdam", "pallets": 18240}
    assert (
        DETECTOR.detect(_relay("markdown-ok", "Summarise the fleet quarter.", answer, source).build()) == []
    )


def test_a_made_up_person_after_a_line_break_is_still_a_name() -> None:
    text = "Depot: Rotterdam\nPlease contact Sigrun Aalto\nor Jan de Vries for details."
    names = {c.text: c for c in extract_claims(text) if c.kind == "name"}
    assert "Jan de Vries" in names and names["Jan de Vries"].strong
    assert "Sigrun Aalto" in names and not any("\n" in c for c in names)
    answer = "Busiest depot: Rotterdam. Escalations go to Sigrun Aalto."
    source = {"busiest_depot": "Rotterdam", "pallets": 18240}
    (f,) = _claims(DETECTOR.detect(_relay("markdown-bad", "Who runs escalations?", answer, source).build()))
    assert f.evidence["claim"] == "Sigrun Aalto"


# -- units -----------------------------------------------------------------------------------------


def _q(text: str) -> Quantity:
    m = QUANTITY.search(text)
    assert m is not None
    q = parse_quantity(m)
    assert q is not None
    return q


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("6.2 t", "6180 kg"),
        ("6,180 kg", "6.18 tonnes"),
        ("0.75 kg", "750 g"),
        ("2.35 km", "2350 m"),
        ("120 cm", "1.2 metres"),
        ("1.5 s", "1,500 ms"),
        ("45 µs", "0.045 ms"),
        ("3 kilometres", "3000 meters"),
        ("250 milligrams", "0.25 g"),
        ("1.5 litres", "1500 ml"),
        ("3 wks", "21 days"),
    ],
)
def test_prefixed_units_convert(claim: str, source: str) -> None:
    assert same_quantity(_q(claim), _q(source)), (claim, source)


@pytest.mark.parametrize(
    ("claim", "source"), [("6.9 t", "6180 kg"), ("2.9 km", "2350 m"), ("15 s", "1,500 ms")]
)
def test_converted_but_different_quantities_do_not_match(claim: str, source: str) -> None:
    assert not same_quantity(_q(claim), _q(source))


def test_a_claim_keeps_its_unit() -> None:
    (claim,) = [c for c in extract_claims("The container weighs about 6.2 t.") if c.quantity]
    assert claim.text == "6.2 t" and claim.key == "mass:6200"
    # a one-letter unit never runs into a word: two shirts, not two tonnes
    assert [c.key for c in extract_claims("Ship 2 t-shirts.") if c.quantity] == ["none:2"]


def test_tonnes_restated_from_kilograms_is_grounded_and_a_wrong_weight_is_not() -> None:
    source = {"container": "MSKU4410028", "gross_weight_kg": 6180.4}
    ok = "MSKU4410028 weighs about 6.2 t."
    assert DETECTOR.detect(_relay("tonnes-ok", "How heavy is MSKU4410028?", ok, source).build()) == []
    bad = "MSKU4410028 weighs about 7.4 t."
    (f,) = _claims(DETECTOR.detect(_relay("tonnes-bad", "How heavy is MSKU4410028?", bad, source).build()))
    assert f.evidence["claim"] == "7.4 t" and f.evidence["normalized"] == "mass:7400"


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("weight_g", ("mass", 1e-3)),
        ("latencyMs", ("time", 1e-3)),
        ("height_cm", ("length", 1e-2)),
        ("revenue_usd_millions", ("money:usd", 1e6)),
        ("fill_volume_ml", ("volume", 1e-3)),
        ("ms", None),  # a key, not the unit of something
        ("price_min", None),  # the minimum price, not minutes
        ("revenue_m", None),  # millions or metres
        ("customer_name", None),
        ("duration_min", ("time", 60.0)),
    ],
)
def test_units_named_by_json_keys(key: str, unit: tuple[str, float] | None) -> None:
    assert key_unit(key) == unit


def test_a_json_number_is_read_in_the_unit_its_key_names() -> None:
    source = {"parcel": "PX-3318", "weight_g": 2480, "transit_ms": 9000000, "length_cm": 64}
    ok = "PX-3318 weighs 2.48 kg, is 0.64 m long and spent 2.5 hours in transit."
    assert DETECTOR.detect(_relay("key-unit-ok", "Describe PX-3318.", ok, source).build()) == []
    bad = "PX-3318 weighs 3.1 kg."
    (f,) = _claims(DETECTOR.detect(_relay("key-unit-bad", "Describe PX-3318.", bad, source).build()))
    assert f.evidence["claim"] == "3.1 kg"


def test_title_case_on_one_line_does_not_hide_names_on_others() -> None:
    text = "Top Depot: Rotterdam\nHope This Helps, Ops Desk\nEscalate to Sigrun Aalto in Visby."
    names = {c.text for c in extract_claims(text) if c.kind == "name" and c.strong}
    assert names == {"Sigrun Aalto"}
    # in JSON each string value is judged alone: a Title Case subject does not hide the recipient
    args = '{"subject": "Notes From Our Call", "to": "Sigrun Aalto"}'
    assert "Sigrun Aalto" in {c.text for c in extract_claims(args, json_text=True) if c.kind == "name"}


def test_a_team_signature_is_not_a_name() -> None:
    text = "Revenue is up.\n\nKind regards,\nThe Fleet Analytics Team"
    assert [c.text for c in extract_claims(text) if c.kind == "name" and c.strong] == []


# -- year-like counts --------------------------------------------------------------------------------


def test_a_year_like_count_with_a_thousands_separator_is_the_same_number() -> None:
    source = {"campaign": "autumn-push", "signups": 2013, "visits": 61402}
    ok = "autumn-push brought 2,013 signups from 61,402 visits."
    assert DETECTOR.detect(_relay("count-ok", "How did autumn-push do?", ok, source).build()) == []
    rounded = "autumn-push brought about 2,000 signups."
    assert DETECTOR.detect(_relay("count-round", "How did autumn-push do?", rounded, source).build()) == []
    bad = "autumn-push brought 2,031 signups from 61,402 visits."
    (f,) = _claims(DETECTOR.detect(_relay("count-bad", "How did autumn-push do?", bad, source).build()))
    assert f.evidence["claim"] == "2,031"


def test_a_year_in_the_sources_does_not_ground_a_count() -> None:
    source = {"campaign": "autumn-push", "note": "contract renewed in 2027", "signups": 880}
    bad = "autumn-push brought 2,027 signups."
    (f,) = _claims(DETECTOR.detect(_relay("count-year", "How did autumn-push do?", bad, source).build()))
    assert f.evidence["claim"] == "2,027"


def test_a_duration_in_several_units_is_one_quantity() -> None:
    (claim,) = [c for c in extract_claims("The transfer takes 2 hours and 5 minutes.") if c.quantity]
    assert claim.text == "2 hours and 5 minutes" and claim.key == "time:7500"
    source = {"leg": "LX-318", "duration_min": 95}
    ok = "LX-318 takes 1 h 35 min."
    assert DETECTOR.detect(_relay("dur-ok", "How long is LX-318?", ok, source).build()) == []
    bad = "LX-318 takes 2 h 35 min."
    (f,) = _claims(DETECTOR.detect(_relay("dur-bad", "How long is LX-318?", bad, source).build()))
    assert f.evidence["claim"] == "2 h 35 min"
