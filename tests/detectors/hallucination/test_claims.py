"""Claim extraction and normalization: different spellings of one fact compare equal, different
facts do not, and layout (numbering, headings, sentence openings, JSON keys, minted ids) is not a
claim."""

from __future__ import annotations

import pytest

from analysis.detectors.hallucination.claim import Claim
from analysis.detectors.hallucination.claims import extract_claims
from analysis.detectors.hallucination.numbers import (
    QUANTITY,
    Quantity,
    derived,
    parse_quantity,
    same_quantity,
)


def _one(text: str, kind: str, *, json_text: bool = False) -> Claim:
    found = [c for c in extract_claims(text, json_text=json_text) if c.kind == kind]
    assert len(found) == 1, (text, found)
    return found[0]


def _q(text: str) -> Quantity:
    m = QUANTITY.search(text)
    assert m is not None
    q = parse_quantity(m)
    assert q is not None
    return q


@pytest.mark.parametrize(
    "text", ["$4.2B", "4,200 million dollars", "4.2 billion USD", "USD 4.2bn", "US$4.2 billion"]
)
def test_money_spellings_share_one_key(text: str) -> None:
    claim = _one(f"Revenue was {text} last quarter.", "money")
    assert claim.key == "money:usd:4.2e+09" and claim.text.strip() == text


def test_rounding_and_conversion_agree_but_other_values_do_not() -> None:
    assert same_quantity(_q("$4.2B"), _q("4,213 million dollars"))
    assert not same_quantity(_q("$4.7B"), _q("4,213 million dollars"))
    assert same_quantity(_q("$4.2B"), _q('"revenue_usd_millions": 4213'))  # a bare number at some scale
    assert same_quantity(_q("12.4%"), _q("0.124"))
    assert same_quantity(_q("2 hours"), _q("120 minutes")) and not same_quantity(_q("2 hours"), _q("3 hours"))
    assert same_quantity(_q("30-day"), _q('"refund_window_days": 30'))
    assert not same_quantity(_q("45-day"), _q('"total": 129.99'))


def test_derivations_from_two_sources() -> None:
    sources = [_q("$3.12B"), _q("$2.79B")]
    assert derived(_q("$5.91B"), sources) == "3.12e+09 + 2.79e+09"
    assert derived(_q("11.8%"), sources) is not None  # relative change
    assert derived(_q("$9.9B"), sources) is None


def test_dates_times_and_their_partial_forms() -> None:
    iso = _one("Shipped 2024-03-15.", "date")
    assert iso.key == "date:2024-03-15" and "md:03-15" in iso.covers
    assert _one("Shipped on March 15, 2024.", "date").key == "date:2024-03-15"
    assert _one("Shipped on 15 March 2024.", "date").key == "date:2024-03-15"
    assert _one("Shipped on March 15.", "date").key == "md:03-15"
    assert set(_one("Due 03/04/2024.", "date").keys) == {"date:2024-03-04", "date:2024-04-03"}
    assert _one("Results for Q3 2025", "date").key == _one("Results for 2025-Q3", "date").key
    assert _one("Departs 8:30 PM", "time").key == _one("Departs 20:30", "time").key == "time:20:30"


def test_identifiers_paths_urls_emails_code() -> None:
    assert _one("Order ORD-7731 shipped", "identifier").keys == ("id:ord7731", "id:7731")
    assert _one("see https://www.Example.com/Docs/?utm=1", "url").key == "url:example.com/docs"
    assert _one("mail Jane.Doe@Acme.io now", "email").key == "email:jane.doe@acme.io"
    assert _one("edit billing/rounding_utils.py today", "path").keys == (
        "path:billing/rounding_utils.py",
        "file:rounding_utils.py",
    )
    assert _one("call `compute_total()` first", "code").key == "code:compute_total"


def test_names_and_quotations() -> None:
    name = _one("The report was signed by Dr. Helena Voss yesterday.", "name")
    assert name.text == "Dr. Helena Voss" and name.tokens == ("helena", "voss") and name.strong
    assert _one("We fly from Terminal 5 tomorrow.", "name").text == "Terminal 5"
    opening = _one("Meet Dana Whitfield at noon.", "name")
    assert opening.tokens == ("dana", "whitfield")  # the capitalised verb is not part of the name
    assert _one('It cites "The Art of Scaling Systems".', "quoted").strong
    assert not _one('Status: "report ready".', "quoted").strong


def test_layout_is_not_a_claim() -> None:
    text = "## Key Findings\n1. Revenue grew.\n2. Costs fell.\nStep 3 is next. However, it works."
    assert [c for c in extract_claims(text) if c.strong and c.checkable] == []
    minted = '{"to": "a@b.io", "idempotency_key": "trip-booking-0000", "customer_id": 7}'
    kinds = {(c.kind, c.text) for c in extract_claims(minted, json_text=True)}
    assert ("email", "a@b.io") in kinds
    assert not any("trip-booking" in t or t == "customer_id" for _, t in kinds)
    # small bare numbers are extracted (they can support claims) but are not checked themselves
    assert [c.checkable for c in extract_claims("I found 3 options.")] == [False]
