"""MAST — the Multi-Agent System failure Taxonomy (Cemri et al., 2025, "Why Do Multi-Agent LLM
Systems Fail?", final 14-mode version) and the mapping of findings onto it.

``MODES`` is the one table of definitions. ``modes_for`` is the one mapping from a finding
(detector, kind, evidence) to mode ids; the engine applies it to every finding, so the MAST column
of docs/findings-vocabulary.md, the report and the dashboard all come from here.

Some findings are infrastructure faults with no agent-behaviour mode (clock skew, a cyclic
causality in the data, a timeout inversion in configuration, a noisy neighbour): they map to no
mode, and the report still lists them as findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mode:
    id: str
    name: str
    category: str
    definition: str


_SPEC = "Specification issues"
_ALIGN = "Inter-agent misalignment"
_VERIFY = "Task verification"

MODES: tuple[Mode, ...] = (
    Mode(
        "FM-1.1",
        "Disobey task specification",
        _SPEC,
        "Failure to adhere to the specified constraints or requirements of the task.",
    ),
    Mode(
        "FM-1.2",
        "Disobey role specification",
        _SPEC,
        "Failure to adhere to the responsibilities and constraints of an assigned role; an agent "
        "behaves like another.",
    ),
    Mode("FM-1.3", "Step repetition", _SPEC, "Unnecessary reiteration of previously completed steps."),
    Mode(
        "FM-1.4",
        "Loss of conversation history",
        _SPEC,
        "Unexpected context truncation: recent interaction history is disregarded and the agent "
        "reverts to an earlier conversational state.",
    ),
    Mode(
        "FM-1.5",
        "Unaware of termination conditions",
        _SPEC,
        "The criteria that should end the interaction are not recognised: it goes on after the "
        "goal or a stop condition was reached.",
    ),
    Mode(
        "FM-2.1",
        "Conversation reset",
        _ALIGN,
        "Unexpected or unwarranted restart of a dialogue, losing context and progress.",
    ),
    Mode(
        "FM-2.2",
        "Fail to ask for clarification",
        _ALIGN,
        "No request for more information when the data at hand is unclear or incomplete.",
    ),
    Mode("FM-2.3", "Task derailment", _ALIGN, "Deviation from the intended objective or focus of the task."),
    Mode(
        "FM-2.4",
        "Information withholding",
        _ALIGN,
        "Important data that could change other agents' decisions is not shared with them.",
    ),
    Mode(
        "FM-2.5",
        "Ignored other agent's input",
        _ALIGN,
        "Input or recommendations from other agents are disregarded or not adequately considered.",
    ),
    Mode(
        "FM-2.6",
        "Reasoning-action mismatch",
        _ALIGN,
        "The action taken differs from what the agent's own reasoning concluded.",
    ),
    Mode(
        "FM-3.1",
        "Premature termination",
        _VERIFY,
        "The task or dialogue ends before all necessary information was exchanged or the "
        "objectives were met.",
    ),
    Mode(
        "FM-3.2",
        "No or incomplete verification",
        _VERIFY,
        "Task outcomes are not (or only partly) checked or confirmed.",
    ),
    Mode(
        "FM-3.3",
        "Incorrect verification",
        _VERIFY,
        "A verification step ran but failed to validate or cross-check crucial information.",
    ),
)

BY_ID: Mapping[str, Mode] = {m.id: m for m in MODES}

#: (detector, kind) → modes. ``None`` for kind means "every kind of this detector".
_TABLE: Mapping[tuple[str, str | None], tuple[str, ...]] = {
    ("step_repetition", None): ("FM-1.3",),
    ("history_loss", None): ("FM-1.4",),
    ("termination_unaware", None): ("FM-1.5",),
    ("reasoning_action_mismatch", None): ("FM-2.6",),
    ("premature_termination", None): ("FM-3.1",),
    ("missing_verification", None): ("FM-3.2",),
    # Re-executing a completed, non-idempotent step is the definition of step repetition.
    ("duplicate_side_effect", None): ("FM-1.3",),
    # Resource contention between agent classes is an infrastructure fault, not a MAST mode.
    ("noisy_neighbour", None): (),
    # Acting on an old value of shared state = reverting to an earlier state of the conversation.
    ("causal_consistency", "stale_read"): ("FM-1.4",),
    ("causal_consistency", "realtime_stale_read"): ("FM-1.4",),
    # The effect was shared, its cause was not.
    ("causal_consistency", "causal_inversion"): ("FM-2.4",),
    # The second writer overwrote the first agent's update without considering it.
    ("causal_consistency", "lost_update"): ("FM-2.5",),
    ("causal_consistency", "thin_air_read"): (),
    ("causal_consistency", "cyclic_causality"): (),
    ("causal_consistency", "clock_skew"): (),
    # Identical calls repeated against a failing dependency.
    ("timeout_cascade", "retry_storm"): ("FM-1.3",),
    # Calling on while the stop condition (a tripped breaker) holds.
    ("timeout_cascade", "missing_circuit_breaker"): ("FM-1.5",),
    # Callers give up: the task ends before its objective was met.
    ("timeout_cascade", "timeout_cascade"): ("FM-3.1",),
    ("timeout_cascade", "timeout_inversion"): (),
    ("timeout_cascade", "coordination_latency_collapse"): (),
    # A call to a tool the agent was never given breaks the task's declared constraints.
    ("hallucination_propagation", "undeclared_tool"): ("FM-1.1",),
}


def modes_for(
    detector: str, kind: str, evidence: Mapping[str, Any] | None = None, fallback: Iterable[str] = ()
) -> tuple[str, ...]:
    """The MAST modes of one finding. Hallucinations depend on their evidence: an ungrounded claim
    (or a fabricated entity) that a verification step passed is FM-3.3 (the check failed); one no
    check passed - none saw it, or one saw it and rejected it while it travelled on elsewhere - is
    FM-3.2. Unknown detectors keep the modes they declared (``fallback``) when valid."""
    evidence = evidence or {}
    if detector == "hallucination_propagation" and kind in ("ungrounded_claim", "not_found_entity"):
        return ("FM-3.3",) if evidence.get("verified") else ("FM-3.2",)
    for key in ((detector, kind), (detector, None)):
        if key in _TABLE:
            return _TABLE[key]
    return tuple(m for m in fallback if m in BY_ID)


def mode_name(mode_id: str) -> str:
    mode = BY_ID.get(mode_id)
    return mode.name if mode else mode_id
