"""FM-1.3 step repetition: the same agent repeats a step it already completed, without anything new
to act on.

- tool steps: the same tool with the same (canonical) arguments, where the earlier call succeeded
  and the repeat returned the same result (a poll whose answer changes is new information; a retry
  after an error belongs to ``timeout_cascade/retry_storm``; side-effecting tools repeated belong to
  ``duplicate_side_effect``; hand-offs (``transfer_to_*``) are not steps: they carry no arguments,
  and handing back and forth - reject, revise, re-check - moves the work, it does not redo it);
- LLM steps: near-identical substantial output text of the same agent (Jaccard of word sets >= 0.9)
  while the input brought no new message in between.

One finding per repeated step; the origin is the first repetition (the first redundant span).
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

from analysis.detectors.common import Row, clip, finding, is_side_effect_tool, rows, tool_annotations
from analysis.happens_before import handoff_target
from analysis.messages import canonical_json, jaccard, message_fingerprint, normalize_text, token_set
from analysis.model import Finding, Trace

MIN_TEXT = 30
SIMILAR = 0.9


def _same_result(a: str | None, b: str | None) -> bool:
    """Equal answers, up to volatile details (a timestamp, a request id): word sets >= 0.9 alike."""
    ca, cb = canonical_json(a or ""), canonical_json(b or "")
    return ca == cb or jaccard(token_set(ca), token_set(cb)) >= SIMILAR


class StepRepetition:
    name: ClassVar[str] = "step_repetition"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        rs = rows(trace)
        return self._tools(trace, rs) + self._llm(trace, rs)

    def _tools(self, trace: Trace, rs: list[Row]) -> list[Finding]:
        groups: dict[tuple[str | None, str, str], list[Row]] = defaultdict(list)
        for r in rs:
            if r.is_tool and r["tool_name"]:
                groups[(r.agent, r["tool_name"], canonical_json(r["tool_arguments"] or "{}"))].append(r)
        out: list[Finding] = []
        for (agent, tool, args), calls in groups.items():
            if (
                len(calls) < 2
                or handoff_target(tool) is not None
                or is_side_effect_tool(tool, tool_annotations(calls[0]["tool_definitions"], tool))
            ):
                continue
            repeats: list[Row] = []
            prev = calls[0]
            for cur in calls[1:]:
                same = _same_result(prev["tool_result"], cur["tool_result"])
                if not prev.failed and not cur.failed and same and trace.hb.precedes(prev.id, cur.id):
                    repeats.append(cur)
                prev = cur
            if not repeats:
                continue
            out.append(
                finding(
                    self,
                    trace,
                    "step_repetition",
                    repeats[0],
                    [calls[0], *repeats],
                    "medium" if len(repeats) > 1 else "low",
                    f"{agent or 'an agent'} called {tool} with the same arguments {len(repeats) + 1} times "
                    "and got the same result",
                    {
                        "step": "tool",
                        "tool": tool,
                        "arguments": clip(args, 300),
                        "repetitions": len(repeats),
                        "first_span_id": calls[0].id,
                    },
                    key=f"tool:{tool}:{args}",
                )
            )
        return out

    def _llm(self, trace: Trace, rs: list[Row]) -> list[Finding]:
        by_agent: dict[str | None, list[Row]] = defaultdict(list)
        for r in rs:
            if r.is_llm:
                by_agent[r.agent].append(r)
        out: list[Finding] = []
        for agent, calls in by_agent.items():
            seen: list[tuple[Row, frozenset[str], str, set[str]]] = []
            for r in calls:
                text = normalize_text(r.output_text())
                if len(text) < MIN_TEXT:
                    continue
                words = token_set(text)
                inputs = {message_fingerprint(m) for m in r.inputs() if m.role != "system"}
                for first, first_words, first_text, first_inputs in seen:
                    similar = text == first_text or jaccard(words, first_words) >= SIMILAR
                    # new information = an input message that is neither old input nor the earlier answer
                    new = inputs - first_inputs - {m for m in inputs if m.startswith("assistant|")}
                    if similar and not new:
                        out.append(
                            finding(
                                self,
                                trace,
                                "step_repetition",
                                r,
                                [first, r],
                                "low",
                                f"{agent or 'an agent'} repeated an earlier answer without new input: "
                                f"“{clip(r.output_text(), 80)}”",
                                {
                                    "step": "llm",
                                    "first_span_id": first.id,
                                    "similarity": round(jaccard(words, first_words), 3),
                                },
                                key=f"llm:{first.id}",
                            )
                        )
                        break
                else:
                    seen.append((r, words, text, inputs))
        return out
