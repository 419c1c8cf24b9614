"""Shapes the labelled corpus does not cover: the same failure reached through other edges of
happens-before (a later turn, a span link, tools between agent and memory) and other version
schemes (opaque etags, no version at all)."""

from __future__ import annotations

from analysis.detectors.causal import CausalConsistency
from tests.detectors.causal.memkit import TraceSpec, handoff, mem

DETECT = CausalConsistency().detect


def found(spec: TraceSpec) -> list[tuple[str, str]]:
    return [(f.kind, f.origin_span_id) for f in DETECT(spec.trace())]


def test_stale_read_by_the_same_agent_in_a_later_turn() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    turn1 = s.agent("analyst", 10, 100, root)
    mem(s, turn1, "create_memory", "k", "a", 20, 25, version=1)
    mem(s, turn1, "update_memory", "k", "b", 30, 35, version=2)
    turn2 = s.agent("analyst", 200, 300, root)
    read = mem(s, turn2, "search_memory", "k", "a", 210, 215, version=1)
    assert found(s) == [("stale_read", read)]


def test_stale_read_through_a_span_link() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    producer = s.agent("producer", 10, 100, root)
    consumer = s.agent("consumer", 11, 400, root)
    mem(s, producer, "create_memory", "k", "a", 20, 25)
    mem(s, producer, "update_memory", "k", "b", 30, 35)
    message = s.add("publish", 40, 41, producer, kind=4)
    process = s.add("process", 150, 160, consumer, kind=5)
    s.link(process, message)
    read = mem(s, process, "search_memory", "k", "a", 170, 175)
    assert found(s) == [("stale_read", read)]


def test_memory_behind_tool_spans_and_opaque_versions() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("writer", 10, 100, root)
    for i, (value, etag) in enumerate((("a", "etag-9f"), ("b", "etag-01"))):
        tool = s.tool("memory_write", 15 + 30 * i, 40 + 30 * i, a)
        s.add(
            "upsert",
            20 + 30 * i,
            25 + 30 * i,
            tool,
            operation="upsert_memory",
            memory_store_id="st",
            memory_record_id="k",
            memory_records=f'"{value}"',
            memory_version=etag,
        )
    handoff(s, a, "reader", 80)
    b = s.agent("reader", 110, 400, root)
    tool = s.tool("memory_read", 120, 140, b)
    read = s.add(
        "read",
        125,
        130,
        tool,
        operation="search_memory",
        memory_store_id="st",
        memory_record_id="k",
        memory_records='"a"',
        memory_version="etag-9f",
    )
    assert found(s) == [("stale_read", read)]


def test_causal_inversion_across_stores_learnt_only_through_memory() -> None:
    """The photo-ACL example: the viewer was never handed anything; it sees the photo posted after
    the ACL change, then the ACL from before it."""
    s = TraceSpec()
    root = s.agent("planner", 0, 2000)
    mem(s, root, "create_memory", "acl", "public", 2, 5, store="acl-store")
    handoff(s, root, "admin", 8)
    admin = s.agent("admin", 10, 100, root)
    mem(s, admin, "update_memory", "acl", "private", 20, 25, store="acl-store")
    handoff(s, admin, "poster", 30)
    poster = s.agent("poster", 40, 100, root)
    mem(s, poster, "search_memory", "acl", "private", 45, 50, store="acl-store")
    mem(s, poster, "create_memory", "photo", "pic.jpg", 60, 65, store="photos")
    viewer = s.agent("viewer", 41, 300, root)
    mem(s, viewer, "search_memory", "photo", "pic.jpg", 150, 155, store="photos")
    read = mem(s, viewer, "search_memory", "acl", "public", 160, 165, store="acl-store")
    assert found(s) == [("causal_inversion", read)]


def photo_acl(handed_off: bool) -> tuple[TraceSpec, str]:
    """admin makes the album private, then posts the photo; viewer sees the photo, then the ACL."""
    s = TraceSpec()
    root = s.agent("planner", 0, 2000)
    mem(s, root, "create_memory", "acl", "public", 2, 5)
    handoff(s, root, "admin", 8)
    admin = s.agent("admin", 10, 100, root)
    mem(s, admin, "update_memory", "acl", "private", 20, 25)
    mem(s, admin, "create_memory", "photo", "pic.jpg", 30, 35)
    if handed_off:
        handoff(s, admin, "viewer", 40)
    viewer = s.agent("viewer", 50 if handed_off else 11, 300, root)
    mem(s, viewer, "search_memory", "photo", "pic.jpg", 150, 155)
    return s, mem(s, viewer, "search_memory", "acl", "public", 160, 165)


def test_one_author_effect_seen_only_through_memory_is_a_causal_inversion() -> None:
    spec, read = photo_acl(handed_off=False)
    assert found(spec) == [("causal_inversion", read)]


def test_one_author_effect_on_a_handed_off_path_is_a_stale_read() -> None:
    spec, read = photo_acl(handed_off=True)
    assert found(spec) == [("stale_read", read)]
