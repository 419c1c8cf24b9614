"""Grounding: is a claim supported by what its span could have read, and where did an unsupported
claim first appear?

A claim emitted by span ``s`` is grounded when a claim covering it occurs in text visible to ``s``
(``Ledger.visible``: its own inputs — user input, system instructions, tool definitions, earlier
messages, tool results quoted back —, everything in its happens-before past — tool results,
retrieved documents, memory reads, other agents' messages —, and its descendants' texts). Beyond
equal keys, support is tolerant the way people restate facts:

- quantities: rounding and unit/magnitude conversion (``numbers.same_quantity``), and one-step
  derivations from two visible quantities (sum, difference, ratio or change as a percentage, a
  product with a small count — ``numbers.derived``);
- names and quoted strings: every word of a name (70% of a quotation's words) occurs in visible text,
  in any case or order — "Globex Corp." is grounded by "globex corp", a quotation by its paraphrase.

Optionally (``find_ungrounded``'s ``extra``, off by default), a claim with none of this support may
still be grounded by a further test of the occurrence: ``semantic`` grounds paraphrased names. It
can only add support.

The origin of an ungrounded claim is the first span, in happens-before order, whose emitted text
holds it without support. Later emitters see the origin's text in their past, so they are carriers,
not new origins; a concurrent second emitter that is also unsupported is recorded as such.

Cost: one pass over the emitted claims in topological order; each grounding test is an index lookup
over the claim's occurrences (one O(1) happens-before test each), and only for claims with no exact
support a scan of the quantities of the nearest ``NEAR_SPANS`` visible spans (derivations
O(min(q,120)^2)) or of the claim's words' posting lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from analysis.detectors.hallucination.claim import Claim
from analysis.detectors.hallucination.ledger import Ledger, Occurrence
from analysis.detectors.hallucination.numbers import Quantity, derived, same_quantity

#: share of a quotation's words that must be visible for it to count as a paraphrase of a source
QUOTE_WORD_SHARE = 0.7


@dataclass(frozen=True)
class Support:
    grounded: bool
    how: str = ""  # "exact" | "rounding or conversion" | "derived: a + b" | "words"


@dataclass
class Ungrounded:
    """A claim some span emitted with no support, and where."""

    claim: Claim
    origin: str
    occurrences: list[Occurrence]  # the origin's own occurrences of the claim
    also_emitted_by: list[str] = field(default_factory=list)  # concurrent unsupported emitters


def support(ledger: Ledger, claim: Claim, reader: str) -> Support:
    """Whether ``claim`` (emitted by ``reader``) is supported by text ``reader`` could have read."""
    keys = set(claim.keys)
    # the reader's own inputs first (the usual case: the tool result is in the prompt), then every
    # occurrence, nearest to the reader first
    for occ in ledger.claims.get(reader, ()):
        if not occ.unit.emitted and occ.unit.io == "input" and not keys.isdisjoint(occ.claim.covers):
            return Support(True, "exact")
    for key in claim.keys:
        for occ in ledger.covering(key, reader):
            if ledger.visible(occ.span_id, occ.unit, reader):
                return Support(True, "exact")
    if claim.kind in _VOCABULARY_KINDS and _symbol(claim) in ledger.vocabulary:
        return Support(True, "system vocabulary")
    if claim.kind in ("date", "year") and any(k in ledger.ambient for k in claim.keys):
        return Support(True, "the current date")
    if claim.quantity is not None:
        groups = _visible_quantities(ledger, reader)
        visible = [q for g in groups for q in g]
        if any(same_quantity(claim.quantity, q) for q in visible):
            return Support(True, "rounding or conversion")
        how = derived(claim.quantity, visible, groups=groups)
        if how:
            return Support(True, f"derived: {how}")
    if claim.tokens:
        share = QUOTE_WORD_SHARE if claim.kind == "quoted" else 1.0
        if ledger.words_visible(claim.tokens, reader) >= share:
            return Support(True, "words")
    # a year anywhere in visible text (dates included) grounds it
    if claim.kind == "year" and ledger.words_visible(claim.keys[0].split(":")[1:], reader) >= 1.0:
        return Support(True, "words")
    return Support(False)


_VOCABULARY_KINDS = frozenset({"code", "name", "value", "identifier", "quoted", "path"})


def _symbol(claim: Claim) -> str:
    return claim.text.strip('`"“”').removesuffix("()").lower()


#: spans searched (nearest first) for quantities a claim may round, convert or derive from
NEAR_SPANS = 64


def _visible_quantities(ledger: Ledger, reader: str) -> list[list[Quantity]]:
    """The quantities visible to ``reader`` in its nearest ``NEAR_SPANS`` visible spans, grouped by
    the text they occur in."""
    groups: dict[int, list[Quantity]] = {}
    for sid in ledger.nearest_visible(reader, NEAR_SPANS):
        for occ in ledger.span_quantities.get(sid, ()):
            q = occ.claim.quantity
            if q is not None and ledger.visible(occ.span_id, occ.unit, reader):
                groups.setdefault(id(occ.unit), []).append(q)
    return list(groups.values())


#: a further test for an emitted occurrence with no other support: (occurrence, emitting span) → grounded
ExtraSupport = Callable[[Occurrence, str], bool]


def _supported(ledger: Ledger, occ: Occurrence, reader: str, extra: ExtraSupport | None) -> bool:
    if support(ledger, occ.claim, reader).grounded:
        return True
    return extra is not None and extra(occ, reader)


def find_ungrounded(ledger: Ledger, extra: ExtraSupport | None = None) -> list[Ungrounded]:
    """Every claim whose first emission is unsupported (by ``support``, then by ``extra`` when
    given), with its origin, in origin order."""
    found: dict[str, Ungrounded] = {}
    grounded: set[tuple[str, str]] = set()
    for sid in ledger.order:
        for occ in ledger.claims.get(sid, ()):
            if not occ.unit.emitted or not occ.claim.checkable:
                continue
            key = occ.claim.key
            prior = found.get(key)
            if prior is not None:
                if prior.origin == sid:
                    prior.occurrences.append(occ)
                elif (
                    sid not in prior.also_emitted_by
                    and not ledger.after(prior.origin, sid)
                    and not _supported(ledger, occ, sid, extra)
                ):
                    prior.also_emitted_by.append(sid)
                continue
            if (key, sid) in grounded:
                continue
            if _supported(ledger, occ, sid, extra):
                grounded.add((key, sid))
                continue
            found[key] = Ungrounded(occ.claim, sid, [occ])
    return sorted(found.values(), key=lambda u: (ledger.position.get(u.origin, 0), u.claim.start))
