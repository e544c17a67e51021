"""The shared cache against a real redis-server: correct across workers, harmless when down."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from harness.settings import HarnessSettings
from harness.stack import Redis, redis_server
from reference_app.resilience.shared_cache import SharedReadCache, connect

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
    # Each worker connected once already (every new connection retires older entries).
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


async def test_a_new_connection_retires_everything_cached_before(server: Redis) -> None:
    first = worker_cache(server.url)
    load = Loader("cached before")
    await first.get_or_load(1, load)
    await first.close()

    # A worker that reconnects may have missed invalidations while it was cut off.
    later = worker_cache(server.url)
    try:
        load.value = "fresh"
        assert await later.get_or_load(1, load) == "fresh"
    finally:
        await later.close()


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
