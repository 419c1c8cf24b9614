"""Duplicate side effects: a non-idempotent tool (send, create, write, pay, post, delete, book...,
by its declared hints or the verbs of its name) — or any tool called with an idempotency key — ran
twice with the same arguments, or with the same idempotency key, in one trace (whichever agents).

- Two successful executions are a duplicate (high) — unless they carried the same idempotency key
  and got the same answer back (the server de-duplicated: that is what the key is for).
- A retry after a failure is fine when the failure says nothing happened (an error answer) or when
  the retry carries the same idempotency key; after a timeout without a key the first attempt may
  have taken effect, so the retry counts (medium).
The origin is the first duplicate execution.
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

from analysis.detectors.common import (
    Row,
    clip,
    finding,
    idempotency_key,
    is_side_effect_tool,
    maybe_side_effect_failed,
    rows,
    tool_annotations,
)
from analysis.messages import canonical_json, unwrap_arguments
from analysis.model import Finding, Trace


class DuplicateSideEffect:
    name: ClassVar[str] = "duplicate_side_effect"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for r in rows(trace):
            tool = r["tool_name"]
            if not r.is_tool or not tool:
                continue
            args = unwrap_arguments(r["tool_arguments"])
            key = idempotency_key(args)
            if key is not None:
                groups[(tool, f"key={key}")].append(r)
            elif is_side_effect_tool(tool, tool_annotations(r["tool_definitions"], tool)):
                groups[(tool, canonical_json(r["tool_arguments"] or "{}"))].append(r)
        out: list[Finding] = []
        for (tool, ident), calls in groups.items():
            by_key = ident.startswith("key=")
            ok = [c for c in calls if not c.failed]
            if by_key and len({canonical_json(c["tool_result"] or "") for c in ok}) < len(ok):
                continue  # the same answer again: the key de-duplicated the call
            unsure = [] if by_key else [c for c in calls if maybe_side_effect_failed(c)]
            effective = sorted(ok + unsure, key=lambda c: c.start)
            if len(effective) < 2 or not ok:
                continue
            dup = effective[1]
            both_ok = len(ok) >= 2
            out.append(
                finding(
                    self,
                    trace,
                    "duplicate_side_effect",
                    dup,
                    effective,
                    "high" if both_ok else "medium",
                    f"{tool} ran {len(effective)} times with the same "
                    + ("idempotency key" if by_key else "arguments")
                    + ("" if both_ok else " (an earlier attempt timed out and may have taken effect)"),
                    {
                        "tool": tool,
                        "match": "idempotency_key" if by_key else "arguments",
                        "identity": clip(ident, 300),
                        "executions": len(effective),
                        "succeeded": len(ok),
                        "first_span_id": effective[0].id,
                    },
                    key=f"{tool}:{ident}",
                )
            )
        return out
