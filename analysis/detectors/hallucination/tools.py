"""Tool hallucination: calls to tools the agent was never given, and arguments naming entities that
do not exist.

- ``undeclared_tool``: an agent's declared tools are the union of the ``tool_definitions`` of its
  model spans (never a tool span's own schema: a tool cannot declare itself). A call is a
  ``tool_call`` part the agent's model emitted or an ``execute_tool`` span of the agent; it is
  undeclared when its name matches no declared tool, compared case-insensitively and by last
  namespace segment (``functions.search`` = ``search``, ``mcp__crm__lookup`` = ``lookup``). Agents
  with no tool definitions at all are not judged: absence of evidence is not an undeclared call.
- ``not_found_entity``: a tool reports not-found (``notfound``: HTTP 404, a not-found phrase or
  error code, "no <thing> with ...", an empty answer to a lookup by key) and its arguments hold
  an ungrounded claim: the entity was made up upstream (first emitted without support), not
  mistyped by the user.

Origin: the first ungrounded emission, as for every claim (SPEC §5.1; "where the failure
starts", SPEC §5.5). For ``undeclared_tool`` that is the model span that emitted the call - the
decision to call a tool it was never given -, or the first tool span that ran it when no model span
recorded the call. For ``not_found_entity`` it is the span where the entity was first made up
(usually the model span whose tool call carries it; an upstream agent's message when the entity
was invented there), also in ``evidence["entity_origin_span_id"]``. The tool spans that ran the
call (and for ``not_found_entity`` reported the entity missing) are in ``span_ids`` and in the
evidence (``executed_by`` / ``tool_span_ids``); the emitting model span is ``emitted_by``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from analysis.detectors.hallucination.claim import Claim
from analysis.detectors.hallucination.grounding import Ungrounded
from analysis.detectors.hallucination.ledger import Ledger, Occurrence
from analysis.detectors.hallucination.notfound import EMPTY_SEARCH, key_values, not_found_reason
from analysis.detectors.hallucination.propagation import is_side_effecting
from analysis.detectors.hallucination.texts import TOOL_OPS
from analysis.happens_before import handoff_target
from analysis.messages import loads, normalize_agent
from analysis.model import Severity


@dataclass
class ToolFinding:
    kind: str
    origin: str
    span_ids: list[str]
    agents: list[str]
    severity: Severity
    summary: str
    key: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _definition_names(value: str | None) -> list[str]:
    raw = loads(value)
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    names: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        fn = item.get("function")
        name = item.get("name") or (fn.get("name") if isinstance(fn, dict) else None)
        if isinstance(name, str) and name:
            names.append(name)
    return names


def tool_aliases(name: str) -> set[str]:
    low = name.strip().lower()
    return {low, re.split(r"\.|:|/|__", low)[-1]}


def _is_tool_span(ledger: Ledger, sid: str) -> bool:
    info = ledger.spans[sid]
    return info.operation in TOOL_OPS or (info.operation is None and info.tool_name is not None)


def declared_tools(ledger: Ledger) -> dict[str | None, set[str]]:
    """agent → declared tool names (as written) from its model spans' tool definitions."""
    out: dict[str | None, set[str]] = defaultdict(set)
    for sid, info in ledger.spans.items():
        if _is_tool_span(ledger, sid):
            continue
        out[info.agent].update(_definition_names(info.row.get("tool_definitions")))
    return {a: names for a, names in out.items() if names}


def undeclared_tools(ledger: Ledger) -> list[ToolFinding]:
    declared = declared_tools(ledger)
    agents = {normalize_agent(a) for a in ledger.trace.agent_of.values() if a}
    aliases = {a: set().union(*(tool_aliases(n) for n in names)) for a, names in declared.items()}
    # (agent, tool) → (requesting model spans, executing tool spans)
    calls: dict[tuple[str | None, str], tuple[list[str], list[str]]] = {}
    # agents whose model spans record the calls they request: a tool they ran without any model
    # asking for it was run by the framework (a cache fallback, a guard), not chosen by the model
    records_calls = {
        info.agent
        for sid, info in ledger.spans.items()
        if any(u.tool and u.emitted for u in ledger.units[sid])
    }
    for sid in ledger.order:
        info = ledger.spans.get(sid)
        if info is None or info.agent not in aliases:
            continue
        names: list[tuple[str, bool]] = []
        if _is_tool_span(ledger, sid) and info.tool_name:
            names.append((info.tool_name, True))
        names += [
            (u.tool, False)
            for u in ledger.units[sid]
            if u.tool and u.emitted and u.field == "output_messages"
        ]
        for name, executed in names:
            if tool_aliases(name) & aliases[info.agent] or _handoff_to_known_agent(name, agents):
                continue
            req, run = calls.setdefault((info.agent, name), ([], []))
            target = run if executed else req
            if sid not in target:
                target.append(sid)
    out: list[ToolFinding] = []
    for (agent, name), (req, run) in calls.items():
        if not req and agent in records_calls:
            continue
        origin = req[0] if req else run[0]
        failed = [
            s
            for s in run
            if ledger.spans[s].row.get("status_code") == 2 or ledger.spans[s].row.get("error_type")
        ]
        sev: Severity = "high" if is_side_effecting(name) and len(failed) < len(run) else "medium"
        out.append(
            ToolFinding(
                "undeclared_tool",
                origin,
                list(dict.fromkeys([origin, *req, *run])),
                [agent] if agent else [],
                sev,
                f"{agent or 'an agent'} called tool '{name}', which is not among its declared tools",
                f"tool:{name}",
                {
                    "tool": name,
                    "agent": agent,
                    "declared_tools": sorted(declared[agent])[:100],
                    "emitted_by": req[0] if req else None,
                    "requested_by": req,
                    "executed_by": run,
                    "failed": failed,
                    "seen_by_verifier": False,
                },
            )
        )
    return out


def _handoff_to_known_agent(tool: str, agents: set[str]) -> bool:
    """Hand-offs are often left out of the declared tools (frameworks add them): one to an agent
    of this trace is routing, not a hallucinated tool."""
    target = handoff_target(tool)
    return target is not None and (target in agents or any(a.startswith(target) for a in agents if target))


def _event_texts(ledger: Ledger, sid: str) -> list[str]:
    events = ledger.trace.events
    if not events.height or "span_id" not in events.columns:
        return []
    return [str(a or "") for a in events.filter(events["span_id"] == sid)["attributes"].to_list()]


_ENTITY_RANK = {
    "identifier": 0,
    "email": 0,
    "url": 0,
    "path": 0,
    "name": 1,
    "quoted": 1,
    "value": 2,
    "code": 2,
}


def _entity_like(claim: Claim) -> bool:
    """Names a thing: an id, address, path, name — not a composed search query ("q3 revenue
    northwind earnings report"), which "no results" says nothing about."""
    if claim.kind not in _ENTITY_RANK:
        return False
    return claim.kind != "value" or len(claim.tokens) <= 3


def _numeric_key(claim: Claim, keys: set[str]) -> bool:
    """A number passed as a key ("order_id": 884120) names a thing, like "ORD-884120" does."""
    return claim.kind == "number" and claim.text.replace(",", "").lower() in keys


def not_found_entities(
    ledger: Ledger,
    ungrounded: list[Ungrounded],
    skip: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[ToolFinding], set[str]]:
    """One finding per call (the first tool span that reported them) whose made-up entities a tool
    reported as not found, later calls retrying the same made-up entities included, and the claim
    keys they account for (not reported again as ungrounded claims). Tool spans in ``skip`` (calls
    to undeclared tools: "unknown tool" is about the tool, not its arguments) are not judged."""
    by_key = {u.claim.key: u for u in ungrounded}
    first_call: dict[str, str] = {}  # span that made an entity up → first call that passed it
    # first call → (tool spans, entities in first-seen order, occurrences, reasons)
    grouped: dict[str, tuple[list[str], dict[str, Ungrounded], list[Occurrence], list[str]]] = {}
    for sid in ledger.order:
        if sid not in ledger.spans or sid in skip or not _is_tool_span(ledger, sid):
            continue
        arg_keys = key_values(ledger.spans[sid].row.get("tool_arguments"))
        hits = [
            (occ, u)
            for occ in ledger.claims.get(sid, ())
            if occ.unit.field == "tool_arguments"
            and (_entity_like(occ.claim) or _numeric_key(occ.claim, arg_keys))
            and (u := by_key.get(occ.claim.key)) is not None
            and (u.origin == sid or ledger.after(u.origin, sid))
        ]
        reason = (
            not_found_reason(
                ledger.spans[sid].row, _event_texts(ledger, sid), [o.claim.text for o, _ in hits]
            )
            if hits
            else None
        )
        if reason is None:
            continue
        if reason in EMPTY_SEARCH:  # a search for a word that matched nothing: the word is no entity
            hits = [(o, u) for o, u in hits if o.claim.kind != "value" or o.claim.text.lower() in arg_keys]
        for occ, u in hits:
            call = first_call.setdefault(u.origin, sid)
            spans, entities, occs, reasons = grouped.setdefault(call, ([], {}, [], []))
            if sid not in spans:
                spans.append(sid)
                reasons.append(reason)
            entities.setdefault(u.claim.key, u)
            occs.append(occ)
    out: list[ToolFinding] = []
    keys: set[str] = set()
    for call, (tool_spans, entities, occs, reasons) in grouped.items():
        ranked = sorted(entities.values(), key=lambda u: _ENTITY_RANK.get(u.claim.kind, 3))
        main = ranked[0]
        keys.update(entities)
        tool = ledger.spans[call].tool_name
        emitted_by = _emitting_span(ledger, call)
        made_up = [u.origin for u in ranked]
        origin = main.origin
        involved = [origin, *([emitted_by] if emitted_by else []), *made_up, call, *tool_spans]
        agents = list(dict.fromkeys(a for a in (ledger.agent(s) for s in involved) if a))
        caller = ledger.agent(emitted_by or main.origin)
        sev: Severity = (
            "high" if any(is_side_effecting(ledger.spans[s].tool_name) for s in tool_spans) else "medium"
        )
        out.append(
            ToolFinding(
                "not_found_entity",
                origin,
                list(dict.fromkeys(involved)),
                agents,
                sev,
                f"{caller or 'an agent'} passed '{main.claim.text}' to {tool or 'a tool'}, "
                f"which reported it {reasons[0]}; the entity appears nowhere in its inputs",
                main.claim.key,
                {
                    "entity": main.claim.text,
                    "normalized": main.claim.key,
                    "kind": main.claim.kind,
                    "entities": [u.claim.text for u in ranked],
                    "tool": tool,
                    "tool_span_ids": tool_spans,
                    "emitted_by": emitted_by,
                    "entity_origin_span_id": main.origin,
                    "not_found": reasons[0],
                    "occurrences": [o.evidence() for u in ranked for o in u.occurrences]
                    + [o.evidence() for o in occs],
                    "seen_by_verifier": False,
                },
            )
        )
    return out, keys


def _emitting_span(ledger: Ledger, tool_sid: str) -> str | None:
    """The model span that emitted the call ``tool_sid`` ran: the latest span of the same agent
    before it whose output holds a ``tool_call`` part naming its tool, or None (the framework made
    the call, or the model spans do not record their calls)."""
    info = ledger.spans[tool_sid]
    if not info.tool_name:
        return None
    names = tool_aliases(info.tool_name)
    found: str | None = None
    for sid in ledger.order[: ledger.position.get(tool_sid, 0)]:
        other = ledger.spans.get(sid)
        if other is None or other.agent != info.agent or sid == tool_sid:
            continue
        if any(
            u.tool and u.emitted and u.field == "output_messages" and tool_aliases(u.tool) & names
            for u in ledger.units[sid]
        ) and not ledger.after(tool_sid, sid):
            found = sid
    return found
