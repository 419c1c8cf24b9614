"""The history the checker sees: memory spans and key-value ``db.*`` client spans → ``MemoryOp``s."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.detectors.causal import CausalConsistency
from analysis.detectors.causal.history import extract_history
from analysis.detectors.causal.kv import kv_ops
from analysis.detectors.causal.values import canonical_value
from tests.detectors.causal.memkit import TraceSpec, handoff, kv, mem

DETECT = CausalConsistency().detect


def test_canonical_value_ignores_store_decoration_and_serialisation() -> None:
    written = canonical_value('[{"content": "Paris is the capital"}]')
    assert canonical_value('[{"id": "k", "content": "Paris  is the capital", "score": 0.9}]') == written
    assert canonical_value('"Paris is the capital"') == written
    assert canonical_value('{"b": 1, "a": [1, 2]}') == canonical_value('{"a": [1, 2], "b": 1, "id": "x"}')
    assert canonical_value("[]") is None and canonical_value("null") is None
    assert canonical_value("5") == canonical_value(5) == canonical_value(5.0)
    assert canonical_value('{"eur": 2400.0, "id": "b"}') == canonical_value({"eur": 2400})


def test_memory_spans_become_ops_with_agent_and_transaction() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 100)
    a = s.agent("writer", 1, 50, root)
    w = mem(s, a, "update_memory", "k", {"content": "v"}, 2, 3, version=4)
    r = mem(s, a, "search_memory", "k", [], 4, 5)
    d = mem(s, a, "delete_memory", "k", None, 6, 7)
    mem(s, a, "search_memory", "k", None, 8, 9)  # result not recorded: nothing to check
    ops = extract_history(s.trace())
    assert [(o.span_id, o.kind, o.delete, o.version, o.value) for o in ops] == [
        (w, "write", False, "4", "v"),
        (r, "read", False, None, None),
        (d, "write", True, None, None),
    ]
    assert {o.agent for o in ops} == {"writer"} and {o.txn for o in ops} == {a}


def test_a_search_returning_several_records_reads_each_key() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 100)
    s.add(
        "search_memory board",
        1,
        2,
        root,
        operation="search_memory",
        memory_store_id="board",
        memory_records='[{"id": "a", "content": "x", "version": 2}, {"id": "b", "content": "y"}]',
    )
    ops = extract_history(s.trace())
    assert [(o.key, o.version, o.value) for o in ops] == [("a", "2", "x"), ("b", None, "y")]


def test_redis_commands_map_to_reads_and_writes() -> None:
    attrs = {"server.address": "cache", "server.port": 6379, "db.redis.database_index": 0}
    [w] = kv_ops("redis", "SET", 'SET user:1 "Ada Lovelace" EX 60', attrs)
    assert (w.kind, w.store, w.key, w.value, w.known) == (
        "write",
        "redis://cache:6379/0",
        "user:1",
        "Ada Lovelace",
        True,
    )
    [r] = kv_ops("redis", "GET", "GET user:1", {**attrs, "db.redis.response": "Ada Lovelace"})
    assert (r.kind, r.value) == ("read", "Ada Lovelace")
    assert kv_ops("redis", "GET", "GET user:1", attrs) == []  # response not captured
    assert kv_ops("redis", "SET", "SET ? ?", attrs) == []  # key obfuscated
    [blind] = kv_ops("redis", "SET", "SET user:1 ?", attrs)
    assert not blind.known
    [inc] = kv_ops("redis", "INCR", "INCR hits", attrs)
    assert (inc.kind, inc.known) == ("write", False)
    [inc] = kv_ops("redis", "INCR", "INCR hits", {**attrs, "db.redis.response": 7})
    assert (inc.value, inc.known) == ("7", True)
    assert [
        (o.key, o.value) for o in kv_ops("redis", "MGET", "MGET a b", {"db.redis.response": '["1", null]'})
    ] == [
        ("a", "1"),
        ("b", None),
    ]
    assert [(o.key, o.value) for o in kv_ops("redis", "HSET", "HSET h f1 v1 f2 v2", {})] == [
        ("h#f1", "v1"),
        ("h#f2", "v2"),
    ]
    assert [(o.key, o.delete) for o in kv_ops("redis", "DEL", "DEL a b", {})] == [("a", True), ("b", True)]
    assert kv_ops("redis", "SETNX", "SETNX lock me", {"db.redis.response": 0}) == []


def redis_relay(returned: str) -> tuple[TraceSpec, str]:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("profile_agent", 10, 300, root)
    kv(s, a, "SET user:1 alice", 20, 21)
    kv(s, a, "SET user:1 bob", 40, 41)
    handoff(s, a, "mailer", 100)
    b = s.agent("mailer", 110, 300, root)
    return s, kv(s, b, "GET user:1", 120, 121, returned, captured=True)


def test_redis_stale_get_is_a_stale_read() -> None:
    spec, get = redis_relay("alice")
    [f] = DETECT(spec.trace())
    assert (f.kind, f.origin_span_id) == ("stale_read", get)
    assert f.evidence["store"] == "redis://cache:6379/0"


def test_redis_fresh_get_is_clean() -> None:
    spec, _ = redis_relay("bob")
    assert DETECT(spec.trace()) == []


_op = st.tuples(st.sampled_from(["read", "write"]), st.sampled_from(["a", "b", "c"]), st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(_op, min_size=1, max_size=25), st.booleans())
def test_a_sequential_agent_reading_the_latest_value_is_clean(
    script: list[tuple[str, str, int]], versioned: bool
) -> None:
    """Any single-agent history where each read returns the latest write (or nothing) is causally
    consistent and linearizable: no finding, whatever the mix of keys and values."""
    s = TraceSpec()
    root = s.agent("planner", 0, 10_000)
    a = s.agent("worker", 1, 9_000, root)
    latest: dict[str, tuple[int, str]] = {}
    for i, (kind, key, value) in enumerate(script):
        t = 10 + 20 * i
        if kind == "write":
            version = latest.get(key, (0, ""))[0] + 1
            latest[key] = (version, f"v{value}")
            mem(
                s,
                a,
                "upsert_memory",
                key,
                {"content": f"v{value}"},
                t,
                t + 5,
                version=version if versioned else None,
            )
        elif key in latest:
            version, val = latest[key]
            mem(
                s,
                a,
                "search_memory",
                key,
                [{"content": val}],
                t,
                t + 5,
                version=version if versioned else None,
            )
        else:
            mem(s, a, "search_memory", key, [], t, t + 5)
    assert DETECT(s.trace()) == []


def test_bad_data_never_crashes_the_detector() -> None:
    """Malformed payloads, missing keys and times, a cyclic parent chain: skipped, not fatal."""
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("writer", 10, 300, root)
    s.add(
        "update_memory board",
        20,
        30,
        a,
        operation="update_memory",
        memory_store_id="board",
        memory_record_id="k",
        memory_records='{"content": "unterminated',
    )
    s.add(
        "search_memory board",
        40,
        50,
        a,
        operation="search_memory",
        memory_store_id="board",
        memory_record_id="k",
        memory_records='{"content": "unterminated',
    )
    s.add("create_memory board", 60, 70, a, operation="create_memory", memory_records="[1, 2, 3]")
    s.add("delete_memory board", 80, 90, a, operation="delete_memory", memory_records="not json")
    x = s.add(
        "search_memory board",
        100,
        110,
        None,
        operation="search_memory",
        memory_record_id="k",
        memory_records="[]",
        memory_version="v-β",
    )
    y = s.add(
        "upsert_memory board",
        120,
        130,
        x,
        operation="upsert_memory",
        memory_record_id="k",
        memory_records='"v"',
        memory_version="7",
    )
    s.rows[-2]["parent_span_id"] = y  # x ↔ y: a cyclic parent chain
    s.rows[-1]["start_ns"] = None
    kv(s, a, 'SET "unbalanced', 140, 141)
    findings = DETECT(s.trace())
    assert all(f.detector == "causal_consistency" and f.origin_span_id for f in findings)
