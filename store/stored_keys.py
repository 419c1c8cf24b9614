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

Known limit (synthetic hashes, measured): a lookup costs ~130 ns per key on average up to a
million stored keys, ~500 up to 20 million (``searchsorted`` misses the cache in large levels),
and a merge into the largest level holds the writer thread ~15 ms at a million keys, ~0.4 s at 20
million, growing with the level. A blocked Bloom filter in front of the levels (one cache line per
key) and levels capped at a few million keys would bound both.
"""

from __future__ import annotations

from collections.abc import Sequence

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
        if not self._staged:
            return
        added = sorted_unique(np.concatenate(self._staged))
        self._staged.clear()
        levels = self._levels
        levels.append(added)
        while len(levels) > 1 and len(levels[-2]) < _GROWTH * len(levels[-1]):
            last = levels.pop()
            merged = np.concatenate((levels.pop(), last))
            merged.sort(kind="stable")  # two sorted runs: a merge
            levels.append(merged)
