"""Agent resolution: the pure walk (hypothesis against a naive reference) and through the store,
with late ancestors, cycles and a 100k-deep chain."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from store.agents import Agent, resolve_agents
from store.api import IngestBatch
from store.ingest import conform_batch
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows


def _naive(span_ids: list[str], parents: list[str | None], own: list[Agent | None]) -> list[Agent | None]:
    index = {s: i for i, s in enumerate(span_ids)}
    out: list[Agent | None] = []
    for i in range(len(span_ids)):
        seen: set[int] = set()
        j: int | None = i
        found: Agent | None = None
        while j is not None and j not in seen:
            seen.add(j)
            if own[j] is not None:
                found = own[j]
                break
            p = parents[j]
            j = index.get(p) if p is not None else None
        out.append(found)
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.one_of(st.none(), st.integers(0, n + 3)), min_size=n, max_size=n),
            st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])), min_size=n, max_size=n),
        )
    )
)
def test_matches_naive_walk_on_any_parent_graph(case: tuple[int, list[int | None], list[str | None]]) -> None:
    """Random parent pointers (including self-loops, cycles and missing parents)."""
    n, parents, names = case
    ids = [f"s{i}" for i in range(n)]
    parent_ids = [f"s{p}" if p is not None else None for p in parents]
    own: list[Agent | None] = [(None, a) if a else None for a in names]
    assert resolve_agents(ids, parent_ids, own) == _naive(ids, parent_ids, own)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # trace
            st.one_of(st.none(), st.integers(0, 24)),  # parent (by span number; may be missing)
            st.one_of(st.none(), st.sampled_from(["a", "b"])),  # own agent id
            st.one_of(st.none(), st.sampled_from(["A", "B"])),  # own agent name
        ),
        min_size=1,
        max_size=20,
    )
)
def test_a_batch_resolves_as_its_traces_walked_one_by_one(
    rows: list[tuple[int, int | None, str | None, str | None]],
) -> None:
    """``resolve_batch_agents`` (Arrow for spans that name their agent, a walk for the traces
    that hold one that does not) against ``resolve_agents`` on each trace."""
    spans = pa.table(
        {
            "trace_id": [f"{t:032x}" for t, _, _, _ in rows],
            "span_id": [f"{i:016x}" for i in range(len(rows))],
            "parent_span_id": [None if p is None else f"{p:016x}" for _, p, _, _ in rows],
            "agent_id": [a for _, _, a, _ in rows],
            "agent_name": [n for _, _, _, n in rows],
        }
    )
    batch = conform_batch(IngestBatch(spans=spans))
    got = list(
        zip(
            batch.spans.column("resolved_agent_id").to_pylist(),
            batch.spans.column("resolved_agent_name").to_pylist(),
            strict=True,
        )
    )
    expected: list[tuple[str | None, str | None]] = [(None, None)] * len(rows)
    for trace in {t for t, _, _, _ in rows}:
        members = [i for i, r in enumerate(rows) if r[0] == trace]
        own: list[Agent | None] = [
            (rows[i][2], rows[i][3]) if rows[i][2] is not None or rows[i][3] is not None else None
            for i in members
        ]
        resolved = resolve_agents(
            [f"{i:016x}" for i in members],
            [None if rows[i][1] is None else f"{rows[i][1]:016x}" for i in members],
            own,
        )
        for i, agent in zip(members, resolved, strict=True):
            if agent is not None:
                expected[i] = agent
    assert got == expected


def test_known_resolutions_stop_the_walk() -> None:
    ids, parents = ["a", "b", "c"], [None, "a", "b"]
    own: list[Agent | None] = [None, None, None]
    known: list[Agent | None] = [None, ("id", "cached"), None]
    assert resolve_agents(ids, parents, own, known) == [None, ("id", "cached"), ("id", "cached")]


def test_hundred_thousand_deep_chain_resolves_without_recursion() -> None:
    n = 100_000
    ids = [str(i) for i in range(n)]
    parents = [None, *ids[:-1]]
    own: list[Agent | None] = [("r", "root-agent"), *([None] * (n - 1))]
    result = resolve_agents(ids, parents, own)
    assert result[-1] == ("r", "root-agent") and result.count(None) == 0


def test_deep_chain_and_cycle_through_the_store(writer: DuckStoreWriter) -> None:
    n = 100_000
    deep = span_rows(n, trace="0d" * 16, agent_name=["top", *([None] * (n - 1))])
    cycle_ids = ["00000000000000c1", "00000000000000c2", "00000000000000c3"]
    cycle = span_rows(
        3, trace="0c" * 16, parents=[cycle_ids[2], cycle_ids[0], cycle_ids[1]], span_id=cycle_ids
    )
    # one cycle member's child has its own agent: it resolves, the cycle does not
    leaf = span_rows(
        1, trace="0c" * 16, parents=[cycle_ids[0]], span_id=["00000000000000c4"], agent_name=["x"]
    )
    writer.write(IngestBatch(spans=deep))
    writer.write(IngestBatch(spans=pa.concat_tables([cycle, leaf], promote_options="default")))
    writer.sync()
    r = writer.reader()
    deep_agents = r.query(
        "SELECT count(*) AS n FROM spans WHERE trace_id = ? AND resolved_agent_name = 'top'", ["0d" * 16]
    )
    assert deep_agents.column("n")[0].as_py() == n
    got = r.query("SELECT span_id, resolved_agent_name FROM spans WHERE trace_id = ? ORDER BY 1", ["0c" * 16])
    assert got.column("resolved_agent_name").to_pylist() == [None, None, None, "x"]
    row = r.query("SELECT span_count, orphan_count, root_span_id FROM traces WHERE trace_id = ?", ["0c" * 16])
    assert row.to_pylist() == [{"span_count": 4, "orphan_count": 0, "root_span_id": cycle_ids[0]}]


def test_late_ancestor_across_many_batches(writer: DuckStoreWriter) -> None:
    """Leaves arrive batch by batch (each re-resolved while still unresolved), the agent last."""
    n = 50
    ids = [f"{i + 1:016x}" for i in range(n)]
    for i in range(n - 1, 0, -1):
        writer.write(IngestBatch(spans=span_rows(1, parents=[ids[i - 1]], span_id=[ids[i]])))
    writer.sync()
    assert writer.reader().query("SELECT count(resolved_agent_name) FROM spans").column(0)[0].as_py() == 0
    writer.write(IngestBatch(spans=span_rows(1, span_id=[ids[0]], agent_name=["late"], agent_id=["L"])))
    writer.sync()
    rows = (
        writer.reader().query("SELECT DISTINCT resolved_agent_id, resolved_agent_name FROM spans").to_pylist()
    )
    assert rows == [{"resolved_agent_id": "L", "resolved_agent_name": "late"}]
