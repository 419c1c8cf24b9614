"""Stored-key set benchmark (``store.stored_keys.StoredKeys``, the writer's duplicate check): how
long the writer thread waits in ``commit`` (the longest waits: merges of the sorted levels) and
what a lookup costs per key, as the set grows to ``--keys`` hashes in groups of 8,192 (the
writer's group), with large merges on their own thread (the store's way) and all on the
writer's thread. Random 64-bit hashes stand in for the keys' (the set never sees anything else).

Figures from one run on one machine are comparable with each other (the ratios), not across
machines. Nothing here is asserted.

    python bench/stored_keys.py [--keys 16000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store import stored_keys  # noqa: E402
from store.stored_keys import StoredKeys  # noqa: E402

GROUP = 8192


def run(n: int, background_from: int) -> tuple[list[tuple[float, int]], float, float]:
    """(the four longest commits with the set's size then, all commits' seconds, lookup seconds)."""
    stored_keys._BACKGROUND_MERGE_ROWS = background_from
    rng = np.random.default_rng(1)
    keys = StoredKeys()
    commits: list[tuple[float, int]] = []
    lookups = 0.0
    for i in range(n // GROUP):
        group = np.sort(rng.integers(0, 2**64 - 1, GROUP, dtype=np.uint64))
        t = time.perf_counter()
        keys.maybe_stored(group)
        lookups += time.perf_counter() - t
        keys.stage(group)
        t = time.perf_counter()
        keys.commit()
        commits.append((time.perf_counter() - t, i * GROUP))
    keys.wait_for_merge()
    total = sum(c for c, _ in commits)
    return sorted(commits, reverse=True)[:4], total, lookups


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=16_000_000)
    args = ap.parse_args()
    default = stored_keys._BACKGROUND_MERGE_ROWS
    print(f"{args.keys:,} hashes committed in groups of {GROUP:,}")
    for label, threshold in (("large merges on their own thread", default), ("every merge inline", 2**63)):
        worst, total, lookups = run(args.keys, threshold)
        waits = ", ".join(f"{s * 1e3:.0f} ms at {at / 1e6:.1f}M" for s, at in worst)
        print(f"  {label}: longest commits {waits}")
        print(
            f"    commits {total * 1e9 / args.keys:.0f} ns/key on the writer thread, "
            f"lookups {lookups * 1e9 / args.keys:.0f} ns/key"
        )


if __name__ == "__main__":
    main()
