"""The most common orchestration shape: a coordinating agent calls one sub-agent that updates a
key and, after it returned, another that reads the key and gets the version before the update.
The write causally precedes the read through the coordinator's program order (the first call's
span ended before the coordinator started the second), so it is a ``stale_read``, not only a
real-time one, however deep the agents are nested, whichever services run them and whether or not a
hand-off tool runs in between. When the two sub-agents overlap, nothing orders them: at most a
``realtime_stale_read``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analysis.detectors.causal import CausalConsistency
from tests.detectors.causal.memkit import TraceSpec, handoff, mem

DETECT = CausalConsistency().detect
STORE = "fulfilment"
KEY = "order-8812"
OLD, NEW = {"state": "paid"}, {"state": "packed"}


def found(spec: TraceSpec) -> list[tuple[str, str]]:
    return [(f.kind, f.origin_span_id) for f in DETECT(spec.trace())]


@dataclass(frozen=True)
class Shape:
    depth: int  # agent levels from the coordinator down to the memory operation's agent (2 = child)
    services: bool  # every agent in its own service
    handoff: bool  # the coordinator runs transfer_to_<reader> between the two calls
    via: str = "rpc"  # each call: "direct" child span, "rpc" client span, "tool" (agent as a tool)
    concurrent: bool = False  # the two sub-agents overlap in time: nothing orders them


def names(prefix: str, depth: int) -> list[str]:
    return [prefix, *(f"{prefix}_{x}" for x in ("lead", "worker", "helper")[: depth - 2])]


def call_chain(
    s: TraceSpec, caller: str, service: str, chain: list[str], start: float, end: float, shape: Shape
) -> tuple[str, str]:
    """Nested sub-agent calls ``chain`` under ``caller``, each level 10 ms inside the one above.
    Returns the innermost agent span and its service."""
    parent = caller
    for level, name in enumerate(chain):
        lo, hi = start + 10 * level, end - 10 * level
        if shape.via == "rpc":
            parent = s.add(f"POST /agents/{name}", lo, hi, parent, kind=3, service_name=service)
        elif shape.via == "tool":
            parent = s.tool(f"ask_{name}", lo, hi, parent, arguments={"task": "next"}, service_name=service)
        if shape.via != "direct":
            lo, hi = lo + 2, hi - 2
        service = f"{name}-service" if shape.services else service
        parent = s.agent(name, lo, hi, parent, service_name=service)
    return parent, service


def orchestrated(shape: Shape, *, read_new: bool = False, seed: bool = True) -> tuple[TraceSpec, str]:
    """Coordinator ``dispatcher`` seeds version 3 (else it predates the trace), calls the
    ``packer`` chain (writes version 4), then the ``courier`` chain (reads 3, or 4)."""
    s = TraceSpec()
    boss_service = "dispatch-service" if shape.services else "crew"
    boss = s.agent("dispatcher", 0, 6000, service_name=boss_service)
    if seed:
        tool = s.tool("open_order", 10, 40, boss, service_name=boss_service)
        mem(s, tool, "create_memory", KEY, OLD, 20, 30, version=3, store=STORE)
    windows = ((100, 3000), (200, 4000)) if shape.concurrent else ((100, 1000), (1300, 2600))
    agent, service = call_chain(s, boss, boss_service, names("packer", shape.depth), *windows[0], shape)
    tool = s.tool("mark_packed", 400, 450, agent, service_name=service)
    mem(s, tool, "update_memory", KEY, NEW, 410, 430, version=4, store=STORE)
    if shape.handoff:
        handoff(s, boss, "courier", 1100)
    agent, service = call_chain(s, boss, boss_service, names("courier", shape.depth), *windows[1], shape)
    tool = s.tool("load_order", 1800, 1850, agent, service_name=service)
    value, version = (NEW, 4) if read_new else (OLD, 3)
    return s, mem(s, tool, "search_memory", KEY, value, 1810, 1830, version=version, store=STORE)


SEQUENTIAL = [
    Shape(d, services, hand, via)
    for d in (2, 3, 4)
    for services in (False, True)
    for hand in (False, True)
    for via in ("direct", "rpc", "tool")
]


@pytest.mark.parametrize("shape", SEQUENTIAL, ids=repr)
def test_a_sub_agent_reading_after_its_sibling_returned_is_a_stale_read(shape: Shape) -> None:
    spec, read = orchestrated(shape)
    [finding] = DETECT(spec.trace())
    assert (finding.kind, finding.origin_span_id) == ("stale_read", read)
    assert finding.evidence["path"] == "structural"
    assert finding.evidence["newer_write"]["version"] == "4"
    # reader, newer writer, then the observed write's author
    assert finding.agents[:2] == (names("courier", shape.depth)[-1], names("packer", shape.depth)[-1])


@pytest.mark.parametrize("shape", SEQUENTIAL, ids=repr)
def test_the_same_orchestration_reading_the_new_version_is_clean(shape: Shape) -> None:
    spec, _ = orchestrated(shape, read_new=True)
    assert found(spec) == []


@pytest.mark.parametrize("shape", [SEQUENTIAL[0], SEQUENTIAL[-1]], ids=repr)
def test_a_version_from_before_the_trace_is_stale_not_thin_air(shape: Shape) -> None:
    """Nobody in the trace wrote version 3, but the store was at version 3 when the trace began
    (the first write is version 4): the read missed version 4, it did not invent version 3."""
    spec, read = orchestrated(shape, seed=False)
    assert found(spec) == [("stale_read", read)]
    spec, _ = orchestrated(shape, read_new=True, seed=False)
    assert found(spec) == []


@pytest.mark.parametrize(
    "shape",
    [
        Shape(d, services, False, via, concurrent=True)
        for d in (2, 3)
        for services in (False, True)
        for via in ("direct", "rpc")
    ],
    ids=repr,
)
def test_overlapping_sub_agents_are_at_most_a_realtime_stale_read(shape: Shape) -> None:
    spec, read = orchestrated(shape)
    assert found(spec) == [("realtime_stale_read", read)]


# -- other paths from the newer write to the read ------------------------------------------------
def team() -> tuple[TraceSpec, str, str, str]:
    """``editor`` coordinates; its ``copywriter`` sub-agent delegates the write of version 2 of a
    draft to its own ``copywriter_typist``. Returns the spec, the coordinator, the copywriter and
    the typist."""
    s = TraceSpec()
    boss = s.agent("editor", 0, 9000)
    mem(s, boss, "create_memory", "draft-3", "v1 text", 5, 8, version=1, store="drafts")
    writer = s.agent("copywriter", 100, 1500, boss)
    typist = s.agent("copywriter_typist", 120, 600, writer)
    mem(s, typist, "update_memory", "draft-3", "v2 text", 300, 320, version=2, store="drafts")
    return s, boss, writer, typist


def read_draft(s: TraceSpec, parent: str, at: float, *, latest: bool = False) -> str:
    value, version = ("v2 text", 2) if latest else ("v1 text", 1)
    return mem(s, parent, "search_memory", "draft-3", value, at, at + 10, version=version, store="drafts")


def test_a_read_later_in_the_writers_own_agent_tree() -> None:
    """The copywriter's second sub-agent reads after the first one returned."""
    s, _, writer, _ = team()
    read = read_draft(s, s.agent("copywriter_proofer", 800, 1400, writer), 900)
    assert found(s) == [("stale_read", read)]


def test_the_coordinator_reading_after_its_sub_agent_returned() -> None:
    s, boss, _, _ = team()
    read = read_draft(s, boss, 2000)
    assert found(s) == [("stale_read", read)]


def test_the_coordinator_reading_while_its_sub_agent_still_runs_is_not_causal() -> None:
    """The copywriter (and so the write's return path) is still open when the coordinator reads."""
    s, boss, _, _ = team()
    read = read_draft(s, boss, 1000)
    assert found(s) == [("realtime_stale_read", read)]


def test_the_inner_writer_runs_the_hand_off() -> None:
    s, boss, _, typist = team()
    handoff(s, typist, "reviewer", 500)
    reviewer = s.agent("reviewer", 700, 1200, boss)  # overlaps the copywriter: only the hand-off orders
    read = read_draft(s, reviewer, 800)
    assert found(s) == [("stale_read", read)]


def test_a_link_from_the_newer_write_orders_an_overlapping_reader() -> None:
    s, boss, _, typist = team()
    notify = s.add("publish draft.updated", 330, 335, typist, kind=4)
    reviewer = s.agent("reviewer", 200, 1200, boss)
    consume = s.add("process draft.updated", 700, 750, reviewer, kind=5)
    s.link(consume, notify)
    read = read_draft(s, consume, 710)
    assert found(s) == [("stale_read", read)]


def test_an_overlapping_reviewer_without_any_path_is_at_most_realtime() -> None:
    s, boss, _, _ = team()
    reviewer = s.agent("reviewer", 200, 1200, boss)
    read = read_draft(s, reviewer, 800)
    assert found(s) == [("realtime_stale_read", read)]
    s2, boss2, _, _ = team()
    read_draft(s2, s2.agent("reviewer", 200, 1200, boss2), 800, latest=True)
    assert found(s2) == []
