"""The claim ledger of one trace: every claim of every text unit, indexed by what it says.

Built once per trace: each unit's text goes through ``extract_claims`` once, each claim is indexed
by the keys it covers. Every later question ("is this claim in that span's causal past?", "which
later spans carry it?") is then an index lookup plus a happens-before test per occurrence, instead
of a rescan of the trace's text.

``Scope`` answers "is span p part of what span s could have read": p is s itself (input side), a
span that happens before s, or a descendant of s (a wrapper span's output is written after its
children ran). Descendants are tested in O(1) with Euler-tour intervals of the parent tree.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from analysis.detectors.hallucination.claim import Claim
from analysis.detectors.hallucination.claims import extract_claims
from analysis.detectors.hallucination.texts import TextUnit, span_units
from analysis.messages import loads
from analysis.model import HappensBefore, Trace


@dataclass(frozen=True)
class Occurrence:
    unit: TextUnit
    claim: Claim

    @property
    def span_id(self) -> str:
        return self.unit.span_id

    def evidence(self) -> dict[str, Any]:
        """One entry of a finding's ``occurrences``."""
        return {
            **self.unit.location(),
            "start": self.claim.start,
            "end": self.claim.end,
            "text": self.claim.text,
        }


@dataclass(frozen=True)
class SpanInfo:
    span_id: str
    parent_span_id: str | None
    name: str
    operation: str | None
    tool_name: str | None
    agent: str | None
    start_ns: int
    end_ns: int
    row: Mapping[str, Any]


class Ledger:
    """Spans, their text units and claims, and the indexes over them, for one trace."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.hb: HappensBefore = trace.hb
        self.spans: dict[str, SpanInfo] = {}
        self.units: dict[str, list[TextUnit]] = {}
        self.claims: dict[str, list[Occurrence]] = defaultdict(list)  # span id → occurrences
        self.by_cover: dict[str, list[Occurrence]] = defaultdict(list)  # cover key → occurrences
        self.quantities: list[Occurrence] = []
        self.span_quantities: dict[str, list[Occurrence]] = defaultdict(list)
        self.token_spans: dict[str, set[str]] = defaultdict(set)  # word → spans whose text has it
        self.input_words: dict[str, set[str]] = defaultdict(set)  # span → words of its own inputs
        # conversation history repeats in every later model call: extract each distinct text once
        self._extracted: dict[tuple[str, bool], tuple[list[Claim], set[str]]] = {}
        self.order = list(self.hb.order())
        self.position = {s: i for i, s in enumerate(self.order)}
        for row in trace.spans.iter_rows(named=True):
            sid = row["span_id"]
            if sid is None or sid in self.spans:
                continue
            self.spans[sid] = SpanInfo(
                sid,
                row.get("parent_span_id"),
                row.get("name") or "",
                row.get("operation"),
                row.get("tool_name"),
                trace.agent_of.get(sid),
                row.get("start_ns") or 0,
                row.get("end_ns") or 0,
                row,
            )
            units = span_units(row)
            self.units[sid] = units
            for unit in units:
                self._index_unit(unit)
        for sid in self.spans:
            self.position.setdefault(sid, len(self.position))
        self.vocabulary = _system_vocabulary(self)
        # occurrences in happens-before order, so a reader's past is found next to its position
        pos = self.position
        for occs in self.by_cover.values():
            occs.sort(key=lambda o: pos.get(o.span_id, 0))
        self.ambient = _current_dates(self)
        self._tin, self._tout = _euler(self.spans)
        self._by_tin = sorted(self._tin, key=self._tin.__getitem__)

    def _index_unit(self, unit: TextUnit) -> None:
        cached = self._extracted.get((unit.text, unit.json_text))
        if cached is None:
            cached = (extract_claims(unit.text, json_text=unit.json_text), _words(unit.text))
            self._extracted[(unit.text, unit.json_text)] = cached
        claims, words = cached
        for claim in claims:
            occ = Occurrence(unit, claim)
            self.claims[unit.span_id].append(occ)
            for key in claim.covers:
                self.by_cover[key].append(occ)
            if claim.quantity is not None:
                self.quantities.append(occ)
                self.span_quantities[unit.span_id].append(occ)
        for word in words:
            self.token_spans[word].add(unit.span_id)
        if unit.io == "input" and not unit.emitted:
            self.input_words[unit.span_id] |= words

    # -- causal scope ------------------------------------------------------------------------------
    def is_descendant(self, child: str, ancestor: str) -> bool:
        a, c = self._tin.get(ancestor), self._tin.get(child)
        return a is not None and c is not None and a < c and self._tout[child] <= self._tout[ancestor]

    def visible(self, occ_span: str, occ_unit: TextUnit | None, reader: str) -> bool:
        """Could ``reader`` have read this text? Its own inputs, its ancestors' inputs (an ancestor's
        output is written after the reader ran), anything else in its causal past, and (for wrapper
        spans) anything its descendants saw or said. ``occ_unit`` None asks about the span's inputs."""
        if occ_span == reader or self.is_descendant(reader, occ_span):
            return occ_unit is None or (not occ_unit.emitted and occ_unit.io == "input")
        return self.hb.precedes(occ_span, reader) or self.is_descendant(occ_span, reader)

    def covering(self, key: str, reader: str) -> Iterable[Occurrence]:
        """Occurrences covering ``key``, nearest to ``reader`` first: backwards through its past,
        then forwards (descendants of a wrapper span come after it)."""
        occs = self.by_cover.get(key)
        if not occs:
            return
        here = self.position.get(reader, 0)
        cut = bisect.bisect_right(occs, here, key=lambda o: self.position.get(o.span_id, 0))
        for i in range(cut - 1, -1, -1):
            yield occs[i]
        yield from occs[cut:]

    def nearest_visible(self, reader: str, limit: int) -> list[str]:
        """Spans whose text ``reader`` could have read (``visible``), nearest first: the reader
        itself, its descendants, then its causal past walking back in topological order; at most
        ``limit`` spans (grounding by fuzzy match looks at the recent past, keeping it O(limit))."""
        out = [reader]
        lo, hi = self._tin.get(reader), self._tout.get(reader)
        if lo is not None and hi is not None:
            i = bisect.bisect_right(self._by_tin, lo, key=self._tin.__getitem__)
            while i < len(self._by_tin) and self._tin[self._by_tin[i]] < hi and len(out) < limit:
                out.append(self._by_tin[i])
                i += 1
        pos = min(self.position.get(reader, 0), len(self.order))
        for k in range(pos - 1, -1, -1):
            if len(out) >= limit:
                break
            sid = self.order[k]
            if self.hb.precedes(sid, reader) or self.is_descendant(reader, sid):
                out.append(sid)
        return out

    def after(self, origin: str, span_id: str) -> bool:
        """``span_id`` comes causally after ``origin`` (or, when the relation does not order them,
        later in the topological order and not an ancestor of it)."""
        if span_id == origin:
            return False
        if self.hb.precedes(origin, span_id):
            return True
        if self.hb.precedes(span_id, origin) or self.is_descendant(origin, span_id):
            return False
        return self.position.get(span_id, 0) > self.position.get(origin, 0)

    def words_visible(self, words: Iterable[str], reader: str) -> float:
        """Fraction of ``words`` that occur in text ``reader`` could have read (``visible``)."""
        words = list(words)
        if not words:
            return 1.0
        seen = 0
        for w in words:
            for sid in self.token_spans.get(w, ()):
                inputs_only = sid == reader or self.is_descendant(reader, sid)
                if (w in self.input_words[sid]) if inputs_only else self.visible(sid, None, reader):
                    seen += 1
                    break
        return seen / len(words)

    def agent(self, span_id: str) -> str | None:
        info = self.spans.get(span_id)
        return info.agent if info else None


def _current_dates(ledger: Ledger) -> frozenset[str]:
    """Date keys of the days the trace ran (and the day either side, for time zones): "today" is
    known to every agent without a source."""
    stamps = [i.start_ns for i in ledger.spans.values() if i.start_ns] + [
        i.end_ns for i in ledger.spans.values() if i.end_ns
    ]
    if not stamps:
        return frozenset()
    first = datetime.fromtimestamp(min(stamps) / 1e9, UTC).date() - timedelta(days=1)
    last = datetime.fromtimestamp(max(stamps) / 1e9, UTC).date() + timedelta(days=1)
    keys: set[str] = set()
    day = first
    while day <= last and len(keys) < 64:  # a trace spanning weeks gets no ambient dates beyond that
        keys |= {f"date:{day:%Y-%m-%d}", f"md:{day:%m-%d}", f"month:{day:%Y-%m}", f"year:{day:%Y}"}
        day += timedelta(days=1)
    return frozenset(keys)


def _system_vocabulary(ledger: Ledger) -> frozenset[str]:
    """Names the system itself defines: tools (declared, requested or executed), agents, memory
    keys, models and services. An agent naming another agent's tool, a peer agent or the model it
    runs on states configuration, not a fact."""
    names: set[str] = set()
    for sid, info in ledger.spans.items():
        row = info.row
        configured = ("agent_name", "memory_record_id", "request_model", "response_model", "service_name")
        names.update(n for n in (info.tool_name, info.agent, *(row.get(c) for c in configured)) if n)
        names.update(u.tool for u in ledger.units[sid] if u.tool)
        defs = loads(info.row.get("tool_definitions"))
        for d in defs if isinstance(defs, list) else []:
            fn = d.get("function") if isinstance(d, dict) else None
            name = d.get("name") if isinstance(d, dict) else None
            name = name or (fn.get("name") if isinstance(fn, dict) else None)
            if isinstance(name, str):
                names.add(name)
    return frozenset(n.lower() for n in names)


def _words(text: str) -> set[str]:
    out: set[str] = set()
    word: list[str] = []
    for ch in text.lower():
        if ch.isalnum():
            word.append(ch)
        elif word:
            out.add("".join(word))
            word = []
    if word:
        out.add("".join(word))
    return out


def _euler(spans: Mapping[str, SpanInfo]) -> tuple[dict[str, int], dict[str, int]]:
    """Entry/exit counters of an iterative DFS over the parent tree (cycle-safe: a span is
    entered once; spans on a parent cycle become roots)."""
    children: dict[str, list[str]] = defaultdict(list)
    roots: list[str] = []
    for sid, info in spans.items():
        parent = info.parent_span_id
        if parent is not None and parent in spans and parent != sid:
            children[parent].append(sid)
        else:
            roots.append(sid)
    tin: dict[str, int] = {}
    tout: dict[str, int] = {}
    clock = 0
    pending = list(spans)  # spans on a parent cycle are reachable from no root: enter them last
    for root in [*roots, *pending]:
        if root in tin:
            continue
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            sid, done = stack.pop()
            if done:
                tout[sid] = clock
                clock += 1
                continue
            if sid in tin:
                continue
            tin[sid] = clock
            clock += 1
            stack.append((sid, True))
            stack.extend((c, False) for c in children.get(sid, ()) if c not in tin)
    return tin, tout
