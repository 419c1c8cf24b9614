"""The causal graph's vector clocks answer ``precedes`` exactly like reachability does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.detectors.causal.graph import build_graph


def reachable(n: int, edges: set[tuple[int, int]]) -> list[set[int]]:
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
    out = []
    for s in range(n):
        seen: set[int] = set()
        stack = list(succ[s])
        while stack:
            v = stack.pop()
            if v not in seen:
                seen.add(v)
                stack.extend(succ[v])
        out.append(seen)
    return out


dags = st.integers(2, 24).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] < e[1]),
            max_size=3 * n,
        ),
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] < e[1]), max_size=n
        ),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n),
    )
)


@settings(max_examples=100, deadline=None)
@given(dags)
def test_vector_clocks_match_reachability(
    dag: tuple[int, set[tuple[int, int]], set[tuple[int, int]], list[str]],
) -> None:
    n, structural, reads_from, actors = dag
    graph = build_graph(
        [f"{i:016x}" for i in range(n)], list(range(n)), structural, reads_from, dict(enumerate(actors))
    )
    assert graph.cycles == []
    full = reachable(n, structural | reads_from)
    struct = reachable(n, structural)
    for a in range(n):
        for b in range(n):
            assert graph.precedes(a, b) == (b in full[a])
            assert graph.precedes(a, b, full=False) == (b in struct[a])


def test_a_read_from_the_future_closes_a_cycle_and_is_dropped() -> None:
    # 0 → 1 (program order), 2 → 3; 3 reads from 0's... future: 1 is read by 2, 3 is read by 0.
    graph = build_graph(
        [f"{i:016x}" for i in range(4)], [0, 10, 20, 30], {(0, 1), (2, 3)}, {(1, 2), (3, 0)}, {}
    )
    [cycle] = graph.cycles
    assert (cycle.read, cycle.write) == (0, 3)
    assert set(cycle.path) == {0, 1, 2, 3}
    assert graph.dropped_reads == {(3, 0)}


def test_elle_names_a_write_cycle_g0() -> None:
    """Two agents write x and y in opposite version orders: a ww cycle, Adya's G0."""
    from analysis.detectors.causal.elle import Elle
    from analysis.detectors.causal.pipeline import build_history
    from tests.detectors.causal.memkit import TraceSpec, mem

    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("alpha", 10, 300, root)
    b = s.agent("beta", 11, 300, root)
    mem(s, a, "upsert_memory", "x", "a", 20, 22, version=1)
    mem(s, b, "upsert_memory", "y", "b", 21, 23, version=1)
    mem(s, b, "upsert_memory", "x", "b", 30, 32, version=2)
    mem(s, a, "upsert_memory", "y", "a", 31, 33, version=2)
    h = build_history(s.trace())
    assert h is not None
    anomaly = Elle(h).explain(range(len(h.ops)))
    assert anomaly is not None and anomaly.name == "G0"
    assert {step["type"] for step in anomaly.steps} == {"ww"}
