"""The store's configuration: one typed object with defaults and a ``validate()`` naming the bad key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreConfig:
    """Settings of ``DuckStoreWriter``. Every field has a safe default; ``validate()`` raises
    ``ValueError`` naming the first bad key."""

    #: Items (spans + log records + metric points) the write queue may hold before ``write`` answers
    #: ``StoreBusy``. This bounds the memory held for not yet committed batches.
    queue_max_items: int = 100_000
    #: How long ``write`` waits for its commit when the caller passes no timeout (seconds).
    write_timeout_s: float = 30.0
    #: Longest time between a commit and the maintenance pass (agent resolution, GenAI log join,
    #: ``traces`` summary) that follows it. Maintenance also runs as soon as the queue is idle.
    maintenance_interval_s: float = 0.2
    #: DuckDB ``memory_limit`` (e.g. "2GB"); None leaves DuckDB's default (80% of RAM).
    memory_limit: str | None = None
    #: DuckDB worker threads; None leaves DuckDB's default (one per core).
    threads: int | None = None
    #: Acknowledge batches once they are in the ingest journal beside the file (``store.journal``)
    #: and apply them to DuckDB in large groups; off: acknowledge each commit to DuckDB.
    journal: bool = False
    #: With the journal: journaled items that make a group worth applying at once (DuckDB commits
    #: of a row group, 2,048 rows, or more skip its WAL) ...
    apply_min_items: int = 8192
    #: ... or the longest a journaled batch waits for its group (seconds). Reads never wait for
    #: it: a read first has every acknowledged batch applied.
    apply_max_delay_s: float = 0.25
    #: With the journal: the bound of ``queue_max_items`` for items acknowledged but not yet
    #: applied (beyond it, ``write`` answers ``StoreBusy``). A read waits for all of them to be
    #: applied, ~0.5 s for 40,000 spans on the development machine: inside the 2 s bound.
    journal_max_items: int = 40_000

    def validate(self) -> StoreConfig:
        if self.queue_max_items < 1:
            raise ValueError(f"store.queue_max_items must be >= 1, got {self.queue_max_items}")
        if self.write_timeout_s <= 0:
            raise ValueError(f"store.write_timeout_s must be > 0, got {self.write_timeout_s}")
        if not 0 < self.maintenance_interval_s <= 1.5:
            # The read-visibility bound is 2 s: maintenance must run well within it.
            raise ValueError(
                f"store.maintenance_interval_s must be in (0, 1.5], got {self.maintenance_interval_s}"
            )
        if self.journal_max_items < 1:
            raise ValueError(f"store.journal_max_items must be >= 1, got {self.journal_max_items}")
        if self.apply_min_items < 1:
            raise ValueError(f"store.apply_min_items must be >= 1, got {self.apply_min_items}")
        if not 0 < self.apply_max_delay_s <= 1.0:
            # Inside the 2 s read-visibility bound together with maintenance.
            raise ValueError(f"store.apply_max_delay_s must be in (0, 1], got {self.apply_max_delay_s}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"store.threads must be >= 1, got {self.threads}")
        return self
