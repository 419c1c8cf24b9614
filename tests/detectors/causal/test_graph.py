"""The causal graph's vector clocks answer ``precedes`` exactly like reachability does, and like
the engine's happens-before (start/end events) on span trees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.detectors.causal.graph import build_graph
from analysis.happens_before import SpanGraph


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
    # Instantaneous spans and causal (non-parent) edges: events collapse to plain span reachability.
    edges = {(a, b, "link") for a, b in structural}
    times = list(range(n))
    graph = build_graph(
        [f"{i:016x}" for i in range(n)], times, times, edges, reads_from, dict(enumerate(actors))
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
    times = [0, 10, 20, 30]
    structural = {(0, 1, "program_order"), (2, 3, "program_order")}
    graph = build_graph([f"{i:016x}" for i in range(4)], times, times, structural, {(1, 2), (3, 0)}, {})
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


@st.composite
def span_forests(
    draw: st.DrawFn,
) -> tuple[list[int], list[int], list[tuple[int, int, str]], set[tuple[int, int]]]:
    """Spans with distinct, properly nested times (children inside their parent), parent edges,
    program order between spans that do not overlap, and links / reads-from forward in time: a
    consistent trace, so every event edge goes forward and nothing is cyclic."""
    n = draw(st.integers(2, 16))
    ticks = draw(st.permutations(range(2 * n)))
    starts, ends = [0] * n, [0] * n
    for i in range(n):
        a, b = ticks[2 * i], ticks[2 * i + 1]
        starts[i], ends[i] = min(a, b), max(a, b)
    edges: list[tuple[int, int, str]] = []
    for i in range(n):
        outer = [j for j in range(n) if starts[j] < starts[i] and ends[i] < ends[j]]
        nested: bool = draw(st.booleans())
        if outer and nested:
            edges.append((draw(st.sampled_from(outer)), i, "parent"))
    pairs = [(a, b) for a in range(n) for b in range(n) if starts[a] < starts[b]]
    rf: set[tuple[int, int]] = set()
    if pairs:
        for a, b in draw(st.lists(st.sampled_from(pairs), max_size=2 * n, unique=True)):
            kind = draw(st.sampled_from(["program_order", "link", "handoff", "reads_from"]))
            if kind == "reads_from":
                rf.add((a, b))
            elif kind != "program_order" or ends[a] < starts[b]:
                edges.append((a, b, kind))
    return starts, ends, edges, rf


@settings(max_examples=150, deadline=None)
@given(span_forests(), st.lists(st.sampled_from(["a", "b"]), min_size=16, max_size=16))
def test_vector_clocks_match_the_engine_on_span_trees(
    forest: tuple[list[int], list[int], list[tuple[int, int, str]], set[tuple[int, int]]], actors: list[str]
) -> None:
    """Including what only the return edges give: a child's end reaching its parent's successors."""
    starts, ends, edges, rf = forest
    n = len(starts)
    ids = [f"{i:016x}" for i in range(n)]
    graph = build_graph(ids, starts, ends, edges, rf, dict(enumerate(actors[:n])))
    assert graph.cycles == []
    struct = SpanGraph(ids, starts, ends, list(edges))
    full = SpanGraph(ids, starts, ends, [*edges, *((a, b, "reads_from") for a, b in rf)])
    for a in range(n):
        for b in range(n):
            assert graph.precedes(a, b) == full.precedes(ids[a], ids[b]), (a, b)
            assert graph.precedes(a, b, full=False) == struct.precedes(ids[a], ids[b]), (a, b)
            if graph.precedes(a, b):
                assert graph.pos[a] < graph.pos[b]


def test_a_sub_agents_work_reaches_what_its_caller_starts_after_it_returned() -> None:
    """caller(0) runs callee(1), which holds span 2; then, in program order, callee(3) holding 4."""
    starts, ends = [0, 10, 20, 60, 70], [100, 50, 30, 90, 80]
    edges = {(0, 1, "parent"), (1, 2, "parent"), (0, 3, "parent"), (3, 4, "parent"), (1, 3, "program_order")}
    graph = build_graph([f"{i:016x}" for i in range(5)], starts, ends, edges, set(), {2: "x", 4: "y"})
    assert graph.precedes(2, 4, full=False)
    assert not graph.precedes(4, 2)
    # Without the program-order edge the two callees overlap in nothing but their parent.
    graph = build_graph(
        [f"{i:016x}" for i in range(5)],
        starts,
        ends,
        edges - {(1, 3, "program_order")},
        set(),
        {2: "x", 4: "y"},
    )
    assert not graph.precedes(2, 4) and not graph.precedes(4, 2)


def test_a_child_that_starts_after_its_parent_ended_is_bad_data_not_a_cycle() -> None:
    """An async child recorded after its parent ended, plus program order parent → child: the
    structure is cyclic at the event level; it is repaired silently, the read still orders."""
    starts, ends = [0, 20, 30], [10, 25, 35]
    edges = {(0, 1, "parent"), (0, 1, "program_order"), (1, 2, "program_order")}
    graph = build_graph([f"{i:016x}" for i in range(3)], starts, ends, edges, {(1, 2)}, {1: "x", 2: "x"})
    assert graph.cycles == [] and graph.dropped_reads == set()
    assert graph.precedes(1, 2)
