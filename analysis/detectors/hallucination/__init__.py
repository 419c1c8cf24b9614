"""``hallucination_propagation`` (SPEC §5.1): an agent states a fact none of its inputs support and
other agents, shared memory, side-effecting calls or the final answer take it up as true. No LLM:
claims are extracted with patterns, grounded against the span's causal past, and followed forward
through the happens-before relation.

Modules, in pipeline order: ``texts`` (a span's strings, with their location), ``claims``,
``names``, ``dates``, ``numbers`` and ``units`` (extraction and normalization; ``claim`` the
record, ``vocabulary`` the word lists), ``ledger`` (per-trace index), ``grounding`` (support and
origin), ``propagation`` (reach, severity), ``tools`` (undeclared tools, not-found entities;
``notfound`` reads a tool's answer), ``detector`` (findings). Optional, off by default:
``semantic`` (paraphrased names grounded with a sentence-embedding model; ``sentences`` cuts the
texts), switched on by ``AnalysisOptions.semantic_grounding``.

Findings (kinds ``ungrounded_claim``, ``undeclared_tool``, ``not_found_entity``) carry this
evidence, for the dashboard and the report:

``ungrounded_claim``::

    {"claim": "$4.7B",                      # the claim as written at its origin
     "normalized": "money:usd:4.7e+09",     # its normalized key
     "kind": "money",                       # claims.Claim.kind
     "origin_span_id": "<16 hex>",
     "occurrences": [{"span_id", "field", "message"?, "part"?, "start", "end", "text"}, ...],
                                            # origin first, then every carrier; start/end are
                                            # character offsets into the text of that message
                                            # part (or of the column, for tool_arguments etc.)
     "reached_agents": ["writer", ...],     # other agents that took it in
     "reached_final_output": true, "final_output_span_ids": [...],
     "is_final_answer": false,              # the final output is this claim and nothing else
     "memory_writes": [span ids], "tool_calls": [span ids],
     "side_effects": [{"span_id", "tool"}],
     "verified_by": [{"span_id", "agent", "passed": bool}],
     "also_emitted_by": [span ids],         # concurrent spans that also made it up
     "claims": [ {the fields above}, ... ], # every propagated unsupported claim of this origin
     "seen_by_verifier": bool, "verified": bool}

``undeclared_tool`` (origin: the model span that first emitted the call, else - no model span
recorded it - the first tool span that ran it): ``{"tool", "agent", "declared_tools",
"emitted_by": <model span id or null>, "requested_by": [span ids], "executed_by": [span ids],
"failed": [span ids], "seen_by_verifier": false}``.

``not_found_entity`` (origin: the span that first made the entity up, ``entity_origin_span_id``;
the tool spans that reported it missing are ``tool_span_ids``):
``{"entity", "normalized", "kind", "entities", "tool", "tool_span_ids", "emitted_by": <model span
that emitted the call, or null>, "entity_origin_span_id": <span that first made the entity up>,
"not_found": "<the phrase, code or status that said so, or 'an empty result'>", "occurrences": [...],
"seen_by_verifier": false}``.

Registered with ``detectors_for(options)`` (the engine's registry imports this package);
``DETECTORS`` is the default configuration.
"""

from __future__ import annotations

from analysis.detectors.hallucination.detector import HallucinationPropagation
from analysis.model import Detector
from analysis.options import AnalysisOptions

DETECTORS = [HallucinationPropagation()]


def detectors_for(options: AnalysisOptions) -> list[Detector]:
    """The family's detectors configured by ``options``."""
    return [HallucinationPropagation(semantic=options.semantic_grounding)]


__all__ = ["DETECTORS", "HallucinationPropagation", "detectors_for"]
