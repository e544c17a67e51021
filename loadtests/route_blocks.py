"""The gate's schedule: every route of the API in turn, one route at a time, in fixed blocks.

All users work on the same route during a block, then pause for a short gap in which their
last requests finish, so the CPU the app and database spend in a block (read from their
counters at the gap's middle) is that route's alone: CPU per request per route, not only
in aggregate. Pure (no Locust), so the harness computes the same blocks from the same start.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# In the order they run: reads first (hot ids mostly cached, cold ids mostly not), then the
# writes; DELETE follows POST so it removes the posts its users created in that block.
ROUTES = (
    "GET /posts/{id} hot",
    "GET /posts/{id} cold",
    "GET /posts?after&limit",
    "GET /posts?include=comments",
    "POST /posts",
    "DELETE /posts/{id}",
    "POST /posts/batch",
    "PATCH /posts/{id}",
    "POST /posts/{id}/comments",
)
LEAD_S = 0.3  # from Locust's test start to the first block: every user has spawned
DEFAULT_BLOCK_S = 1.0
DEFAULT_CYCLES = 2  # a route's figure spans several blocks: one slow second sways it less
# No request starts in a block's last GAP_S: the gap outlasts a slow request's tail plus
# two CPU samples, so a counter read at its middle splits two routes cleanly.
GAP_S = 0.25


@dataclass(frozen=True)
class Block:
    route: str
    start_s: float  # requests start from here ...
    active_until_s: float  # ... until here; the gap follows
    end_s: float  # the next block's start

    @property
    def cpu_window(self) -> tuple[float, float]:
        """Where to read the CPU counters: the middle of the gap before and after it."""
        return self.start_s - GAP_S / 2, self.end_s - GAP_S / 2


@dataclass(frozen=True)
class RouteBlocks:
    """`cycles` rounds through `routes` from `started_s` + LEAD_S, route i's block lasting
    `block_s[i]` (or `block_s[0]` for every route); nothing after the last round, so every
    request falls in a whole block."""

    started_s: float
    block_s: Sequence[float] = (DEFAULT_BLOCK_S,)
    cycles: int = DEFAULT_CYCLES
    routes: Sequence[str] = ROUTES

    def __post_init__(self) -> None:
        if len(self.block_s) not in (1, len(self.routes)):
            raise ValueError(f"{len(self.block_s)} block lengths for {len(self.routes)} routes")
        if min(self.block_s) <= GAP_S:
            raise ValueError(f"a route block of {min(self.block_s)}s leaves no time after its gap")
        if self.cycles < 1:
            raise ValueError(f"{self.cycles} rounds through the routes: at least one")

    @property
    def first_s(self) -> float:
        return self.started_s + LEAD_S

    @functools.cached_property
    def lengths(self) -> tuple[float, ...]:
        return tuple(self.block_s) * (len(self.routes) // len(self.block_s))

    @functools.cached_property
    def ends_in_cycle_s(self) -> list[float]:
        """Where each route's block ends, from its round's start."""
        return list(itertools.accumulate(self.lengths))

    @property
    def cycle_s(self) -> float:
        return self.ends_in_cycle_s[-1]

    @property
    def count(self) -> int:
        return self.cycles * len(self.routes)

    def block(self, index: int) -> Block:
        cycle, position = divmod(index, len(self.routes))
        start = self.first_s + cycle * self.cycle_s + sum(self.lengths[:position])
        end = start + self.lengths[position]
        return Block(self.routes[position], start, end - GAP_S, end)

    def __iter__(self) -> Iterator[Block]:
        return (self.block(index) for index in range(self.count))

    def at(self, now_s: float) -> tuple[str | None, float]:
        """The route to request now, or None and how long to wait for the next block."""
        if now_s < self.first_s:
            return None, self.first_s - now_s
        cycle, into_s = divmod(now_s - self.first_s, self.cycle_s)
        if cycle >= self.cycles:
            return None, min(self.lengths)  # done: idle until Locust stops
        position = bisect.bisect_right(self.ends_in_cycle_s, into_s)
        block = self.block(int(cycle) * len(self.routes) + position)
        if now_s >= block.active_until_s:
            return None, block.end_s - now_s
        return block.route, 0.0

    @property
    def duration_s(self) -> float:
        """From the test start to the end of the last block."""
        return LEAD_S + self.cycles * self.cycle_s


def parse_block_s(text: str) -> tuple[float, ...]:
    """`--route-block-s`: one length for every route, or one per route, comma-separated."""
    return tuple(float(part) for part in text.split(","))


def format_block_s(block_s: Sequence[float]) -> str:
    return ",".join(f"{seconds:.3f}" for seconds in block_s)
