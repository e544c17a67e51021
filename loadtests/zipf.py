"""Pure key choosers: a bounded Zipfian over ranks, as YCSB draws its hot keys."""

from __future__ import annotations

import bisect
import itertools
import random

YCSB_THETA = 0.99  # YCSB's default skew: a few keys take most of the traffic


class Zipf:
    """Ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1) ** theta."""

    def __init__(self, n: int, theta: float = YCSB_THETA) -> None:
        if n < 1:
            raise ValueError(f"need at least one item, got n={n}")
        weights = ((k + 1) ** -theta for k in range(n))
        self._cumulative = list(itertools.accumulate(weights))
        self.n = n

    def rank(self, rng: random.Random) -> int:
        point = rng.random() * self._cumulative[-1]
        return min(bisect.bisect_right(self._cumulative, point), self.n - 1)


def zipf_id(zipf: Zipf, rng: random.Random, first_id: int) -> int:
    """An id where rank 0 is the oldest post: hot keys spread over the seeded range."""
    return first_id + zipf.rank(rng)


def latest_id(zipf: Zipf, rng: random.Random, newest_id: int, first_id: int) -> int:
    """YCSB D's 'latest' distribution: rank 0 is the newest post."""
    return max(first_id, newest_id - zipf.rank(rng))
