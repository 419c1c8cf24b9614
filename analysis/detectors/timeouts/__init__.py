"""The ``timeout_cascade`` family (SPEC §5.3): timeout recognition (``signals``), the critical path
and root-cause scoring (``critical_path``), cascades and inversions (``cascade``), retry storms
(``retries``), missing circuit breakers (``breaker``), coordination latency collapse
(``coordination``); ``detector`` turns them into findings. ``analysis.registry`` picks up
``DETECTORS`` and ``WINDOW_DETECTORS``."""

from __future__ import annotations

from analysis.detectors.timeouts.config import TimeoutConfig
from analysis.detectors.timeouts.detector import CircuitBreakerWindowDetector, TimeoutCascadeDetector

DETECTORS = (TimeoutCascadeDetector(),)
WINDOW_DETECTORS = (CircuitBreakerWindowDetector(),)

__all__ = [
    "DETECTORS",
    "WINDOW_DETECTORS",
    "CircuitBreakerWindowDetector",
    "TimeoutCascadeDetector",
    "TimeoutConfig",
]
