"""The detectors the engine runs. Adding a detector = one module + one line here.

The three big families (hallucination propagation, causal consistency, timeout cascades) live in
their own packages under ``analysis/detectors/``; each exposes ``DETECTORS`` (per-trace) and may
expose ``WINDOW_DETECTORS``; a family whose detectors take options (``analysis.options``) exposes
``detectors_for(options)`` instead of relying on ``DETECTORS``. A family package that is not
installed is skipped, so the registry stays importable while a family is being built.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from analysis.detectors.duplicate_side_effect import DuplicateSideEffect
from analysis.detectors.history_loss import HistoryLoss
from analysis.detectors.missing_verification import MissingVerification
from analysis.detectors.noisy_neighbour import NoisyNeighbour
from analysis.detectors.premature_termination import PrematureTermination
from analysis.detectors.reasoning_action_mismatch import ReasoningActionMismatch
from analysis.detectors.step_repetition import StepRepetition
from analysis.detectors.termination_unaware import TerminationUnaware
from analysis.model import Detector, WindowDetector
from analysis.options import DEFAULT, AnalysisOptions

FAMILIES = (
    "analysis.detectors.hallucination",
    "analysis.detectors.causal",
    "analysis.detectors.timeouts",
)


def _family(module: str, attr: str, options: AnalysisOptions = DEFAULT) -> list[object]:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is not None and module.startswith(e.name):
            return []  # the family is not there (yet); anything else missing is a real error
        raise
    build = getattr(mod, "detectors_for", None) if attr == "DETECTORS" else None
    if build is not None:
        return list(build(options))
    return list(getattr(mod, attr, ()))


def detectors(options: AnalysisOptions | None = None) -> Sequence[Detector]:
    """Per-trace detectors, in run order, configured by ``options`` (default: ``DEFAULT``)."""
    opts = options or DEFAULT
    own: list[Detector] = [
        StepRepetition(),
        HistoryLoss(),
        TerminationUnaware(),
        ReasoningActionMismatch(),
        PrematureTermination(),
        MissingVerification(),
        DuplicateSideEffect(),
    ]
    families: list[Detector] = [d for m in FAMILIES for d in _family(m, "DETECTORS", opts)]  # type: ignore[misc]
    return families + own


def window_detectors() -> Sequence[WindowDetector]:
    """Detectors over the traces of a time window."""
    own: list[WindowDetector] = [NoisyNeighbour()]
    families: list[WindowDetector] = [d for m in FAMILIES for d in _family(m, "WINDOW_DETECTORS")]  # type: ignore[misc]
    return families + own
