"""FM-1.5 unaware of termination conditions.

- ``max_iterations``: a span says an iteration / turn / recursion limit was hit (error type,
  status message, finish reason or output text: ``MaxTurnsExceeded``, ``GraphRecursionError``,
  "max iterations reached", ...). The origin is the first LLM call after the agent's last
  successful action (a send, a booking) when two or more followed it — it should have stopped
  there — else the span that hit the limit.
- ``after_stop``: an agent's LLM output met an explicit stop condition (a leading "Done." /
  "Final Answer:", "task complete", "I have completed the task"..., or the group-chat protocol word
  ``TERMINATE`` ending the message or alone on a line, as AG2/AutoGen agents end a chat), yet steps
  went on without a new user message: LLM calls and tool calls of the same agent invocation — for
  ``TERMINATE``, which tells every agent of the chat to stop, any agent's. One continued step is
  enough. The origin is the first continued step after the stop (a tool call or an LLM call).

  The stop message's own delivery is not a continued step. While no continued step has been
  seen, a tool call is that delivery when it runs a tool call the stop message itself made
  (matched by call id, else by tool name), when the stop message names its tool ("posting it with
  publish_note"), or when its arguments carry the stop message's answer (most of its words: the
  answer being sent through a reply / send tool). An LLM call that only reads the results of the
  stop message's own tool calls and calls no tool closes that exchange and is not counted either.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import ClassVar

from analysis.detectors.common import (
    Row,
    clip,
    finding,
    invocations,
    is_side_effect_tool,
    name_words,
    rows,
)
from analysis.messages import ToolCall
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
    r"^\s*(all )?(done|finished|completed)\b[.!:]|^\s*final answer\s*:|(?-i:\bFINAL ANSWER\s*:)"
    r"|<\s*done\s*>|\b(that|this) (concludes|completes) (the|this|my|our|your) (task|request|work)\b"
    r"|\bnothing (else|more|further) (to do|is (needed|required))\b"
    r"|\btask (is )?(now )?(complete|completed|done|finished)\b"
    r"|\ball (tasks|steps) (are )?(complete|completed|done)\b"
    r"|\bno further (action|steps) (is |are )?(needed|required)\b|\[DONE\]|<\s*terminate\s*>"
    r"|\b(i have|i've) (now )?(completed|finished|accomplished) (the|this|your|all) (task|request|steps?)\b"
    r"|\bthe (task|request) (has been|is now|was) (completed|accomplished|fulfilled|done)\b",
    re.I | re.M,
)
#: AG2/AutoGen's termination word: upper case, ending the message or alone on a line — "say
#: TERMINATE when done" in the middle of a sentence is an instruction, not a stop.
_PROTOCOL = re.compile(r"\bTERMINATE\W*\Z|^\W*TERMINATE\W*$", re.M)
_WORD = re.compile(r"[a-z0-9]{3,}")
#: share of the stop answer's words a tool call's arguments must carry to be its delivery
_DELIVERY_COVER = 0.6
#: words of a tool that hands the result over, and of a message announcing that it will (not
#: "sent": a message saying the result went out already announces nothing more)
_DELIVERY_TOOL = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "send reply respond response post email mail message notify submit deliver publish forward "
        "share answer final finish"
    ).split()
)
_DELIVERY_SAID = re.compile(
    r"\b(send|sending|reply|replying|respond|responding|post|posting|e-?mail|e-?mailing|notify"
    r"|notifying|submit|submitting|deliver|delivering|publish|publishing|forward|forwarding)\b",
    re.I,
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
        all_steps = sorted((r for r in rs if r.is_llm or r.is_tool), key=lambda r: (r.start, r.id))
        steps_of: dict[str | None, list[Row]] = defaultdict(list)
        for r in all_steps:
            steps_of[inv.get(r.id)].append(r)
        out: list[Finding] = []
        for steps in steps_of.values():
            for i, r in enumerate(steps):
                if not r.is_llm:
                    continue
                marker = _stop_marker(r.output_text())
                # Only an explicit stop condition counts: code agents answer in plain text at every
                # step, so "text without a tool call" does not mean "done".
                if marker is None:
                    continue
                later = all_steps if marker == "TERMINATE" else steps[i + 1 :]
                extra = self._continued(trace, r, later)
                if extra:
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

    def _continued(self, trace: Trace, stop: Row, later: list[Row]) -> list[Row]:
        """The steps of ``later`` (start order) that continue after ``stop``: causally after it,
        up to a new user turn, its own delivery left out (see the module docstring)."""
        own_calls = stop.output_calls()
        pending_ids = {c.call_id for c in own_calls if c.call_id}
        pending_names = [c.name for c in own_calls]
        delivered: set[str] = set()  # call ids of the stop's own calls that ran
        extra: list[Row] = []
        for s in later:
            if s.id == stop.id or not trace.hb.precedes(stop.id, s.id):
                continue
            if self._new_user_turn(stop, s):
                break
            if not extra and s.is_tool:
                call_id, tool = s["tool_call_id"], s["tool_name"]
                if call_id and call_id in pending_ids:
                    pending_ids.discard(call_id)
                    delivered.add(call_id)
                    if tool in pending_names:
                        pending_names.remove(tool)
                    continue
                # by name only where ids cannot decide (one side did not record them)
                if tool in pending_names and not (call_id and pending_ids):
                    pending_names.remove(tool)
                    continue
                if _announces(stop, tool) or _carries_answer(stop, s):
                    continue
            if not extra and s.is_llm and own_calls and _closes_exchange(s, delivered, own_calls):
                continue
            extra.append(s)
        return extra

    @staticmethod
    def _new_user_turn(stop: Row, step: Row) -> bool:
        """A later LLM call that carries a user message the stop call never saw: a new request."""
        if not step.is_llm:
            return False
        old = {m.text for m in stop.inputs() if m.role == "user"}
        return any(m.role == "user" and m.text not in old for m in step.inputs())


def _stop_marker(text: str) -> str | None:
    """The stop condition ``text`` meets, ``TERMINATE`` first (its scope is the whole chat)."""
    if not text:
        return None
    if _PROTOCOL.search(text):
        return "TERMINATE"
    match = _STOP.search(text)
    return match.group(0).strip() if match else None


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _announces(stop: Row, tool: str | None) -> bool:
    """The stop message announces the tool it is about to use: it names it (``publish_note`` /
    "publish note"), or the tool hands the result over (send, reply, post, submit...) and the
    message says it is handing it over ("I'll email the summary to the client now")."""
    if not tool:
        return False
    text = " ".join(stop.output_text().lower().split())
    names = {tool.lower(), " ".join(name_words(tool))}
    if any(re.search(rf"(?<![a-z0-9_]){re.escape(n)}(?![a-z0-9_])", text) for n in names if n):
        return True
    return bool(_DELIVERY_TOOL.intersection(name_words(tool))) and _DELIVERY_SAID.search(text) is not None


def _carries_answer(stop: Row, step: Row) -> bool:
    """The tool call's arguments carry most of the stop message's answer: it sends that answer."""
    answer = _words(_PROTOCOL.sub(" ", stop.output_text()))
    if len(answer) < 3:
        return False
    args = _words(str(step["tool_arguments"] or ""))
    return len(answer & args) >= _DELIVERY_COVER * len(answer)


def _closes_exchange(step: Row, delivered: set[str], own_calls: list[ToolCall]) -> bool:
    """An LLM call that reads back the results of the stop message's own tool calls and asks for
    nothing more: the tool-call protocol's last turn, not new work."""
    if step.output_calls():
        return False
    answered = {p.get("id") for m in step.inputs() for p in m.parts if p.get("type") == "tool_call_response"}
    ids = {c.call_id for c in own_calls if c.call_id}
    return bool(ids) and ids <= delivered and ids <= answered
