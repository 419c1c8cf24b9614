"""Causal-consistency violations on a shared memory store (SPEC §5.2).

Origins (sample_traces/README.md): stale / real-time stale / thin-air reads and causal inversions
start at the offending read; a lost update at the write that overwrites the other agent's; clock
skew at the first span of the skewed service that contradicts happens-before; a causal cycle at its
earliest span. ``span_ids`` name the writes the read missed or returned and the reads involved.
"""

from __future__ import annotations

from sample_traces.scenarios.content import DOMAINS, MODELS
from sample_traces.scenarios.flows import PipelineSpec, run_pipeline
from sample_traces.scenarios.model import Expected, Json, dumps
from sample_traces.scenarios.registry import Ctx, Outcome, ids, scenario
from sample_traces.scenarios.team import BOARDS, Board, Team

C = "causal_consistency"


def _team(ctx: Ctx) -> tuple[Team, Board, bool]:
    board = BOARDS[ctx.v % len(BOARDS)]
    versioned = ctx.v % 2 == 0  # odd variants omit faultlens.memory.version: reads-from by value
    return Team(ctx.b, board, MODELS[ctx.v % len(MODELS)]), board, versioned


def _ver(versioned: bool, n: int) -> int | None:
    return n if versioned else None


def _variant(board: Board, versioned: bool) -> str:
    return f"{board.domain}/{'versioned' if versioned else 'by-value'}"


@scenario("stale_read", family="causal", variants=4)
def stale_read(ctx: Ctx) -> Outcome:
    """a updates x to x2 and hands off to c; c's read returns x1 (a lagging replica)."""
    t, bd, vd = _team(ctx)
    t.think(t.root, bd.task, "Delegating to the team.")
    t.handoff(t.root, bd.a)
    a = t.open(bd.a, parent=t.root)
    w1 = t.write(a, bd.x, bd.x1, _ver(vd, 1), op="create_memory")
    t.think(a, bd.a_says, "Updating the shared record.")
    w2 = t.write(a, bd.x, bd.x2, _ver(vd, 2))
    t.handoff(a, bd.c)
    t.close(a, "record updated")
    c = t.open(bd.c, parent=t.root)
    r = t.read(c, bd.x, bd.x1, _ver(vd, 1))
    t.think(c, f"{bd.x} = {dumps(bd.x1)}", f"Proceeding with {bd.x} as read.")
    t.close(c, "done")
    t.close(t.root, "done")
    return Outcome(
        _variant(bd, vd),
        f"{bd.c} {bd.c_does} and gets the pre-update value",
        (Expected(C, "stale_read", r.span_id, ids(r, w2, w1)),),
    )


@scenario("causal_inversion", family="causal", variants=4)
def causal_inversion(ctx: Ctx) -> Outcome:
    """c sees b's y (written after b read a's x2) but then reads x and gets x1."""
    t, bd, vd = _team(ctx)
    w1 = t.write(t.root, bd.x, bd.x1, _ver(vd, 1), op="create_memory")
    t.handoff(t.root, bd.a)
    a = t.open(bd.a, parent=t.root)
    t.think(a, bd.a_says, "Updating the shared record.")
    w2 = t.write(a, bd.x, bd.x2, _ver(vd, 2))
    t.handoff(a, bd.b)
    t.close(a, "record updated")
    b = t.open(bd.b, parent=t.root)
    rb = t.read(b, bd.x, bd.x2, _ver(vd, 2))
    t.think(b, f"{bd.x} = {dumps(bd.x2)}", "Recording the follow-up.")
    wy = t.write(b, bd.y, bd.y_val, _ver(vd, 1), op="create_memory")
    t.handoff(b, bd.c)
    t.close(b, "follow-up recorded")
    c = t.open(bd.c, parent=t.root)
    ry = t.read(c, bd.y, bd.y_val, _ver(vd, 1))
    rx = t.read(c, bd.x, bd.x1, _ver(vd, 1))
    t.think(
        c, f"{bd.y} = {dumps(bd.y_val)}; {bd.x} = {dumps(bd.x1)}", "Proceeding with both records as read."
    )
    t.close(c, "done")
    t.close(t.root, "done")
    exp = Expected(C, "causal_inversion", rx.span_id, ids(rx, w2, rb, wy, ry, w1))
    return Outcome(_variant(bd, vd), f"{bd.c} sees {bd.y} but not the {bd.x} update it depends on", (exp,))


_THIN_AIR: dict[str, Json] = {
    "travel": {"budget_eur": 3200, "approved_by": "cfo"},
    "support": {"status": "closed", "resolution": "replacement shipped"},
    "release": {"image": "api-gateway:2.15.0-rc1", "approved": True},
}


@scenario("thin_air_read", family="causal", variants=4)
def thin_air_read(ctx: Ctx) -> Outcome:
    """A read returns a value (and version) no write in the trace produced; the store started empty."""
    t, bd, vd = _team(ctx)
    t.write(t.root, bd.x, bd.x1, _ver(vd, 1), op="create_memory")
    t.handoff(t.root, bd.c)
    c = t.open(bd.c, parent=t.root)
    same_key = ctx.v < 2
    key = bd.x if same_key else f"{bd.x}_override"
    value = _THIN_AIR[bd.domain]
    r = t.read(c, key, value, _ver(vd, 3))
    t.think(c, f"{key} = {dumps(value)}", f"Proceeding with {key} as read.")
    t.close(c, "done")
    t.close(t.root, "done")
    how = "same key, unwritten value" if same_key else "never-written key"
    return Outcome(
        f"{_variant(bd, vd)}/{how}",
        f"{bd.c} reads {key} out of thin air",
        (Expected(C, "thin_air_read", r.span_id, ids(r)),),
    )


@scenario("lost_update", family="causal", variants=4)
def lost_update(ctx: Ctx) -> Outcome:
    """a and b, running in parallel, read the same version of a shared list and both write it back:
    b's write drops a's item."""
    t, bd, vd = _team(ctx)
    key = bd.x.rsplit("/", 1)[0] + "/notes"
    base: Json = {"notes": ["opened by " + bd.lead]}
    t.write(t.root, key, base, _ver(vd, 1), op="create_memory")
    t0 = t.clock.now
    a = t.open(bd.a, parent=t.root, at=t0 + 1)
    ra = t.read(a, key, base, _ver(vd, 1))
    t.think(a, bd.a_says, "Adding a note.", lo=600, hi=900)
    a_val: Json = {"notes": ["opened by " + bd.lead, bd.a + ": " + bd.a_says]}
    wa = t.write(a, key, a_val, _ver(vd, 2))
    t.close(a, "note added")
    a_end = t.clock.now
    t.clock.now = t0 + 4
    b = t.open(bd.b, parent=t.root)
    rb = t.read(b, key, base, _ver(vd, 1))
    t.think(b, f"{key} = {dumps(base)}", "Adding a note.", lo=1400, hi=2000)
    b_val: Json = {"notes": ["opened by " + bd.lead, bd.b + ": customer-facing note drafted"]}
    wb = t.write(b, key, b_val, _ver(vd, 2))
    t.close(b, "note added")
    t.clock.now = max(t.clock.now, a_end)
    t.read(t.root, key, b_val, _ver(vd, 2))
    t.close(t.root, "done")
    exp = Expected(C, "lost_update", wb.span_id, ids(wb, ra, rb, wa))
    return Outcome(_variant(bd, vd), f"{bd.b} overwrites {bd.a}'s note on {key}", (exp,))


@scenario("clock_skew", family="causal", variants=4)
def clock_skew(ctx: Ctx) -> Outcome:
    """The researcher service's clock runs seconds behind: its agent span starts before its parent
    and before the hand-off that caused it."""
    skew = (-2500.0, -4000.0, -6500.0, -9000.0)[ctx.v % 4]
    ctx.b.skew_ms["researcher"] = skew
    case = DOMAINS[ctx.v % len(DOMAINS)](ctx.v)
    ctx.b.workflow = case.workflow
    p = run_pipeline(ctx.b, PipelineSpec(case=case, cast=ctx.cast, brief=case.brief, model=MODELS[ctx.v % 4]))
    exp = Expected(C, "clock_skew", p.worker.span_id, ids(p.worker, p.root, p.to_worker))
    return Outcome(f"{case.domain}/researcher{int(skew)}ms", f"researcher clock {skew:.0f} ms off", (exp,))


@scenario("realtime_stale_read", family="causal", variants=4)
def realtime_stale_read(ctx: Ctx) -> Outcome:
    """a and c run in parallel; c's read starts well after a's update finished yet returns x1.
    No causal path from the write to the read: only a linearizability violation."""
    t, bd, vd = _team(ctx)
    w1 = t.write(t.root, bd.x, bd.x1, _ver(vd, 1), op="create_memory")
    t0 = t.clock.now
    a = t.open(bd.a, parent=t.root, at=t0 + 1)
    t.think(a, bd.a_says, "Updating the shared record.", lo=300, hi=500)
    w2 = t.write(a, bd.x, bd.x2, _ver(vd, 2))
    t.close(a, "record updated")
    a_end = t.clock.now
    t.clock.now = t0 + 3
    c = t.open(bd.c, parent=t.root)
    t.think(c, bd.task, "Checking the shared record first.", lo=1500, hi=2500)
    r = t.read(c, bd.x, bd.x1, _ver(vd, 1))
    t.close(c, "done")
    t.clock.now = max(t.clock.now, a_end)
    t.close(t.root, "done")
    return Outcome(
        _variant(bd, vd),
        f"{bd.c} reads {bd.x} after {bd.a}'s update completed, gets the old value",
        (Expected(C, "realtime_stale_read", r.span_id, ids(r, w2, w1)),),
    )


@scenario("cyclic_causality", family="causal", variants=2)
def cyclic_causality(ctx: Ctx) -> Outcome:
    """A re-delivering message bus links a's and b's spans to each other as causes: a cycle."""
    t, bd, _ = _team(ctx)
    t0 = t.clock.now
    a = t.open(bd.a, parent=t.root, at=t0 + 1)
    b = t.open(bd.b, parent=t.root, at=t0 + 40, links=[a])
    ctx.b.link(a, b)
    t.think(a, bd.a_says, "Passing this on.")
    t.think(b, bd.task, "Waiting for the update.")
    t.close(b, "done")
    t.close(a, "done")
    t.close(t.root, "done")
    return Outcome(
        bd.domain,
        f"{bd.a} and {bd.b} link to each other as causes",
        (Expected(C, "cyclic_causality", a.span_id, ids(a, b)),),
    )
