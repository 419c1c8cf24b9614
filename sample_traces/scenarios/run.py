"""Run one scenario variant into a set of per-service tracer providers."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from sample_traces.scenarios import conventions
from sample_traces.scenarios.builder import TraceBuilder
from sample_traces.scenarios.registry import Ctx, Outcome, Scenario
from sample_traces.scenarios.telemetry import Telemetry


def seed_of(*parts: object) -> int:
    """A stable 64-bit seed (``hash()`` is salted per process; this is not)."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class Ran:
    scenario: Scenario
    v: int
    trace_id: str
    span_count: int
    outcome: Outcome


def run_variant(scn: Scenario, v: int, telemetry: Telemetry, *, base_ns: int, seed: int) -> Ran:
    """Build trace ``v`` of ``scn``: content from ``seed``, timestamps from ``base_ns``. The spans end
    up in ``telemetry``'s processors; the returned ``Ran`` carries the ground truth."""
    conv = scn.convention(v)
    rng = random.Random(seed ^ 0x5EED5EED)  # not the id generator's stream
    b = TraceBuilder(
        telemetry,
        conventions.get(conv),
        base_ns=base_ns,
        workflow=scn.name,
        conversation_id="conv_" + format(rng.getrandbits(48), "012x"),
        rng=rng,
    )
    outcome = scn.fn(Ctx(b, v, conv))
    if not b.steps:
        raise RuntimeError(f"scenario {scn.name} built no spans")
    trace_ids = {s.trace_id for s in b.steps}
    if len(trace_ids) != 1:
        raise RuntimeError(f"scenario {scn.name} variant {v} spans {len(trace_ids)} traces")
    if scn.clean != (not outcome.expected):
        raise RuntimeError(
            f"scenario {scn.name} variant {v}: clean={scn.clean} but expected={outcome.expected}"
        )
    known = {s.span_id for s in b.steps}
    for exp in outcome.expected:
        missing = {exp.origin_span_id, *exp.span_ids} - known
        if missing or exp.origin_span_id not in exp.span_ids:
            raise RuntimeError(f"scenario {scn.name} variant {v}: bad label {exp} (missing {missing})")
    return Ran(scn, v, trace_ids.pop(), len(b.steps), outcome)
