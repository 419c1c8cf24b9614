"""Propagation: where an ungrounded claim went after its origin.

Carriers of a claim are the texts that hold it (the same normalized keys, a quantity equal up to
rounding/conversion, or — for names and quotations — the same words in sequence, found with one
Aho-Corasick pass over all texts) in spans that come causally after the origin, plus the trace's
final output wherever it sits. Each carrier is classified:

- ``agents``: a span of another agent takes it in (input messages, memory reads, tool arguments) or
  restates it: the claim crossed an agent boundary and is now treated as fact;
- ``memory``: a memory write stores it (shared state: any later reader inherits it);
- ``side_effects``: it is an argument of a side-effecting tool call (send, book, pay, write,
  delete, ...), either as executed (``execute_tool`` span) or as requested by a model;
- ``final_output``: the trace's final output (the root span's output, else the last authored
  output) states it;
- ``verified_by``: a verification step (verifier/checker/critic/judge agent, span or tool) saw it,
  and ``passed`` tells whether it let it through (its output holds no rejection).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import ahocorasick  # type: ignore[import-not-found,unused-ignore]

from analysis.detectors.hallucination.grounding import Ungrounded
from analysis.detectors.hallucination.ledger import Ledger, Occurrence
from analysis.detectors.hallucination.numbers import same_quantity
from analysis.detectors.hallucination.texts import MEMORY_WRITE_OPS, TOOL_OPS, TextUnit
from analysis.detectors.hallucination.vocabulary import (
    READ_ONLY_VERBS,
    REJECTION_PHRASES,
    SIDE_EFFECT_VERBS,
    VERIFIER_WORDS,
)
from analysis.happens_before import handoff_target
from analysis.model import Severity


@dataclass
class Reach:
    """Where one ungrounded claim went. Lists are span ids in happens-before order."""

    carriers: list[Occurrence] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)  # other agents that took it in
    agent_spans: list[str] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    side_effects: list[dict[str, Any]] = field(default_factory=list)  # {"span_id", "tool"}
    tool_calls: list[str] = field(default_factory=list)  # every tool call carrying it
    final_output: list[str] = field(default_factory=list)
    verified_by: list[dict[str, Any]] = field(default_factory=list)  # {"span_id", "agent", "passed"}
    answer: bool = False  # the final output is this claim and nothing else

    @property
    def propagated(self) -> bool:
        return bool(self.agents or self.memory or self.side_effects or self.final_output)

    def span_ids(self) -> list[str]:
        ids = [*self.agent_spans, *self.memory, *(s["span_id"] for s in self.side_effects), *self.tool_calls]
        ids += [*self.final_output, *(v["span_id"] for v in self.verified_by)]
        return list(dict.fromkeys(ids))


def final_output_spans(ledger: Ledger) -> list[str]:
    """Spans whose output is the trace's answer: the roots' authored outputs; without one, the
    outermost agent spans' outputs (the answer of the agent the trace ran) and the last authored
    output in the trace."""

    def authored(sid: str) -> bool:
        return any(u.emitted and u.field == "output_messages" for u in ledger.units.get(sid, ()))

    spans = ledger.spans
    roots = [s for s, i in spans.items() if i.parent_span_id is None or i.parent_span_id not in spans]
    # a root that a link makes the effect of another span (a sub-agent in another service) answers
    # its caller, not the user
    linked = _link_effects(ledger)
    roots = [s for s in roots if s not in linked] or roots
    finals = [s for s in roots if authored(s)]
    if finals:
        return finals
    outermost = [
        s for s, i in spans.items()
        if i.operation == "invoke_agent" and authored(s) and not _has_agent_ancestor(ledger, s)
    ]  # fmt: skip
    candidates = [s for s in spans if authored(s)]
    if candidates:
        last = max(candidates, key=lambda s: (spans[s].end_ns, ledger.position.get(s, 0)))
        outermost += [] if last in outermost else [last]
    return outermost


def _link_effects(ledger: Ledger) -> set[str]:
    links = ledger.trace.links
    if links.height == 0 or "span_id" not in links.columns:
        return set()
    return {str(s) for s in links["span_id"].to_list() if s is not None}


def _has_agent_ancestor(ledger: Ledger, span_id: str) -> bool:
    seen = {span_id}
    parent = ledger.spans[span_id].parent_span_id
    while parent is not None and parent in ledger.spans and parent not in seen:
        if ledger.spans[parent].operation == "invoke_agent":
            return True
        seen.add(parent)
        parent = ledger.spans[parent].parent_span_id
    return False


def _tokens_of_name(name: str | None) -> list[str]:
    if not name:
        return []
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def is_side_effecting(tool: str | None) -> bool:
    """A tool whose name says it changes the world: its verb is a write verb, and no read verb
    leads (``send_email`` yes, ``get_sent_emails`` no). Hand-offs are not side effects."""
    if not tool or handoff_target(tool) is not None:
        return False
    words = _tokens_of_name(tool)
    if not words:
        return False
    if words[0] in READ_ONLY_VERBS:
        return False
    return words[0] in SIDE_EFFECT_VERBS or any(w in SIDE_EFFECT_VERBS for w in words[1:])


def is_verifier(ledger: Ledger, span_id: str) -> bool:
    info = ledger.spans[span_id]
    for name in (info.agent, info.name, info.tool_name):
        for w in _tokens_of_name(name):
            if any(w == v if len(v) <= 2 else w.startswith(v) for v in VERIFIER_WORDS):
                return True
    return False


class CarrierIndex:
    """Finds the carriers of many claims at once. Names and quotations go through one
    Aho-Corasick automaton over the lowercased texts (O(total text + hits)); everything else
    through the ledger's key index and quantity list."""

    def __init__(self, ledger: Ledger, claims: list[Ungrounded]) -> None:
        self.ledger = ledger
        self.verifiers = frozenset(s for s in ledger.spans if is_verifier(ledger, s))
        self._phrases: dict[str, list[tuple[TextUnit, int, int, str]]] = defaultdict(list)
        phrases = {" ".join(u.claim.tokens) for u in claims if u.claim.tokens}
        if not phrases:
            return
        automaton = ahocorasick.Automaton()
        for p in phrases:
            automaton.add_word(p, p)
        automaton.make_automaton()
        for units in ledger.units.values():
            for unit in units:
                # match on the word sequence ("Honolulu, Quincy" carries "honolulu quincy"),
                # mapped back to the unit's own character offsets
                spans = [(m.start(), m.end()) for m in _ASCII_WORD.finditer(unit.text)]
                if not spans:
                    continue
                norm = " ".join(unit.text[a:b].lower() for a, b in spans)
                token_at: dict[int, int] = {}
                pos = 0
                for i, (a, b) in enumerate(spans):
                    token_at[pos] = i
                    pos += b - a + 1
                for end, phrase in automaton.iter(norm):
                    first = token_at.get(end - len(phrase) + 1)
                    last_end = end + 1
                    if first is None or (last_end < len(norm) and norm[last_end] != " "):
                        continue
                    last = first + phrase.count(" ")
                    start, stop = spans[first][0], spans[last][1]
                    self._phrases[phrase].append((unit, start, stop, unit.text[start:stop]))

    def carriers(self, u: Ungrounded) -> list[Occurrence]:
        out: dict[tuple[str, str, int | None, int | None, int], Occurrence] = {}

        def keep(occ: Occurrence) -> None:
            u_ = occ.unit
            out.setdefault((u_.span_id, u_.field, u_.message, u_.part, occ.claim.start), occ)

        claim = u.claim
        for key in claim.keys:
            for occ in self.ledger.by_cover.get(key, ()):
                keep(occ)
        if claim.quantity is not None:
            for occ in self.ledger.quantities:
                q = occ.claim.quantity
                if q is not None and not q.bare and same_quantity(claim.quantity, q):
                    keep(occ)
        if claim.tokens:
            for unit, start, end, text in self._phrases.get(" ".join(claim.tokens), ()):
                # the same words already found as a claim ("Dr. Priya Natarajan" ⊃ "Priya Natarajan")
                if any(
                    o.unit is unit and o.claim.start <= start and end <= o.claim.end for o in out.values()
                ):
                    continue
                keep(Occurrence(unit, replace(claim, text=text, start=start, end=end)))
        return list(out.values())


_ASCII_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)


def _words_of(text: str) -> list[str]:
    return [w.lower() for w in _ASCII_WORD.findall(text)]


def reach(ledger: Ledger, u: Ungrounded, index: CarrierIndex, finals: list[str]) -> Reach:
    """Classify every carrier of ``u`` (see the module docstring)."""
    origin = u.origin
    origin_agent = ledger.agent(origin)
    r = Reach()
    verifier_seen: dict[str, dict[str, Any]] = {}
    for occ in sorted(index.carriers(u), key=lambda o: ledger.position.get(o.span_id, 0)):
        sid, unit = occ.span_id, occ.unit
        info = ledger.spans[sid]
        if (
            sid in finals
            and unit.field == "output_messages"
            and (sid == origin or ledger.after(origin, sid) or ledger.is_descendant(origin, sid))
        ):
            _add(r.final_output, sid)
            r.answer = r.answer or _words_of(unit.text) == _words_of(u.claim.text)
        if sid == origin:
            # the model itself asked for the action
            if (
                unit.tool
                and is_side_effecting(unit.tool)
                and all(x["span_id"] != sid for x in r.side_effects)
            ):
                r.side_effects.append({"span_id": sid, "tool": unit.tool})
            continue
        if not ledger.after(origin, sid):
            continue
        r.carriers.append(occ)
        agent = info.agent
        if unit.field == "tool_arguments" and (info.operation in TOOL_OPS or info.tool_name):
            _add(r.tool_calls, sid)
            if is_side_effecting(info.tool_name) and all(s["span_id"] != sid for s in r.side_effects):
                r.side_effects.append({"span_id": sid, "tool": info.tool_name})
        elif unit.tool and is_side_effecting(unit.tool) and all(s["span_id"] != sid for s in r.side_effects):
            r.side_effects.append({"span_id": sid, "tool": unit.tool})
        if unit.field == "memory_records" and info.operation in MEMORY_WRITE_OPS:
            _add(r.memory, sid)
        if agent is not None and agent != origin_agent:
            _add(r.agents, agent)
            _add(r.agent_spans, sid)
        seen_key = agent if agent is not None else sid  # one verdict per verifying agent
        if unit.io == "input" and seen_key not in verifier_seen and sid in index.verifiers:
            verifier_seen[seen_key] = {"span_id": sid, "agent": agent, "passed": not _rejects(ledger, sid)}
    r.verified_by = list(verifier_seen.values())
    return r


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _rejects(ledger: Ledger, span_id: str) -> bool:
    """The verification step's own output (or, for an agent span, its descendants') rejects."""
    texts = [u.text for u in ledger.units.get(span_id, ()) if u.io == "output"]
    for sid, info in ledger.spans.items():
        if ledger.is_descendant(sid, span_id) or (
            info.agent is not None and info.agent == ledger.agent(span_id) and ledger.after(span_id, sid)
        ):
            texts += [u.text for u in ledger.units.get(sid, ()) if u.io == "output"]
    low = " ".join(texts).lower()
    return any(p in low for p in REJECTION_PHRASES)


def severity(r: Reach) -> Severity:
    """Reach and consequence: a claim that drove an action or reached the answer is high, and
    critical when both, or when a verification step passed it; one that a verifier caught before it
    reached either is low; otherwise (other agents, shared memory) medium."""
    passed = any(v["passed"] for v in r.verified_by)
    caught = bool(r.verified_by) and not passed
    consequential = bool(r.side_effects) or bool(r.final_output)
    if (r.side_effects and r.final_output) or (consequential and passed):
        return "critical"
    if consequential:
        return "high"
    if caught:
        return "low"
    return "medium" if len(r.agents) < 2 and not passed else "high"
