"""The ``causal_consistency`` detector family (SPEC §5.2). ``DETECTORS`` is what
``analysis.registry`` runs; see ``detector`` for the pipeline and its complexity."""

from analysis.detectors.causal.detector import CausalConfig, CausalConsistency

DETECTORS = [CausalConsistency()]

__all__ = ["DETECTORS", "CausalConfig", "CausalConsistency"]
