"""Operation mixes (pure): which operation a YCSB user runs next, in set proportions."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Mapping
from enum import StrEnum


class Op(StrEnum):
    READ = "read"
    UPDATE = "update"
    INSERT = "insert"
    SCAN = "scan"
    READ_MODIFY_WRITE = "read_modify_write"


class Mix:
    """Operations with their proportions; `choose` draws one."""

    def __init__(self, proportions: Mapping[Op, float]) -> None:
        if not proportions or min(proportions.values()) <= 0:
            raise ValueError("a mix needs at least one operation, each with a positive share")
        self.ops = list(proportions)
        self._cumulative = list(itertools.accumulate(proportions.values()))

    def choose(self, rng: random.Random) -> Op:
        point = rng.random() * self._cumulative[-1]
        return self.ops[bisect.bisect_right(self._cumulative, point)]
