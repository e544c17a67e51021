"""The shared cache against a real redis-server: correct across workers, harmless when down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from harness.settings import HarnessSettings
from harness.stack import Redis, redis_server
from reference_app.resilience.shared_cache import (
    EPOCH_KEY,
    PREFIX,
    VALUE_PREFIX,
    SharedReadCache,
    connect,
)

pytestmark = pytest.mark.integration


class Loader:
    def __init__(self, value: str | None) -> None:
        self.value = value
        self.loads = 0

    async def __call__(self) -> str | None:
        self.loads += 1
        return self.value


@pytest.fixture
def server(log_dir: Path) -> Iterator[Redis]:
    binary = HarnessSettings().redis_server
    if not binary.exists():
        pytest.skip(f"no redis-server at {binary}: `make setup` as root installs it")
    with redis_server(binary, log_dir) as running:
        yield running


def worker_cache(url: str, faults: list[BaseException] | None = None) -> SharedReadCache[str]:
    """What one app worker builds: its own client on the shared server."""
    return SharedReadCache(
        connect(url, timeout_s=0.2),
        ttl_s=60,
        timeout_s=0.2,
        encode=str.encode,
        decode=bytes.decode,
        on_fault=(faults.append if faults is not None else lambda _e: None),
    )


@pytest.fixture
async def two_workers(server: Redis) -> AsyncIterator[tuple[SharedReadCache[str], ...]]:
    first, second = worker_cache(server.url), worker_cache(server.url)
    # Each worker used the cache once already (its first use retires older entries).
    for cache in (first, second):
        await cache.get_or_load(0, Loader(None))
    yield first, second
    await first.close()
    await second.close()


async def test_a_loaded_value_is_served_to_every_worker(two_workers) -> None:
    first, second = two_workers
    load = Loader("row")

    assert await first.get_or_load(1, load) == "row"
    assert await second.get_or_load(1, load) == "row"

    assert load.loads == 1


async def test_a_write_on_one_worker_invalidates_for_every_worker(two_workers) -> None:
    first, second = two_workers
    load = Loader("old")
    await first.get_or_load(1, load)
    await second.get_or_load(1, load)

    load.value = "new"
    await second.invalidate(1)

    assert await first.get_or_load(1, load) == "new"


async def test_a_read_that_loaded_before_a_write_stores_nothing_servable(two_workers) -> None:
    first, second = two_workers

    async def old_row_then_a_write_elsewhere() -> str:
        await second.invalidate(1)  # the write commits while this read is in flight
        return "old"

    assert await first.get_or_load(1, old_row_then_a_write_elsewhere) == "old"
    fresh = Loader("new")
    assert await second.get_or_load(1, fresh) == "new"
    assert fresh.loads == 1


async def test_a_new_worker_retires_everything_cached_before(server: Redis) -> None:
    first = worker_cache(server.url)
    load = Loader("cached before")
    await first.get_or_load(1, load)
    await first.close()

    # It may take the place of a worker that died with invalidations pending.
    later = worker_cache(server.url)
    try:
        load.value = "fresh"
        assert await later.get_or_load(1, load) == "fresh"
    finally:
        await later.close()


def current_entry(server: Redis, key: str, payload: bytes) -> None:
    """Writes an entry with the current epoch and gen of post 1, as another worker would."""
    with redis.Redis(server.host, server.port) as admin:
        stamp = b"|".join(admin.get(k) or b"0" for k in (EPOCH_KEY, f"{PREFIX}gen:1"))
        admin.set(key, stamp + b"|" + payload)


async def test_an_entry_of_the_release_before_is_never_read(server: Redis, two_workers) -> None:
    """A rolling deploy: the release before cached posts without their version under
    `val:<id>`; read as this release's, it would be served with the wrong version."""
    first, _ = two_workers
    current_entry(server, f"{PREFIX}val:1", b"payload of the release before")
    load = Loader("row")

    assert await first.get_or_load(1, load) == "row"
    assert load.loads == 1


async def test_a_payload_that_does_not_decode_is_a_miss(server: Redis, two_workers) -> None:
    first, _ = two_workers
    current_entry(server, f"{VALUE_PREFIX}1", b"\xff not utf-8")
    load = Loader("row")

    assert await first.get_or_load(1, load) == "row"
    assert await first.get_or_load(1, load) == "row"
    assert load.loads == 1  # the entry it stored in its place is served


async def test_an_invalidation_by_the_release_before_is_seen(server: Redis, two_workers) -> None:
    """The release before bumps the same gen counters, so its writes retire our entries."""
    first, _ = two_workers
    load = Loader("old")
    await first.get_or_load(1, load)

    with redis.Redis(server.host, server.port) as admin:
        admin.incr(f"{PREFIX}gen:1")
    load.value = "new"

    assert await first.get_or_load(1, load) == "new"


def epoch(server: Redis) -> int:
    with redis.Redis(server.host, server.port) as admin:
        return int(admin.get(EPOCH_KEY) or 0)


def connections(server: Redis) -> int:
    with redis.Redis(server.host, server.port) as admin:
        return len(admin.client_list()) - 1  # not counting this one


async def test_a_growing_pool_retires_nothing(server: Redis, two_workers) -> None:
    first, second = two_workers
    load = Loader("row")
    await first.get_or_load(1, load)
    before = (epoch(server), connections(server))

    # Lookups in flight at once need a connection each: the second worker's pool grows.
    await asyncio.gather(*(second.get_or_load(key, Loader("other")) for key in range(2, 22)))

    assert connections(server) > before[1] + 10
    assert epoch(server) == before[0]
    assert await first.get_or_load(1, load) == "row"
    assert load.loads == 1


async def test_a_dropped_connection_retires_what_was_cached_before(
    server: Redis, two_workers
) -> None:
    first = two_workers[0]
    load = Loader("old")
    await first.get_or_load(1, load)
    with redis.Redis(server.host, server.port) as admin:
        # As an outage does; while cut off, another worker's invalidation may have failed.
        admin.client_kill_filter(_type="normal", skipme=True)
    load.value = "new"  # written meanwhile, its invalidation lost

    assert [await first.get_or_load(1, load) for _ in range(2)] == ["new", "new"]


async def test_a_connection_bumps_the_epoch_when_it_reconnects_not_when_it_is_new(
    server: Redis,
) -> None:
    pool = connect(server.url, timeout_s=0.2).connection_pool
    try:
        first = await pool.get_connection()
        second = await pool.get_connection()  # the first is in use: the pool grows
        assert epoch(server) == 0

        await first.disconnect()  # as a fault does; the pool reconnects it when handed out
        await first.connect()

        assert epoch(server) == 1
        await pool.release(first)
        await pool.release(second)
    finally:
        await pool.aclose()


async def test_a_timed_out_command_makes_its_worker_retire_what_was_cached_before(
    server: Redis, two_workers
) -> None:
    first = two_workers[0]
    load = Loader("old")
    await first.get_or_load(1, load)
    await asyncio.gather(*(first.get_or_load(key, Loader("other")) for key in range(2, 12)))
    server.process.pause()  # Redis stops answering: commands time out, connections stay open
    try:
        assert await first.get_or_load(2, Loader("other")) == "other"
    finally:
        server.process.resume()
    load.value = "new"  # written while first could not see Redis, its invalidation lost

    # At once, so that some go out on connections that saw no fault and need no reconnect.
    reads = await asyncio.gather(*(first.get_or_load(1, load) for _ in range(5)))
    assert reads == ["new"] * 5


async def test_a_worker_that_saw_no_fault_bumps_nothing(server: Redis, two_workers) -> None:
    first, second = two_workers
    before = epoch(server)

    for key in range(1, 6):
        await first.get_or_load(key, Loader("row"))
        await second.invalidate(key)

    assert epoch(server) == before


async def test_with_redis_down_reads_and_writes_still_work(log_dir: Path, server: Redis) -> None:
    faults: list[BaseException] = []
    cache = worker_cache(server.url, faults)
    load = Loader("row")
    await cache.get_or_load(1, load)
    server.process.stop()
    try:
        await cache.invalidate(1)
        load.value = "new"

        assert await cache.get_or_load(1, load) == "new"
        assert faults
    finally:
        await cache.close()
