"""Which keys a table stores: the writer's duplicate check for the ingest tables.

The ingest tables (``schema.KEYS_CHECKED_BY_WRITER``: spans, span events and links, log records,
metric points) have no primary key. DuckDB's index for one is an ART that it keeps resident,
~60-70 bytes per stored span for the two text ids (a store of 100 million spans would need ~6-7 GB of
RAM for it, and with a memory cap inserts failed once it filled the cap), and maintaining it cost
~1.1-1.9 µs of the writer thread per span. ``StoredKeys`` holds a 64-bit hash of every stored key
of one table instead, ~8 bytes per row, in a few sorted NumPy arrays (levels, each at least
``_GROWTH`` times larger than the next, merged as they fill: a log-structured set), and is rebuilt
from the stored keys when the writer first writes to the file.

Contract (the writer thread is its only user):
- ``hashes(keys)``: the hash of each row of a table of key columns (in-process only: never
  stored, so its function may change between releases).
- ``maybe_stored(hashes)``: per hash, whether a stored key has it. False is certain; True means the
  key is stored or, with odds of about n / 2^64 for n stored rows, another key shares the hash, so
  a caller that must be exact checks the True rows against the table (``store.ingest``).
- ``stage(hashes)`` during a transaction, then ``commit()`` after its COMMIT or ``discard()`` after
  a rollback: only committed keys count as stored.

A merge into a level of ``_BACKGROUND_MERGE_ROWS`` hashes or more runs on a thread of its own
(NumPy releases the GIL while it copies and sorts), so the writer does not wait for it: the two
levels are searched as they are until the merged one replaces them at a later ``commit``. Merged
on the writer thread, the largest merge held it ~25 ms at 3 million keys and ~0.3 s at 15
million, growing with the store; now a commit holds it ~3 ms at most up to 16 million, and
commits cost the writer ~40 instead of ~105 ns per key, for lookups ~8% dearer (more levels while
a merge runs, which also takes memory bandwidth) (``bench/stored_keys.py``).

Known limit (synthetic hashes, measured): a lookup costs ~130 ns per key on average up to a
million stored keys, ~400-500 at 16-20 million (``searchsorted`` misses the cache in large
levels). A blocked Bloom filter in front of the levels (one cache line per key) would bound it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

Hashes = npt.NDArray[np.uint64]

#: Each level holds at least this many times the hashes of the next, smaller one; an added level
#: is merged into the one before it until that holds. Fewer, larger merges against fewer levels
#: to search: with 4, a million stored rows sit in about five levels.
_GROWTH = 4
_LOAD_BATCH_ROWS = 1 << 20
#: A merge into a level this large runs on ``_merger``'s thread (see the module docstring).
_BACKGROUND_MERGE_ROWS = 1 << 18
#: After such a merge failed (out of memory), the next one waits this long.
_MERGE_RETRY_S = 30.0

log = logging.getLogger(__name__)
_merger: ThreadPoolExecutor | None = None


def _merge_thread() -> ThreadPoolExecutor:
    """One thread for the large merges of every set (the writer thread's only)."""
    global _merger
    if _merger is None:
        _merger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faultlens-key-merge")
    return _merger


def _merge(larger: Hashes, smaller: Hashes) -> Hashes:
    """Two sorted levels as one."""
    merged = np.concatenate((larger, smaller))
    merged.sort(kind="stable")  # two sorted runs: a merge
    return merged


def hashes(keys: pa.Table) -> Hashes:
    """The 64-bit hash of each row of ``keys`` (its key columns, in key order; no nulls)."""
    frame = pl.from_arrow(keys)
    assert isinstance(frame, pl.DataFrame)
    return frame.hash_rows(seed=0).to_numpy().astype(np.uint64, copy=False)


def sorted_unique(values: Hashes) -> Hashes:
    """The distinct ``values``, ascending. (``np.unique`` hashes first in NumPy 2: ~60 times
    slower on these arrays.)"""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    distinct = np.empty(len(ordered), dtype=np.bool_)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered if distinct.all() else ordered[distinct]


class StoredKeys:
    """The hashes of one table's stored keys (see the module docstring for the contract)."""

    def __init__(self) -> None:
        self._levels: list[Hashes] = []
        self._staged: list[Hashes] = []
        #: The merge running on ``_merger``'s thread, of ``_levels[at]`` and ``_levels[at + 1]``.
        self._merging: tuple[int, Future[Hashes]] | None = None
        self._merge_after = 0.0  # monotonic time before which no such merge starts (after a failure)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]) -> StoredKeys:
        """The keys (``columns``) stored in ``table``, read in batches of ``_LOAD_BATCH_ROWS``."""
        keys = cls()
        reader = con.sql(f"SELECT {', '.join(columns)} FROM {table}").to_arrow_reader(_LOAD_BATCH_ROWS)
        parts = [hashes(pa.Table.from_batches([b])) for b in reader if b.num_rows]
        if parts:
            keys._levels.append(sorted_unique(np.concatenate(parts)))
        return keys

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for level in self._levels)

    def maybe_stored(self, values: Hashes) -> npt.NDArray[np.bool_]:
        """Per value of ``values``: might a committed key have it (see the contract)? Values in
        ascending order are found faster (each search starts where the last one ended)."""
        found = np.zeros(len(values), dtype=np.bool_)
        if not len(values):
            return found
        for level in self._levels:
            at = np.searchsorted(level, values)
            np.minimum(at, len(level) - 1, out=at)
            found |= level[at] == values
        return found

    def stage(self, values: Hashes) -> None:
        """Count ``values`` as stored once ``commit`` is called."""
        if len(values):
            self._staged.append(values)

    def discard(self) -> None:
        """The staged values' transaction was rolled back."""
        self._staged.clear()

    def commit(self) -> None:
        """The staged values' transaction committed: they are stored keys now."""
        self._collect_merge(wait=False)
        if not self._staged:
            return
        added = sorted_unique(np.concatenate(self._staged))
        self._staged.clear()
        self._levels.append(added)
        self._settle()

    def wait_for_merge(self) -> None:
        """Let the merges on their own thread finish and take their places, until the levels are
        settled or a merge failed (tests, benchmarks)."""
        while self._merging is not None:
            self._collect_merge(wait=True)
            self._settle()

    def _settle(self) -> None:
        """Merge adjacent levels while one is not ``_GROWTH`` times the next (the smallest first);
        hand a merge into a large level to ``_merger`` (one at a time: the levels of a running merge
        and those before them are left alone until it is collected, which may leave a merged level
        in the middle, so the whole list is looked at, not only its end)."""
        levels = self._levels
        while True:
            floor = 0 if self._merging is None else self._merging[0] + 2
            at = next(
                (
                    i
                    for i in range(len(levels) - 2, floor - 1, -1)
                    if len(levels[i]) < _GROWTH * len(levels[i + 1])
                ),
                None,
            )
            if at is None:
                return
            if len(levels[at]) >= _BACKGROUND_MERGE_ROWS:
                if self._merging is None and time.monotonic() >= self._merge_after:
                    self._merging = (at, _merge_thread().submit(_merge, levels[at], levels[at + 1]))
                return
            levels[at : at + 2] = [_merge(levels[at], levels[at + 1])]

    def _collect_merge(self, *, wait: bool) -> None:
        """Put a finished background merge in place of its two levels. If it failed (out of
        memory), they stay as they are: still every stored hash, in one more level to search; the
        next large merge waits ``_MERGE_RETRY_S``."""
        if self._merging is None:
            return
        at, future = self._merging
        if not wait and not future.done():
            return
        self._merging = None
        try:
            merged = future.result()
        except Exception:
            log.exception("merging %d stored key hashes failed; the levels stay unmerged", len(self))
            self._merge_after = time.monotonic() + _MERGE_RETRY_S
            return
        self._levels[at : at + 2] = [merged]
