"""The scenario registry: every generator registers itself with ``@scenario``.

A scenario is a function ``Ctx -> Outcome``: it builds one trace through ``ctx.b`` (a
``TraceBuilder``), choosing content, agent names and timings from ``ctx.v`` (its variant index) and
``ctx.rng``, and returns the ground truth: the findings a correct detector reports
(docs/findings-vocabulary.md), empty for a clean control.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sample_traces.scenarios.builder import Step, TraceBuilder
from sample_traces.scenarios.content import CASTS, Cast
from sample_traces.scenarios.conventions import CONVENTIONS, ConventionName
from sample_traces.scenarios.model import Expected


@dataclass
class Ctx:
    b: TraceBuilder
    v: int  # variant index, 0-based
    convention: ConventionName

    @property
    def rng(self) -> random.Random:
        return self.b.rng

    @property
    def cast(self) -> Cast:
        return CASTS[self.v % len(CASTS)]


@dataclass(frozen=True)
class Outcome:
    variant: str  # human-readable variant id, e.g. "finance/memory/depth2"
    description: str
    expected: tuple[Expected, ...] = ()


ScenarioFn = Callable[[Ctx], Outcome]


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str  # hallucination | causal | timeout | structural
    clean: bool
    variants: int
    fn: ScenarioFn

    def convention(self, v: int) -> ConventionName:
        # rotate conventions with an offset per scenario so every (scenario, convention) pair occurs
        return CONVENTIONS[(v + len(self.name)) % len(CONVENTIONS)]


REGISTRY: list[Scenario] = []


def scenario(
    name: str, *, family: str, variants: int, clean: bool = False
) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register ``fn`` as the generator ``name`` with ``variants`` traces in the corpus."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        if any(s.name == name for s in REGISTRY):
            raise ValueError(f"duplicate scenario name {name!r}")
        REGISTRY.append(Scenario(name, family, clean, variants, fn))
        return fn

    return register


def all_scenarios() -> list[Scenario]:
    """Every registered scenario, in registration order (imports the family modules)."""
    from sample_traces.scenarios import (  # noqa: F401  (imported for registration)
        causal,
        causal_controls,
        controls,
        hallucination,
        structural,
        structural_controls,
        timeout_controls,
        timeouts,
    )

    return list(REGISTRY)


def carriers(b: TraceBuilder, *needles: str) -> list[str]:
    """Ids of the spans whose attribute values contain any of ``needles``, in creation order."""
    out: list[str] = []
    for step in b.steps:
        attrs = step.span.attributes or {}
        for value in attrs.values():
            values: Iterable[object] = value if isinstance(value, tuple | list) else (value,)
            if any(isinstance(x, str) and any(n in x for n in needles) for x in values):
                out.append(step.span_id)
                break
    return out


def ids(*steps: Step | None) -> tuple[str, ...]:
    return tuple(s.span_id for s in steps if s is not None)
