"""FM-1.5 unaware of termination conditions.

- ``max_iterations``: a span says an iteration / turn / recursion limit was hit (error type,
  status message, finish reason or output text: ``MaxTurnsExceeded``, ``GraphRecursionError``,
  "max iterations reached", ...). The origin is the first LLM call after the agent's last
  successful action (a send, a booking) when two or more followed it — it should have stopped
  there — else the span that hit the limit.
- ``after_stop``: an agent's LLM output met an explicit stop condition (``TERMINATE``, a leading
  "Done." / "Final Answer:", "task complete", "I have completed the task"...), yet the same agent
  invocation kept calling the LLM or tools without a new user message (for ``TERMINATE``, a
  group-chat protocol word, any agent's later LLM call counts).
  The origin is the first step taken after the stop condition.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import ClassVar

from analysis.detectors.common import Row, clip, finding, invocations, is_side_effect_tool, rows
from analysis.model import Finding, Trace

_LIMIT = re.compile(
    r"max(imum)?[ _-]?(number[ _-]of[ _-])?(iterations?|turns?|steps?|rounds?|loops?)"
    r"[ _-]?(reached|exceeded|hit)?"
    r"|(iteration|turn|step|recursion|round)[ _-]?limit|maxturnsexceeded|graphrecursionerror"
    r"|too many (iterations|turns|steps)|agent stopped due to (iteration|time) limit"
    r"|max_consecutive_auto_reply|max_round",
    re.I,
)
_STOP = re.compile(
    r"^\s*(all )?(done|finished|completed)\b[.!:]|\bTERMINATE\b|^\s*final answer\s*:|<\s*done\s*>"
    r"|\btask (is )?(now )?(complete|completed|done|finished)\b"
    r"|\ball (tasks|steps) (are )?(complete|completed|done)\b"
    r"|\bno further (action|steps) (is |are )?(needed|required)\b|\[DONE\]|<\s*terminate\s*>"
    r"|\b(i have|i've) (now )?(completed|finished|accomplished) (the|this|your|all) (task|request|steps?)\b"
    r"|\bthe (task|request) (has been|is now|was) (completed|accomplished|fulfilled|done)\b",
    re.I | re.M,
)


class TerminationUnaware:
    name: ClassVar[str] = "termination_unaware"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        rs = rows(trace)
        after = self._after_stop(trace, rs)
        # A limit hit after a stop condition is the same failure: report it once, from the first
        # step taken after the stop.
        return after or self._limits(trace, rs)

    def _limits(self, trace: Trace, rs: list[Row]) -> list[Finding]:
        hits = [
            r
            for r in rs
            if _LIMIT.search(
                " ".join(str(x) for x in (r["error_type"], r["status_message"], r["finish_reasons"]) if x)
            )
            or (r.is_llm and _LIMIT.search(r.output_text()[:2000]))
        ]
        if not hits:
            return []
        # The deepest/earliest report is where the limit was hit; its ancestors just propagate it.
        hit_ids = {r.id for r in hits}
        origins = [
            r for r in hits if not any(trace.hb.precedes(r.id, o) for o in hit_ids if o != r.id)
        ] or hits
        limit = min(origins, key=lambda r: r.start)
        agent_steps = [r for r in rs if r.agent == limit.agent and (r.is_llm or r.is_tool)]
        # Where it should have stopped: right after its last successful action (a send, a booking)
        # when two or more LLM calls followed it; else the failure is only visible at the limit.
        done = next(
            (
                r
                for r in reversed(agent_steps)
                if r.is_tool and not r.failed and is_side_effect_tool(r["tool_name"])
            ),
            None,
        )
        after = [r for r in agent_steps if done is not None and r.is_llm and trace.hb.precedes(done.id, r.id)]
        origin = after[0] if len(after) >= 2 else limit
        return [
            finding(
                self,
                trace,
                "termination_unaware",
                origin,
                [*after, *hits] if len(after) >= 2 else [*hits, *agent_steps[-20:]],
                "high",
                f"{limit.agent or 'an agent'} ran into its iteration limit after {len(agent_steps)} steps"
                + (
                    f", {len(after)} of them after {done['tool_name']} had done the work"
                    if len(after) >= 2 and done
                    else ""
                ),
                {
                    "signal": "max_iterations",
                    "message": clip(limit.error_text() or limit.output_text(), 200),
                    "steps": len(agent_steps),
                    "limit_span_id": limit.id,
                    "done_span_id": done.id if done is not None and len(after) >= 2 else None,
                },
                key="max_iterations",
            )
        ]

    def _after_stop(self, trace: Trace, rs: list[Row]) -> list[Finding]:
        inv = invocations(rs)
        steps_of: dict[str | None, list[Row]] = defaultdict(list)
        all_llm = [r for r in rs if r.is_llm]
        for r in rs:
            if r.is_llm or r.is_tool:
                steps_of[inv.get(r.id)].append(r)
        out: list[Finding] = []
        for steps in steps_of.values():
            for i, r in enumerate(steps):
                if not r.is_llm:
                    continue
                text = r.output_text()
                match = _STOP.search(text) if text else None
                # Only an explicit stop condition counts: code agents answer in plain text at every
                # step, so "text without a tool call" does not mean "done".
                if match is None:
                    continue
                marker = match.group(0).strip()
                # TERMINATE is a group-chat protocol word: every agent should stop, not only this one.
                later = all_llm if marker == "TERMINATE" else steps[i + 1 :]
                extra: list[Row] = []
                for s in later:
                    if s.id == r.id or not trace.hb.precedes(r.id, s.id):
                        continue
                    if self._new_user_turn(r, s):
                        break
                    extra.append(s)
                if extra and (any(s.is_llm for s in extra) or len(extra) >= 2):
                    out.append(
                        finding(
                            self,
                            trace,
                            "termination_unaware",
                            extra[0],
                            [r, *extra],
                            "medium",
                            f"{r.agent or 'an agent'} gave its "
                            f"“{marker}” and "
                            f"{len(extra)} more step(s) followed",
                            {
                                "signal": "after_stop",
                                "stop_span_id": r.id,
                                "stop_marker": marker,
                                "extra_steps": len(extra),
                            },
                            key=f"after_stop:{r.id}",
                        )
                    )
                    break
        return out

    @staticmethod
    def _new_user_turn(stop: Row, step: Row) -> bool:
        """A later LLM call that carries a user message the stop call never saw: a new request."""
        if not step.is_llm:
            return False
        old = {m.text for m in stop.inputs() if m.role == "user"}
        return any(m.role == "user" and m.text not in old for m in step.inputs())
