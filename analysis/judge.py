"""An optional LLM judge that confirms or refines the MAST modes of findings, through any
OpenAI-compatible ``POST {url}/v1/chat/completions`` endpoint. Off by default; no detector needs it.

The judge sees each finding's detector, kind, summary and (clipped) evidence plus the MAST table,
and answers JSON ``{"modes": ["FM-x.y", ...], "confirmed": bool, "rationale": str}``. Its modes
replace the finding's when they are valid ids; its verdict and rationale go into the evidence
(``evidence["judge"]``). A judge that fails (network, HTTP error, unparsable answer) leaves the
finding unchanged and is logged: analysis never depends on it.
"""

from __future__ import annotations

import http.client
import logging
import re
import urllib.parse
from dataclasses import dataclass, replace
from typing import Any

import orjson

from analysis.mast import BY_ID, MODES
from analysis.model import Finding, Trace

log = logging.getLogger(__name__)

_SYSTEM = (
    "You classify failures of multi-agent LLM systems with the MAST taxonomy. Modes:\n"
    + "\n".join(f"{m.id} {m.name}: {m.definition}" for m in MODES)
    + "\nGiven one finding of an automatic detector, answer only a JSON object "
    '{"modes": [mode ids that apply], "confirmed": true if the evidence shows a real failure, '
    '"rationale": one sentence}.'
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.S)


@dataclass(frozen=True)
class Judge:
    """A ``Refiner`` (``analysis.engine``): ``judge(trace, findings) -> findings``."""

    url: str  # base URL, e.g. http://127.0.0.1:8000 (``/v1/chat/completions`` is appended)
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    timeout: float = 30.0
    max_findings: int = 50  # per trace: a judge is slow and costs money

    def __call__(self, trace: Trace, findings: list[Finding]) -> list[Finding]:
        out: list[Finding] = []
        for i, f in enumerate(findings):
            out.append(self.refine(f) if i < self.max_findings else f)
        return out

    def refine(self, finding: Finding) -> Finding:
        try:
            verdict = self._ask(finding)
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError, IndexError) as e:
            log.warning("judge at %s failed on finding %s: %s", self.url, finding.id, e)
            return finding
        modes = tuple(m for m in verdict.get("modes") or () if isinstance(m, str) and m in BY_ID)
        evidence = dict(finding.evidence)
        evidence["judge"] = {
            "model": self.model,
            "modes": list(modes),
            "confirmed": bool(verdict.get("confirmed", True)),
            "rationale": str(verdict.get("rationale") or "")[:500],
        }
        return replace(finding, mast=modes or finding.mast, evidence=evidence)

    def _ask(self, finding: Finding) -> dict[str, Any]:
        payload = {
            "detector": finding.detector,
            "kind": finding.kind,
            "summary": finding.summary,
            "current_modes": list(finding.mast),
            "evidence": finding.evidence,
        }
        user = orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS).decode()[:6000]
        body = orjson.dumps(
            {
                "model": self.model,
                "temperature": 0,
                "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}],
            }
        )
        parts = urllib.parse.urlsplit(self.url)
        conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_type(parts.netloc, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            conn.request("POST", parts.path.rstrip("/") + "/v1/chat/completions", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}")
        content = orjson.loads(data)["choices"][0]["message"]["content"]
        verdict = orjson.loads(_FENCE.sub("", str(content).strip()))
        if not isinstance(verdict, dict):
            raise ValueError("the judge did not answer a JSON object")
        return verdict
