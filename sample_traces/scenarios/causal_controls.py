"""Clean controls of the causal family: the same teams doing shared-state work correctly.

Near-misses: a read right after a causally preceding write that returns the new value; concurrent
writes to different keys; a read overlapping a write in real time that returns the old value (legal:
the two are concurrent); read-modify-write done in sequence; clock skew of a few milliseconds (within
any sane tolerance)."""

from __future__ import annotations

from sample_traces.scenarios.causal import _team, _variant, _ver
from sample_traces.scenarios.content import DOMAINS, MODELS
from sample_traces.scenarios.flows import PipelineSpec, run_pipeline
from sample_traces.scenarios.model import Json, dumps
from sample_traces.scenarios.registry import Ctx, Outcome, scenario


@scenario("fresh_read_after_handoff", family="causal", variants=7, clean=True)
def fresh_read(ctx: Ctx) -> Outcome:
    t, bd, vd = _team(ctx)
    t.think(t.root, bd.task, "Delegating to the team.")
    t.handoff(t.root, bd.a)
    a = t.open(bd.a, parent=t.root)
    t.write(a, bd.x, bd.x1, _ver(vd, 1), op="create_memory")
    t.think(a, bd.a_says, "Updating the shared record.")
    t.write(a, bd.x, bd.x2, _ver(vd, 2))
    t.handoff(a, bd.c)
    t.close(a, "record updated")
    c = t.open(bd.c, parent=t.root)
    t.read(c, bd.x, bd.x2, _ver(vd, 2))
    t.think(c, f"{bd.x} = {dumps(bd.x2)}", f"Proceeding with {bd.x} as read.")
    t.close(c, "done")
    t.close(t.root, "done")
    return Outcome(_variant(bd, vd), "reader after the hand-off sees the latest version")


@scenario("disjoint_concurrent_writes", family="causal", variants=7, clean=True)
def disjoint_writes(ctx: Ctx) -> Outcome:
    t, bd, vd = _team(ctx)
    t0 = t.clock.now
    a = t.open(bd.a, parent=t.root, at=t0 + 1)
    t.think(a, bd.a_says, "Recording the update.", lo=300, hi=600)
    t.write(a, bd.x, bd.x2, _ver(vd, 1), op="create_memory")
    t.close(a, "recorded")
    a_end = t.clock.now
    t.clock.now = t0 + 2
    b = t.open(bd.b, parent=t.root)
    t.think(b, bd.task, "Recording the follow-up.", lo=250, hi=650)
    t.write(b, bd.y, bd.y_val, _ver(vd, 1), op="create_memory")
    t.close(b, "recorded")
    t.clock.now = max(t.clock.now, a_end)
    t.read(t.root, bd.x, bd.x2, _ver(vd, 1))
    t.read(t.root, bd.y, bd.y_val, _ver(vd, 1))
    t.close(t.root, "done")
    return Outcome(_variant(bd, vd), "two agents write different keys at the same time")


@scenario("concurrent_read_during_write", family="causal", variants=4, clean=True)
def concurrent_read(ctx: Ctx) -> Outcome:
    """c's read overlaps a's write in real time and returns the old value: allowed."""
    t, bd, vd = _team(ctx)
    t.write(t.root, bd.x, bd.x1, _ver(vd, 1), op="create_memory")
    t0 = t.clock.now
    a = t.open(bd.a, parent=t.root, at=t0 + 1)
    t.think(a, bd.a_says, "Updating the shared record.", lo=500, hi=500)
    w_start = t.clock.now + 1
    t.write(a, bd.x, bd.x2, _ver(vd, 2), dur=(40, 40))
    t.close(a, "record updated")
    a_end = t.clock.now
    t.clock.now = t0 + 2
    c = t.open(bd.c, parent=t.root)
    t.clock.now = w_start + 5  # the read begins while the write is in flight
    t.read(c, bd.x, bd.x1, _ver(vd, 1), dur=(3, 6))
    t.think(c, f"{bd.x} = {dumps(bd.x1)}", f"Proceeding with {bd.x} as read.")
    t.close(c, "done")
    t.clock.now = max(t.clock.now, a_end)
    t.close(t.root, "done")
    return Outcome(_variant(bd, vd), "read concurrent with the update returns the previous value")


@scenario("sequential_read_modify_write", family="causal", variants=4, clean=True)
def sequential_rmw(ctx: Ctx) -> Outcome:
    t, bd, vd = _team(ctx)
    key = bd.x.rsplit("/", 1)[0] + "/notes"
    v1: Json = {"notes": ["opened by " + bd.lead]}
    v2: Json = {"notes": ["opened by " + bd.lead, bd.a + ": " + bd.a_says]}
    v3: Json = {
        "notes": ["opened by " + bd.lead, bd.a + ": " + bd.a_says, bd.b + ": customer-facing note drafted"]
    }
    t.write(t.root, key, v1, _ver(vd, 1), op="create_memory")
    t.handoff(t.root, bd.a)
    a = t.open(bd.a, parent=t.root)
    t.read(a, key, v1, _ver(vd, 1))
    t.think(a, bd.a_says, "Adding a note.")
    t.write(a, key, v2, _ver(vd, 2))
    t.handoff(a, bd.b)
    t.close(a, "note added")
    b = t.open(bd.b, parent=t.root)
    t.read(b, key, v2, _ver(vd, 2))
    t.think(b, f"{key} = {dumps(v2)}", "Adding a note.")
    t.write(b, key, v3, _ver(vd, 3))
    t.close(b, "note added")
    t.read(t.root, key, v3, _ver(vd, 3))
    t.close(t.root, "done")
    return Outcome(_variant(bd, vd), "read-modify-write in sequence: nothing lost")


@scenario("skew_within_tolerance", family="causal", variants=4, clean=True)
def small_skew(ctx: Ctx) -> Outcome:
    """The researcher host is a few milliseconds behind: its agent span overlaps the hand-off by
    less than any reasonable tolerance (failures use seconds)."""
    skew = (-2.0, -3.5, -5.0, -1.5)[ctx.v % 4]
    ctx.b.skew_ms["researcher"] = skew
    case = DOMAINS[(ctx.v + 2) % len(DOMAINS)](ctx.v)
    ctx.b.workflow = case.workflow
    run_pipeline(
        ctx.b, PipelineSpec(case=case, cast=ctx.cast, brief=case.brief, model=MODELS[(ctx.v + 1) % 4])
    )
    return Outcome(f"{case.domain}/researcher{skew}ms", f"researcher clock {skew} ms off: within tolerance")
