"""The timeout family's settings: one typed object with defaults and a ``validate()`` that names the
bad key. Every threshold the detectors use lives here, so none is a literal buried in an algorithm."""

from __future__ import annotations

from dataclasses import dataclass, fields

_MS = 1_000_000
_S = 1_000_000_000

#: Deadlines people configure: a duration sitting just above one of these is "at a deadline".
#: Sub-second values are left out: too many ordinary calls take 100-500 ms to read one as a deadline.
_ROUND_S = (1, 2, 3, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600)
ROUND_DEADLINES_NS: tuple[int, ...] = tuple(s * _S for s in _ROUND_S)


@dataclass(frozen=True)
class TimeoutConfig:
    # -- recognition ----------------------------------------------------------------------------
    #: a span ends this much after its deadline at most (relative part, absolute part)
    deadline_slack_rel: float = 0.01
    deadline_slack_abs_ns: int = 20 * _MS
    #: spans of one operation at the same round deadline needed to call it a deadline cluster
    deadline_cluster_min: int = 2
    # -- time comparisons -----------------------------------------------------------------------
    #: "ended after" means later by more than this (clock noise, cancellation latency)
    end_tolerance_ns: int = 20 * _MS
    #: a child covering this share of its parent's time, ending with it, is the same call (wrapper)
    wrapper_cover: float = 0.9
    #: a span waits for linked work (an awaited job) when the work overlaps this share of its time
    waiter_min_share: float = 0.5
    # -- root cause -----------------------------------------------------------------------------
    #: peers of the same (agent, operation) needed for a baseline
    baseline_min_peers: int = 3
    #: exclusive time above ``ratio`` x the baseline median and ``z`` robust deviations is anomalous
    anomaly_ratio: float = 3.0
    anomaly_z: float = 3.0
    #: exclusive time below this is never anomalous (scheduling noise)
    anomaly_floor_ns: int = 10 * _MS
    #: without a baseline: a share of the critical path this large is anomalous
    anomaly_share: float = 0.3
    # -- retry storms ---------------------------------------------------------------------------
    retry_min_attempts: int = 3
    #: gaps growing by this factor (last vs first, and step by step on average) are a back-off
    backoff_growth: float = 1.5
    #: attempts of several callers starting within this of each other are synchronized
    sync_tolerance_ns: int = 50 * _MS
    sync_tolerance_rel: float = 0.1
    # -- circuit breaker ------------------------------------------------------------------------
    breaker_window_calls: int = 10
    breaker_window_ns: int = 60 * _S  # a rolling window as breakers keep it (Hystrix: 10 s)
    breaker_min_calls: int = 4
    breaker_error_rate: float = 0.5
    #: calls made after the breaker should have opened, needed for a finding
    breaker_min_violations: int = 2
    # -- coordination latency -------------------------------------------------------------------
    #: agents in a synchronous chain (caller waits on callee) needed to judge growth
    coordination_min_agents: int = 4
    #: the deepest hop's overhead vs the top hop's
    coordination_growth: float = 2.0
    #: overhead share of the chain's total time
    coordination_min_share: float = 0.5

    def validate(self) -> TimeoutConfig:
        """Return self, or raise ``ValueError`` naming the first bad key."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value < 0:
                raise ValueError(f"timeouts config: {f.name} must be >= 0, got {value}")
        for name in (
            "wrapper_cover",
            "waiter_min_share",
            "anomaly_share",
            "breaker_error_rate",
            "coordination_min_share",
        ):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"timeouts config: {name} must be in (0, 1], got {getattr(self, name)}")
        for name in (
            "retry_min_attempts",
            "breaker_min_calls",
            "coordination_min_agents",
            "deadline_cluster_min",
        ):
            if getattr(self, name) < 2:
                raise ValueError(f"timeouts config: {name} must be >= 2, got {getattr(self, name)}")
        for name in ("anomaly_ratio", "backoff_growth", "coordination_growth"):
            if getattr(self, name) <= 1:
                raise ValueError(f"timeouts config: {name} must be > 1, got {getattr(self, name)}")
        return self

    def slack(self, deadline_ns: int) -> int:
        """How far past ``deadline_ns`` a span that hit it may end."""
        return int(deadline_ns * self.deadline_slack_rel) + self.deadline_slack_abs_ns


DEFAULT = TimeoutConfig()
