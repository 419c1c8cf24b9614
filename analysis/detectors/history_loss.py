"""FM-1.4 loss of conversation history: an agent's LLM call drops user turns that its previous
call of the same conversation had in its input. Compacting one's own tool calls and results into
a summary is a normal context strategy and is not reported; losing what the user said is.

A conversation is one agent's LLM calls sharing a ``conversation_id`` (else one agent invocation).
Across invocations only a visible continuation counts (the later call still carries the earlier
call's latest message or answer): a fresh sub-task with a fresh context is not a loss, and neither
is a sequence of one-shot prompts (no assistant turn in the earlier input). The origin is the call
that lost the history; "high" when the task (the first user turn) itself was lost.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise
from typing import ClassVar

from analysis.detectors.common import Row, clip, finding, invocations, rows
from analysis.messages import Message, message_fingerprint, normalize_text, token_set
from analysis.model import Finding, Trace


def _head(m: Message) -> str:
    """The opening of a message: a templated prompt re-issued with new content keeps it."""
    return f"{m.role}|{normalize_text(m.text)[:40]}" if len(m.text) >= 80 else f"{m.role}|{m.text}"


def _restated(m: Message, texts: list[frozenset[str]]) -> bool:
    """Most of ``m``'s words are carried by one message of the new input: rewritten, not lost."""
    words = token_set(m.text)
    return len(words) >= 5 and any(len(words & t) >= 0.6 * len(words) for t in texts)


class HistoryLoss:
    name: ClassVar[str] = "history_loss"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        rs = rows(trace)
        inv = invocations(rs)
        calls: dict[tuple[str | None, str], list[Row]] = defaultdict(list)
        for r in rs:
            if r.is_llm and r["input_messages"]:
                conv = r["conversation_id"] or inv.get(r.id) or ""
                calls[(r.agent, conv)].append(r)
        out: list[Finding] = []
        for (agent, _), seq in calls.items():
            for prev, cur in pairwise(seq):
                f = self._compare(trace, agent, prev, cur, inv.get(prev.id) == inv.get(cur.id))
                if f is not None:
                    out.append(f)
        return out

    def _compare(
        self, trace: Trace, agent: str | None, prev: Row, cur: Row, same_invocation: bool
    ) -> Finding | None:
        before = [m for m in prev.inputs() if m.role != "system"]
        now = [m for m in cur.inputs() if m.role != "system"]
        if not before or not now:
            return None
        have = Counter(message_fingerprint(m) for m in now)
        missing: list[Message] = []
        restated = [token_set(m.text) for m in now if m.text]
        heads = {_head(m) for m in now if m.text}
        for m in before:
            fp = message_fingerprint(m)
            if have[fp] > 0:
                have[fp] -= 1
            elif not _restated(m, restated) and _head(m) not in heads:
                missing.append(m)
        kept = len(before) - len(missing)
        if kept == 0 and not any(m.role == "assistant" for m in before):
            return None  # a sequence of one-shot prompts (map/reduce over chunks), not a conversation
        answer = normalize_text(prev.output_text())
        now_texts = {normalize_text(m.text) for m in now if m.role == "assistant"}
        dropped_answer = (
            bool(answer)
            and kept > 0
            and answer not in now_texts
            and not any(answer in t or t in answer for t in now_texts if t)
        )
        # Compacting one's own scratchpad (earlier tool calls and results, summarised) is a normal
        # context strategy; losing what the user said is not. Only lost user turns count.
        if not any(m.role == "user" for m in missing):
            return None
        if not same_invocation:
            # Across invocations only a visible continuation counts: the later call still carries
            # the earlier call's latest message or its answer. A fresh sub-task that only repeats
            # the original task is a new context, not a loss.
            last_kept = message_fingerprint(before[-1]) in {message_fingerprint(m) for m in now}
            answer_kept = bool(answer) and any(answer == t for t in now_texts)
            if not (last_kept or answer_kept) or (last_kept and not missing):
                return None
        task_lost = bool(before) and before[0] in missing and before[0].role == "user"
        lost = len(missing) + (1 if dropped_answer else 0)
        return finding(
            self,
            trace,
            "history_loss",
            cur,
            [prev, cur],
            "high" if task_lost else "medium",
            f"{agent or 'an agent'} lost {lost} message(s) of its conversation between two LLM calls"
            + (" — including the task" if task_lost else ""),
            {
                "previous_span_id": prev.id,
                "missing": [f"{m.role}: {clip(m.text, 120)}" for m in missing[:10]],
                "missing_count": len(missing),
                "dropped_previous_answer": dropped_answer,
                "kept": kept,
                "task_lost": task_lost,
            },
            key=prev.id,
        )
