"""The reasoning chain: one ``Step`` per GenAI span of a trace, in causal order (see
``dashboard.data.trace.step_rows``), each knowing which findings start at it or pass through it and
where the claims of hallucination findings appear in it.

``ChainIndex`` is built once per trace in O(spans + findings) and holds only row numbers and the
findings maps; ``Step`` objects are made for the page being shown (a 30,000-span trace has
~30,000 steps, and a page shows 25).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from dashboard.data.findings import FindingView, Occurrence, occurrences
from dashboard.data.trace import TraceTree, step_rows


@dataclass(frozen=True)
class Step:
    index: int  # 1-based position in the whole chain
    row: int
    span_id: str
    agent: str | None
    operation: str
    name: str
    depth: int
    offset_ms: float
    duration_ms: float
    error: bool
    status_message: str | None
    error_type: str | None
    model: str | None
    tool_name: str | None
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_creation_tokens: int | None
    origin_of: tuple[FindingView, ...]  # findings whose origin is this span
    involved_in: tuple[FindingView, ...]  # findings that list this span (not as origin)
    occurrences: tuple[Occurrence, ...]  # claim occurrences in this span's fields


@dataclass(frozen=True)
class ChainIndex:
    """The chain of one trace as row numbers (``rows``, causal order) plus the findings by span."""

    tree: TraceTree
    rows: list[int]
    origin: dict[str, list[FindingView]]
    involved: dict[str, list[FindingView]]
    occurrences: dict[str, list[Occurrence]]
    claims: dict[str, list[Occurrence]]  # finding id -> one occurrence per distinct claim text

    def __len__(self) -> int:
        return len(self.rows)

    def flagged(self, row: int) -> bool:
        sid = self.tree.columns["span_id"][row]
        return sid in self.origin or sid in self.involved or self.tree.columns["status_code"][row] == 2

    def positions(self, agents: Collection[str] = (), flagged_only: bool = False) -> list[int]:
        """Positions in ``rows`` of the steps of ``agents`` (all when empty), only flagged ones if asked."""
        agent_of = self.tree.columns["resolved_agent_name"]
        wanted = set(agents)
        return [
            i
            for i, row in enumerate(self.rows)
            if (not wanted or agent_of[row] in wanted) and (not flagged_only or self.flagged(row))
        ]

    def position_of(self, span_id: str) -> int | None:
        row = self.tree.row_of.get(span_id)
        if row is None:
            return None
        pos = self.tree.position[row]
        # rows are in DFS order: bisect on the DFS position
        lo, hi = 0, len(self.rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.tree.position[self.rows[mid]] < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self.rows) and self.rows[lo] == row else None

    def steps(self, positions: Sequence[int]) -> list[Step]:
        """The ``Step``s at ``positions`` (e.g. one page)."""
        return [self._step(i) for i in positions]

    def _step(self, i: int) -> Step:
        tree, row = self.tree, self.rows[i]
        c = tree.columns
        sid = c["span_id"][row]
        start = c["start_ns"][row] or tree.start_ns
        end = c["end_ns"][row] or start
        own = self.occurrences.get(sid, [])
        listed = {(o.finding_id, o.text.lower()) for o in own}
        # a claim is also searched in steps the detector did not list (a memory write, a later
        # turn): the detector's list says where it looked, the text may have travelled further
        inferred = [
            Occurrence(fid, sid, None, o.text, None, None, origin=False, located=False)
            for fid, claims in self.claims.items()
            for o in claims
            if (fid, o.text.lower()) not in listed
        ]
        return Step(
            index=i + 1,
            row=row,
            span_id=sid,
            agent=c["resolved_agent_name"][row],
            operation=c["operation"][row] or "span",
            name=c["name"][row] or "",
            depth=tree.depth[row],
            offset_ms=(start - tree.start_ns) / 1e6,
            duration_ms=max(end - start, 0) / 1e6,
            error=c["status_code"][row] == 2,
            status_message=c["status_message"][row],
            error_type=c["error_type"][row],
            model=c["response_model"][row] or c["request_model"][row],
            tool_name=c["tool_name"][row],
            input_tokens=c["input_tokens"][row],
            output_tokens=c["output_tokens"][row],
            cache_read_tokens=c["cache_read_tokens"][row],
            cache_creation_tokens=c["cache_creation_tokens"][row],
            origin_of=tuple(self.origin.get(sid, ())),
            involved_in=tuple(self.involved.get(sid, ())),
            occurrences=(*own, *inferred),
        )


def chain_index(tree: TraceTree, findings: Sequence[FindingView]) -> ChainIndex:
    """The chain of ``tree`` with ``findings`` placed on it, O(spans + findings' span lists)."""
    origin: dict[str, list[FindingView]] = {}
    involved: dict[str, list[FindingView]] = {}
    occ: dict[str, list[Occurrence]] = {}
    claims: dict[str, list[Occurrence]] = {}
    for f in findings:
        if f.origin_span_id:
            origin.setdefault(f.origin_span_id, []).append(f)
        touched = {sid for sid in f.span_ids if sid != f.origin_span_id}
        for o in occurrences(f):
            texts = claims.setdefault(f.finding_id, [])
            if all(t.text.lower() != o.text.lower() for t in texts):
                texts.append(o)
            occ.setdefault(o.span_id, []).append(o)
            if o.span_id != f.origin_span_id:
                touched.add(o.span_id)
        for sid in sorted(touched):
            involved.setdefault(sid, []).append(f)
    rows = step_rows(tree)
    # spans named by findings are shown even when they are not GenAI operations
    flagged_rows = {tree.row_of[s] for s in (*origin, *involved) if s in tree.row_of}
    if not flagged_rows.issubset(rows):
        keep = set(rows) | flagged_rows
        rows = [r for r in tree.order if r in keep]
    return ChainIndex(tree=tree, rows=rows, origin=origin, involved=involved, occurrences=occ, claims=claims)


def build_chain(tree: TraceTree, findings: Sequence[FindingView]) -> list[Step]:
    """Every step of the trace (convenient for small traces and tests; pages use ``ChainIndex``)."""
    index = chain_index(tree, findings)
    return index.steps(range(len(index)))
