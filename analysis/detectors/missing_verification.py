"""FM-3.2 no or incomplete verification: an action or the final answer rests on tool or agent
results that no verifier ever saw, in a workflow that has a verifier or declares a verification step.

- A verifier is an agent or tool whose name says so (verifier, reviewer, critic, checker,
  validator, judge, QA, fact-check, ...). The workflow declares verification when such an agent or
  tool appears or is declared, or system instructions ask to verify/validate/double-check.
- A result is information to be checked: a successful lookup-like ``execute_tool`` (not a side
  effect, hand-off or check) or a non-verifier sub-agent's invocation. A check "saw" a result when
  the result causally precedes it.
- The targets, in order: the side-effecting tool calls (send, create, pay...) of agents told to
  check before acting (a verification tool among their tools, or instructions to verify), then the
  final answer. The first target with an unseen result in its causal past (that no check before the
  target saw) is reported, and is the origin: ``none`` when no check ran before it (high),
  ``incomplete`` when some did (medium).
"""

from __future__ import annotations

import re
from typing import ClassVar

from analysis.detectors.common import (
    Row,
    clip,
    final_answer,
    finding,
    is_side_effect_tool,
    is_verifier_name,
    rows,
    tool_names_declared,
)
from analysis.happens_before import handoff_target
from analysis.messages import text_of
from analysis.model import Finding, Trace

# Verification of outcomes, not of anything ("verify the caller's identity" is not a check step).
_DECLARES = re.compile(
    r"\b(verify|validate|check|review|confirm)\b[^.\n]{0,40}?\b(answers?|results?|outputs?|drafts?|facts?"
    r"|figures?|numbers?|data|responses?|work|findings?|calculations?|claims?|sources?|summar(y|ies)"
    r"|reports?|code|brief)\b"
    r"|\b(double|fact|cross)[- ]check|\bverification (step|agent|tool|pass)"
    r"|\bmust be (checked|reviewed|verified)\b",
    re.I,
)


class MissingVerification:
    name: ClassVar[str] = "missing_verification"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        rs = rows(trace)
        final = final_answer(rs, trace.hb.order())
        verifier_agents = {r.agent for r in rs if r.agent and is_verifier_name(r.agent)}
        declared = self._declared(rs, verifier_agents)
        if not declared:
            return []
        checks = [
            r
            for r in rs
            if (
                r.agent in verifier_agents
                and r.op in ("invoke_agent", "chat", "text_completion", "generate_content")
            )
            or (r.is_tool and is_verifier_name(r["tool_name"]) and not handoff_target(r["tool_name"]))
        ]
        results = [r for r in rs if self._is_result(r, verifier_agents)]
        checking_agents = self._checking_agents(rs)
        actions = [
            r
            for r in rs
            if r.is_tool
            and not r.failed
            and is_side_effect_tool(r["tool_name"])
            and r.agent in checking_agents
        ]
        # The first action taken on unchecked data is where the failure starts; else the answer.
        for target in [*actions, *([final] if final is not None else [])]:
            unseen = self._unseen(trace, target, results, checks)
            if unseen is None:
                continue
            return [self._finding(trace, rs, target, unseen, checks, declared, target is final)]
        return []

    @staticmethod
    def _unseen(trace: Trace, target: Row, results: list[Row], checks: list[Row]) -> list[Row] | None:
        """The results in ``target``'s causal past that no check preceding ``target`` saw; None
        when there are none (or nothing fed ``target``)."""
        before = [
            r
            for r in results
            if r.id != target.id
            and trace.hb.precedes(r.id, target.id)
            and not (r.op == "invoke_agent" and r.start <= target.start and r.end >= target.end)
        ]
        done = [v for v in checks if v.id != target.id and trace.hb.precedes(v.id, target.id)]
        unseen = [r for r in before if not any(r.id == v.id or trace.hb.precedes(r.id, v.id) for v in done)]
        return unseen or None

    def _finding(
        self,
        trace: Trace,
        rs: list[Row],
        target: Row,
        unseen: list[Row],
        checks: list[Row],
        declared: str,
        is_final: bool,
    ) -> Finding:
        done = [v for v in checks if trace.hb.precedes(v.id, target.id)]
        kind = "incomplete" if done else "none"
        decided = [
            r
            for r in rs
            if r.is_llm
            and r.agent == target.agent
            and r.end <= target.start
            and trace.hb.precedes(r.id, target.id)
        ]
        involved = ([decided[-1]] if decided and not is_final else []) + unseen
        what = ", ".join(sorted({str(r["tool_name"] or r["agent_name"] or r["name"]) for r in unseen})[:8])
        step = "the final answer" if is_final else f"{target['tool_name']}"
        return finding(
            self,
            trace,
            "missing_verification",
            target,
            involved,
            "high" if kind == "none" else "medium",
            (
                f"{step} went ahead without any verification step ({declared})"
                if kind == "none"
                else f"{step} went ahead on {len(unseen)} result(s) produced after the last verification"
            )
            + f": {what}",
            {
                "verification": kind,
                "declared_by": declared,
                "step": step,
                "unverified": [r.id for r in unseen][:50],
                "verifier_spans": [v.id for v in done][:20],
                "answer": clip(target.output_text(), 200) if is_final else None,
            },
        )

    @staticmethod
    def _checking_agents(rs: list[Row]) -> set[str | None]:
        """Agents that were themselves told to check before acting: a verification tool among their
        declared tools, or instructions that ask them to verify. Their actions must follow a check;
        other agents' actions are checked (or not) by the workflow, before the final answer."""
        out: set[str | None] = set()
        for r in rs:
            if not r.is_llm or r.agent in out:
                continue
            tools = [t for t in tool_names_declared([r]) if is_verifier_name(t) and not handoff_target(t)]
            text = (
                text_of(r["system_instructions"])
                + "\n"
                + "\n".join(m.text for m in r.inputs() if m.role == "system")
            )
            if tools or _DECLARES.search(text):
                out.add(r.agent)
        return out

    @staticmethod
    def _declared(rs: list[Row], verifier_agents: set[str]) -> str:
        if verifier_agents:
            return f"verifier agent {sorted(a for a in verifier_agents if a)[0]}"
        tools = [t for t in tool_names_declared(rs) if is_verifier_name(t) and not handoff_target(t)]
        if tools:
            return f"verification tool {sorted(tools)[0]}"
        # a hand-off to a verifier on offer (transfer_to_reviewer) declares one, used or not
        offered = [
            t for t in tool_names_declared(rs) if handoff_target(t) and is_verifier_name(handoff_target(t))
        ]
        if offered:
            return f"verifier hand-off {sorted(offered)[0]}"
        for r in rs:
            if r["system_instructions"] or r.is_llm:
                text = (
                    text_of(r["system_instructions"])
                    + "\n"
                    + "\n".join(m.text for m in r.inputs() if m.role == "system")
                )
                m = _DECLARES.search(text)
                if m:
                    return f"instructions: “{m.group(0)}”"
        return ""

    @staticmethod
    def _is_result(r: Row, verifier_agents: set[str]) -> bool:
        """Information to be checked: a lookup's answer or a sub-agent's output (not an action's
        receipt, a hand-off or a check itself)."""
        if r.agent in verifier_agents or r.failed:
            return False
        if r.is_tool:
            name = r["tool_name"]
            return not handoff_target(name) and not is_verifier_name(name) and not is_side_effect_tool(name)
        return r.op == "invoke_agent" and not is_verifier_name(r["agent_name"])
