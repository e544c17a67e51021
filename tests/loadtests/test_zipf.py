"""The zipfian chooser stays in range and is skewed as YCSB's is."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from loadtests.zipf import Zipf, latest_id, zipf_id


def test_ranks_stay_in_range_and_favour_the_first() -> None:
    zipf, rng = Zipf(100), random.Random(1)
    counts = Counter(zipf.rank(rng) for _ in range(50_000))

    assert min(counts) == 0
    assert max(counts) <= 99
    # P(0) / P(1) = 2 ** 0.99: the hottest key is about twice as likely as the next.
    assert counts[0] / counts[1] == pytest.approx(2**0.99, rel=0.1)
    assert counts[0] > 10 * counts[50]


def test_ids_map_rank_zero_to_oldest_and_latest_to_newest() -> None:
    zipf, rng = Zipf(10), random.Random(2)
    ids = [zipf_id(zipf, rng, first_id=100) for _ in range(1000)]
    latest = [latest_id(zipf, rng, newest_id=109, first_id=100) for _ in range(1000)]

    assert Counter(ids).most_common(1)[0][0] == 100
    assert Counter(latest).most_common(1)[0][0] == 109
    assert all(100 <= i <= 109 for i in ids + latest)


def test_needs_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Zipf(0)
