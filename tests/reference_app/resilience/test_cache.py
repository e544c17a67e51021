"""The read cache: hits, TTL on a fake clock, invalidation, and the read-vs-write race."""

from __future__ import annotations

import asyncio

from reference_app.resilience.cache import ReadCache
from tests.reference_app.fakes import FakeClock

TTL_S = 5.0


class Loader:
    def __init__(self, value: str | None) -> None:
        self.value = value
        self.loads = 0

    async def __call__(self) -> str | None:
        self.loads += 1
        return self.value


def cache(clock: FakeClock, lookups: list[bool] | None = None) -> ReadCache[int, str]:
    observe = lookups.append if lookups is not None else (lambda _hit: None)
    return ReadCache(max_entries=10, ttl_s=TTL_S, clock=clock, on_lookup=observe)


async def test_a_second_read_is_a_hit_until_the_ttl_ends() -> None:
    clock, lookups = FakeClock(), list[bool]()
    posts, load = cache(clock, lookups), Loader("post 1")

    assert await posts.get_or_load(1, load) == "post 1"
    assert await posts.get_or_load(1, load) == "post 1"
    clock.advance(TTL_S)
    assert await posts.get_or_load(1, load) == "post 1"

    assert load.loads == 2
    assert lookups == [False, True, False]


async def test_misses_are_not_cached() -> None:
    posts, load = cache(FakeClock()), Loader(None)

    await posts.get_or_load(1, load)
    await posts.get_or_load(1, load)

    assert load.loads == 2


async def test_invalidate_drops_the_entry() -> None:
    posts, load = cache(FakeClock()), Loader("old")
    await posts.get_or_load(1, load)

    await posts.invalidate(1)
    load.value = "new"

    assert await posts.get_or_load(1, load) == "new"


async def test_a_read_racing_an_invalidation_does_not_store_its_stale_row() -> None:
    posts = cache(FakeClock())
    release = asyncio.Event()

    async def slow_old_read() -> str:
        await release.wait()
        return "old"

    reading = asyncio.create_task(posts.get_or_load(1, slow_old_read))
    await asyncio.sleep(0)
    await posts.invalidate(1)  # a PATCH committed while the read was in flight
    release.set()
    assert await reading == "old"

    fresh = Loader("new")
    assert await posts.get_or_load(1, fresh) == "new"
    assert fresh.loads == 1
