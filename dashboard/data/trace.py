"""One trace, prepared for the trace page: the span tree, the waterfall rows and the step list.

Everything here is linear in the number of spans (a 30,000-span trace must stay usable): the tree is
built from one parent index in one pass, walked iteratively (no recursion limit, cycles cut), and
heavy content columns (messages, tool payloads) are never loaded for the whole trace — only for the
spans a page shows (``load_content``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from store.api import StoreReader

#: columns of the skeleton: everything but the large text payloads
SKELETON_COLUMNS = (
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "duration_ns",
    "status_code",
    "status_message",
    "service_name",
    "operation",
    "provider",
    "request_model",
    "response_model",
    "agent_name",
    "resolved_agent_name",
    "tool_name",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "error_type",
    "memory_store_id",
    "memory_record_id",
    "memory_version",
)

#: columns loaded per visible span only
CONTENT_COLUMNS = (
    "system_instructions",
    "input_messages",
    "output_messages",
    "reasoning",
    "tool_arguments",
    "tool_result",
    "tool_definitions",
    "memory_records",
    "db_query_text",
    "finish_reasons",
    "attributes",
)

MEMORY_WRITES = frozenset({"create_memory", "update_memory", "upsert_memory", "delete_memory"})
MEMORY_READS = frozenset({"search_memory"})
#: operations that are steps of the reasoning chain (what an agent saw, thought, called and said)
STEP_OPERATIONS = frozenset(
    {
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
        "chat",
        "text_completion",
        "generate_content",
        "execute_tool",
        "retrieval",
        "embeddings",
        *MEMORY_WRITES,
        *MEMORY_READS,
    }
)


@dataclass(frozen=True)
class TraceTree:
    """The skeleton of one trace in depth-first order (parents before children, siblings by start).

    ``columns`` holds the skeleton columns as Python lists indexed by row; ``order`` is the DFS
    order of rows, ``depth[row]`` the depth, ``parent_row[row]`` the parent's row (-1 for roots,
    which include orphans whose parent is not stored; ``orphans`` counts those)."""

    trace_id: str
    columns: dict[str, list[Any]]
    order: list[int]
    depth: list[int]
    parent_row: list[int]
    row_of: dict[str, int]
    orphans: int
    start_ns: int
    end_ns: int
    position: list[int] = field(default_factory=list)  # row -> its index in ``order``
    subtree_end: list[int] = field(default_factory=list)  # row -> index in ``order`` after its subtree

    def __len__(self) -> int:
        return len(self.order)

    def value(self, column: str, row: int) -> Any:
        return self.columns[column][row]


def load_skeleton(reader: StoreReader, trace_id: str) -> pa.Table:
    """The skeleton columns of every span of ``trace_id``, by start time."""
    cols = ", ".join(SKELETON_COLUMNS)
    return reader.query(f"SELECT {cols} FROM spans WHERE trace_id = ? ORDER BY start_ns, span_id", [trace_id])


def build_tree(trace_id: str, table: pa.Table) -> TraceTree:
    """The DFS-ordered tree of a skeleton table (``load_skeleton``), in O(n)."""
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    ids: list[str] = columns["span_id"]
    parents: list[str | None] = columns["parent_span_id"]
    n = len(ids)
    row_of = {sid: i for i, sid in enumerate(ids)}
    parent_row = [-1] * n
    children: list[list[int]] = [[] for _ in range(n)]
    roots: list[int] = []
    orphans = 0
    for i in range(n):  # rows are sorted by start, so children lists come out sorted by start too
        p = parents[i]
        j = row_of.get(p, -1) if p else -1
        if j < 0 or j == i:
            roots.append(i)
            orphans += 1 if p else 0
        else:
            parent_row[i] = j
            children[j].append(i)
    order: list[int] = []
    depth = [0] * n
    subtree_end = [0] * n
    seen = [False] * n

    def walk(root: int) -> None:
        # iterative DFS; a (start-marker, row) stack records where each subtree ends
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:
            row, done = stack.pop()
            if done:
                subtree_end[row] = len(order)
                continue
            if seen[row]:
                continue
            seen[row] = True
            order.append(row)
            stack.append((row, True))
            for child in reversed(children[row]):
                if not seen[child]:
                    depth[child] = depth[row] + 1
                    stack.append((child, False))

    for root in roots:
        walk(root)
    # spans on a parent cycle are reachable from no root: show them as roots, the cycle cut
    for i in range(n):
        if not seen[i]:
            parent_row[i] = -1
            depth[i] = 0
            walk(i)
    position = [0] * n
    for pos, row in enumerate(order):
        position[row] = pos
    starts = [s for s in columns["start_ns"] if s is not None]
    ends = [e for e in columns["end_ns"] if e is not None]
    return TraceTree(
        trace_id=trace_id,
        columns=columns,
        order=order,
        depth=depth,
        parent_row=parent_row,
        row_of=row_of,
        orphans=orphans,
        start_ns=min(starts) if starts else 0,
        end_ns=max(ends) if ends else 0,
        position=position,
        subtree_end=subtree_end,
    )


@dataclass(frozen=True)
class WaterfallRow:
    row: int
    span_id: str
    label: str
    depth: int
    offset_ms: float
    duration_ms: float
    agent: str | None
    operation: str | None
    error: bool


def waterfall_rows(
    tree: TraceTree, offset: int = 0, limit: int = 200, max_depth: int | None = None, focus: str | None = None
) -> tuple[list[WaterfallRow], int]:
    """A page of waterfall rows in DFS order and the number of rows in all pages.

    ``max_depth`` collapses everything deeper; ``focus`` (a span id) restricts the rows to that
    span's subtree. Cost is O(rows shown) after an O(n) filter only when ``max_depth`` is set."""
    positions: Sequence[int]
    order = tree.order
    if focus is not None and focus in tree.row_of:
        frow = tree.row_of[focus]
        positions = range(tree.position[frow], tree.subtree_end[frow])
    else:
        positions = range(len(order))
    if max_depth is not None:
        base = tree.depth[order[positions[0]]] if len(positions) else 0
        positions = [p for p in positions if tree.depth[order[p]] - base <= max_depth]
    total = len(positions)
    rows = []
    for p in positions[offset : offset + limit]:
        r = order[p]
        start = tree.columns["start_ns"][r] or tree.start_ns
        end = tree.columns["end_ns"][r] or start
        rows.append(
            WaterfallRow(
                row=r,
                span_id=tree.columns["span_id"][r],
                label=tree.columns["name"][r] or "(unnamed)",
                depth=tree.depth[r],
                offset_ms=(start - tree.start_ns) / 1e6,
                duration_ms=max(end - start, 0) / 1e6,
                agent=tree.columns["resolved_agent_name"][r],
                operation=tree.columns["operation"][r],
                error=tree.columns["status_code"][r] == 2,
            )
        )
    return rows, total


def position_of(tree: TraceTree, span_id: str) -> int | None:
    """Where ``span_id`` sits in the DFS order (to open the page that shows it)."""
    row = tree.row_of.get(span_id)
    return None if row is None else tree.position[row]


def step_rows(tree: TraceTree) -> list[int]:
    """Rows of the reasoning chain's steps, in causal order: DFS order, which puts a parent before its
    children and an agent's sequential calls in program order. Plain (non-GenAI) spans are not steps."""
    ops = tree.columns["operation"]
    return [r for r in tree.order if ops[r] in STEP_OPERATIONS]


def load_content(reader: StoreReader, trace_id: str, span_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The content columns of the given spans (one page of steps), by span id."""
    if not span_ids:
        return {}
    marks = ", ".join("?" * len(span_ids))
    table = reader.query(
        f"SELECT span_id, {', '.join(CONTENT_COLUMNS)} FROM spans "
        f"WHERE trace_id = ? AND span_id IN ({marks})",
        [trace_id, *span_ids],
    )
    return {row["span_id"]: row for row in table.to_pylist()}


def load_events(
    reader: StoreReader, trace_id: str, span_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Span events (exceptions, GenAI events) of the given spans, by span id, in order."""
    if not span_ids:
        return {}
    marks = ", ".join("?" * len(span_ids))
    table = reader.query(
        f"SELECT span_id, idx, time_ns, name, attributes FROM span_events "
        f"WHERE trace_id = ? AND span_id IN ({marks}) ORDER BY span_id, idx",
        [trace_id, *span_ids],
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for row in table.to_pylist():
        out.setdefault(row["span_id"], []).append(row)
    return out


def load_links(reader: StoreReader, trace_id: str) -> list[tuple[str, str]]:
    """(span_id, linked_span_id) of the trace's links that point into the same trace."""
    table = reader.query(
        "SELECT span_id, linked_span_id FROM span_links WHERE trace_id = ? AND linked_trace_id = ?",
        [trace_id, trace_id],
    )
    return list(
        zip(table.column("span_id").to_pylist(), table.column("linked_span_id").to_pylist(), strict=True)
    )
