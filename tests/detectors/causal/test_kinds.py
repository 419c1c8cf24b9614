"""One positive and one clean near-miss per finding kind of ``causal_consistency``, on traces with
the real happens-before (``analysis.load.build_trace``)."""

from __future__ import annotations

from analysis.detectors.causal import CausalConsistency
from analysis.model import Finding
from tests.detectors.causal.memkit import TraceSpec, handoff, mem

DETECT = CausalConsistency().detect


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


# -- stale read ----------------------------------------------------------------------------------
def relay(read_version: int, read_value: str) -> tuple[TraceSpec, dict[str, str]]:
    """writer sets the budget twice, hands off to reader, which reads it."""
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    w = s.agent("writer", 10, 300, root)
    ids = {"v1": mem(s, w, "create_memory", "budget", {"content": "2400"}, 20, 30, version=1)}
    ids["v2"] = mem(s, w, "update_memory", "budget", {"content": "1850"}, 100, 110, version=2)
    handoff(s, w, "reader", 200)
    r = s.agent("reader", 310, 600, root)
    ids["read"] = mem(
        s, r, "search_memory", "budget", [{"content": read_value}], 320, 330, version=read_version
    )
    return s, ids


def test_stale_read_after_handoff() -> None:
    spec, ids = relay(1, "2400")
    [f] = DETECT(spec.trace())
    assert (f.kind, f.origin_span_id) == ("stale_read", ids["read"])
    assert ids["v2"] in f.span_ids and ids["v1"] in f.span_ids
    assert f.evidence["newer_write"]["version"] == "2" and f.evidence["observed_write"]["version"] == "1"
    assert f.agents == ("reader", "writer") and f.severity == "high"


def test_fresh_read_after_handoff_is_clean() -> None:
    spec, _ = relay(2, "1850")
    assert DETECT(spec.trace()) == []


def test_stale_read_by_value() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    w = s.agent("writer", 10, 300, root)
    mem(s, w, "upsert_memory", "status", "open", 20, 30)
    mem(s, w, "upsert_memory", "status", "closed", 100, 110)
    handoff(s, w, "reader", 200)
    r = s.agent("reader", 310, 600, root)
    read = mem(
        s, r, "search_memory", "status", [{"id": "status", "content": "open", "score": 0.93}], 320, 330
    )
    assert [(f.kind, f.origin_span_id) for f in DETECT(s.trace())] == [("stale_read", read)]


# -- causal inversion ----------------------------------------------------------------------------
def inversion(final_budget_version: int) -> tuple[TraceSpec, dict[str, str]]:
    """budget_agent cuts the budget; hotel_agent reads the cut and books; booking_agent sees the
    booking, then reads the budget."""
    s = TraceSpec()
    root = s.agent("planner", 0, 2000)
    ids = {"v1": mem(s, root, "create_memory", "budget", {"eur": 2400}, 2, 5, version=1)}
    handoff(s, root, "budget_agent", 8)
    a = s.agent("budget_agent", 10, 300, root)
    ids["v2"] = mem(s, a, "update_memory", "budget", {"eur": 1850}, 20, 30, version=2)
    handoff(s, a, "hotel_agent", 40)
    b = s.agent("hotel_agent", 50, 300, root)
    mem(s, b, "search_memory", "budget", [{"eur": 1850}], 60, 70, version=2)
    ids["hold"] = mem(s, b, "create_memory", "hold", {"hotel": "Josef", "eur": 1790}, 100, 110, version=1)
    handoff(s, b, "booking_agent", 120)
    c = s.agent("booking_agent", 130, 400, root)
    ids["see_hold"] = mem(
        s, c, "search_memory", "hold", [{"hotel": "Josef", "eur": 1790}], 140, 150, version=1
    )
    value = {"eur": 2400} if final_budget_version == 1 else {"eur": 1850}
    ids["read"] = mem(s, c, "search_memory", "budget", [value], 160, 170, version=final_budget_version)
    return s, ids


def test_causal_inversion() -> None:
    spec, ids = inversion(1)
    [f] = DETECT(spec.trace())
    assert (f.kind, f.origin_span_id) == ("causal_inversion", ids["read"])
    assert {ids["v2"], ids["hold"], ids["see_hold"]} <= set(f.span_ids)
    assert f.evidence["cause_write"]["span_id"] == ids["v2"]
    assert f.evidence["effect_write"]["span_id"] == ids["hold"]
    assert f.evidence["elle"]["anomaly"] == "G-single"


def test_effect_with_its_cause_is_clean() -> None:
    spec, _ = inversion(2)
    assert DETECT(spec.trace()) == []


# -- thin-air read -------------------------------------------------------------------------------
def test_thin_air_read_on_a_store_that_started_empty() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    mem(s, root, "create_memory", "k1", {"content": "alpha"}, 5, 8, version=1)
    r = s.agent("reader", 10, 300, root)
    read = mem(s, r, "search_memory", "k2", [{"content": "omega"}], 20, 30, version=7)
    [f] = DETECT(s.trace())
    assert (f.kind, f.origin_span_id) == ("thin_air_read", read)


def test_pre_existing_data_is_not_thin_air() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    mem(s, root, "search_memory", "k0", [{"content": "seeded"}], 2, 4)  # the store held data already
    mem(s, root, "create_memory", "k1", {"content": "alpha"}, 5, 8, version=1)
    r = s.agent("reader", 10, 300, root)
    mem(s, r, "search_memory", "k2", [{"content": "omega"}], 20, 30)
    # a decorated copy of what was written is the same value
    mem(s, r, "search_memory", "k1", [{"id": "k1", "content": "alpha", "score": 0.8}], 40, 50)
    assert DETECT(s.trace()) == []


# -- lost update ---------------------------------------------------------------------------------
def two_writers(second_reads_first: bool) -> tuple[TraceSpec, dict[str, str]]:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    ids = {"v1": mem(s, root, "create_memory", "notes", {"notes": ["opened"]}, 2, 5, version=1)}
    a = s.agent("budget_agent", 10, 300, root)
    b = s.agent("hotel_agent", 12, 310, root)
    ids["ra"] = mem(s, a, "search_memory", "notes", [{"notes": ["opened"]}], 20, 25, version=1)
    ids["wa"] = mem(s, a, "update_memory", "notes", {"notes": ["opened", "budget"]}, 100, 110, version=2)
    if second_reads_first:
        ids["rb"] = mem(
            s, b, "search_memory", "notes", [{"notes": ["opened", "budget"]}], 120, 125, version=2
        )
        ids["wb"] = mem(
            s, b, "update_memory", "notes", {"notes": ["opened", "budget", "hotel"]}, 150, 160, version=3
        )
    else:
        ids["rb"] = mem(s, b, "search_memory", "notes", [{"notes": ["opened"]}], 22, 27, version=1)
        ids["wb"] = mem(s, b, "update_memory", "notes", {"notes": ["opened", "hotel"]}, 150, 160, version=2)
    return s, ids


def test_lost_update() -> None:
    spec, ids = two_writers(second_reads_first=False)
    [f] = DETECT(spec.trace())
    assert (f.kind, f.origin_span_id) == ("lost_update", ids["wb"])
    assert set(f.span_ids) == {ids["wb"], ids["rb"], ids["wa"], ids["ra"]}
    assert f.evidence["overwritten_write"]["span_id"] == ids["wa"]
    assert f.evidence["elle"]["anomaly"] == "G-single"


def test_sequential_read_modify_write_is_clean() -> None:
    spec, _ = two_writers(second_reads_first=True)
    assert DETECT(spec.trace()) == []


# -- cyclic causality ----------------------------------------------------------------------------
def test_read_from_its_own_future_is_a_cycle() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("alpha", 10, 300, root)
    b = s.agent("beta", 11, 300, root)
    read_x = mem(s, a, "search_memory", "x", "hello", 20, 22)
    mem(s, a, "upsert_memory", "y", "world", 30, 32)
    read_y = mem(s, b, "search_memory", "y", "world", 40, 42)
    write_x = mem(s, b, "upsert_memory", "x", "hello", 50, 52)
    [f] = DETECT(s.trace())
    assert (f.kind, f.origin_span_id) == ("cyclic_causality", read_x)
    assert {read_y, write_x} <= set(f.span_ids)
    assert f.evidence["elle"]["anomaly"] == "G1c"


def test_read_after_the_write_is_no_cycle() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("alpha", 10, 300, root)
    b = s.agent("beta", 11, 300, root)
    mem(s, b, "upsert_memory", "x", "hello", 12, 14)
    mem(s, a, "search_memory", "x", "hello", 20, 22)
    mem(s, a, "upsert_memory", "y", "world", 30, 32)
    mem(s, b, "search_memory", "y", "world", 40, 42)
    assert DETECT(s.trace()) == []


# -- clock skew ----------------------------------------------------------------------------------
def skewed(skew_ms: float) -> tuple[TraceSpec, str]:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000, service_name="planner")
    s.llm(2, 50, root, [], [], service_name="planner")
    child = s.agent("researcher", 60 - skew_ms, 400 - skew_ms, root, service_name="researcher")
    s.llm(70 - skew_ms, 300 - skew_ms, child, [], [], service_name="researcher")
    return s, child


def test_clock_skew_child_before_parent() -> None:
    spec, child = skewed(900)
    [f] = DETECT(spec.trace())
    assert (f.kind, f.origin_span_id) == ("clock_skew", child)
    assert f.evidence["service"] == "researcher" and f.evidence["skew_ns"] == 840_000_000
    assert f.severity == "low"


def test_skew_within_tolerance_is_clean() -> None:
    spec, _ = skewed(62)  # child starts 2 ms before its parent: NTP noise
    assert DETECT(spec.trace()) == []


# -- real-time stale read ------------------------------------------------------------------------
def concurrent(read_at: float) -> tuple[TraceSpec, dict[str, str]]:
    """writer and reader run side by side: nothing orders the write before the read but time."""
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    ids = {"v1": mem(s, root, "create_memory", "gate", {"content": "closed"}, 2, 5, version=1)}
    w = s.agent("writer", 10, 400, root)
    r = s.agent("reader", 11, 400, root)
    ids["v2"] = mem(s, w, "update_memory", "gate", {"content": "open"}, 100, 110, version=2)
    ids["read"] = mem(
        s, r, "search_memory", "gate", [{"content": "closed"}], read_at, read_at + 10, version=1
    )
    return s, ids


def test_realtime_stale_read() -> None:
    spec, ids = concurrent(300)
    [f] = DETECT(spec.trace())
    assert (f.kind, f.origin_span_id, f.severity) == ("realtime_stale_read", ids["read"], "low")
    assert f.evidence["newer_write"]["span_id"] == ids["v2"]


def test_read_during_the_write_is_clean() -> None:
    spec, _ = concurrent(105)
    assert DETECT(spec.trace()) == []


# -- other clean controls ------------------------------------------------------------------------
def test_retry_that_reads_its_own_write_is_clean() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("writer", 10, 400, root)
    mem(s, a, "upsert_memory", "order", {"content": "placed"}, 20, 60, version=1, failed=True)
    mem(s, a, "upsert_memory", "order", {"content": "placed"}, 70, 80, version=1)
    mem(s, a, "search_memory", "order", [{"content": "placed"}], 90, 95, version=1)
    assert DETECT(s.trace()) == []


def test_concurrent_writes_to_different_keys_are_clean() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    a = s.agent("alpha", 10, 400, root)
    b = s.agent("beta", 10, 400, root)
    for i in range(3):
        mem(s, a, "upsert_memory", "a", {"content": f"a{i}"}, 20 + 30 * i, 25 + 30 * i, version=i + 1)
        mem(s, b, "upsert_memory", "b", {"content": f"b{i}"}, 21 + 30 * i, 26 + 30 * i, version=i + 1)
    mem(s, a, "search_memory", "a", [{"content": "a2"}], 200, 205, version=3)
    mem(s, b, "search_memory", "b", [{"content": "b2"}], 200, 205, version=3)
    assert DETECT(s.trace()) == []


def test_findings_are_deterministic_and_stable() -> None:
    spec, _ = relay(1, "2400")
    trace = spec.trace()
    first, second = DETECT(trace), DETECT(trace)
    assert [f.id for f in first] == [f.id for f in second] and first == second


def test_clock_ahead_is_blamed_on_the_parent_service() -> None:
    """researcher's clock runs 900 ms ahead: its memory calls (on a correct clock, which agrees with
    the planner's) seem to start before it."""
    s = TraceSpec()
    root = s.agent("planner", 0, 2000, service_name="planner")
    mem(s, root, "create_memory", "k", {"content": "a"}, 5, 8, version=1)
    child = s.agent("researcher", 60 + 900, 400 + 900, root, service_name="researcher")
    mem(s, child, "search_memory", "k", [{"content": "a"}], 70, 75, version=1)
    [f] = DETECT(s.trace())
    assert (f.kind, f.origin_span_id) == ("clock_skew", child)
    assert (f.evidence["service"], f.evidence["direction"]) == ("researcher", "ahead")


def test_lost_update_by_parallel_instances_of_one_agent() -> None:
    """Three ``worker`` instances fan out; each reads the counter at version 1 and writes it back."""
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    mem(s, root, "create_memory", "done", {"count": 0}, 2, 5, version=1)
    writes = []
    for i in range(3):
        w = s.agent("worker", 10 + i, 300, root)
        mem(s, w, "search_memory", "done", [{"count": 0}], 20 + i, 25 + i, version=1)
        writes.append(
            mem(s, w, "update_memory", "done", {"count": 1}, 100 + 20 * i, 110 + 20 * i, version=2 + i)
        )
    [f] = DETECT(s.trace())
    assert (f.kind, f.origin_span_id) == ("lost_update", writes[1])
    assert writes[2] in f.span_ids


def test_a_blind_write_turns_after_a_read_is_no_lost_update() -> None:
    """The base of a read-modify-write is a read in the same agent turn; a write turns later, with
    other writes in between, does not write that read back."""
    s = TraceSpec()
    root = s.agent("planner", 0, 1000)
    mem(s, root, "create_memory", "plan", "draft", 2, 5, version=1)
    a1 = s.agent("editor", 10, 50, root)
    mem(s, a1, "search_memory", "plan", "draft", 20, 25, version=1)
    b = s.agent("reviewer", 12, 300, root)
    mem(s, b, "search_memory", "plan", "draft", 22, 27, version=1)
    mem(s, b, "update_memory", "plan", "draft + review", 60, 70, version=2)
    a2 = s.agent("editor", 80, 200, root)
    mem(s, a2, "update_memory", "plan", "final", 120, 130, version=3)
    assert DETECT(s.trace()) == []


def test_findings_follow_the_findings_contract() -> None:
    """SPEC §5.5: the origin is among the span ids, ids are 16 lowercase hex, evidence is JSON."""
    import orjson

    specs = [relay(1, "2400")[0], inversion(1)[0], two_writers(False)[0], concurrent(300)[0], skewed(900)[0]]
    findings = [f for spec in specs for f in DETECT(spec.trace())]
    assert len(findings) == len(specs)
    for f in findings:
        assert f.origin_span_id == f.span_ids[0]
        assert all(len(s) == 16 and s == s.lower() for s in f.span_ids)
        assert f.summary and "\n" not in f.summary
        orjson.dumps(f.evidence)
