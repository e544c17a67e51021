"""A read cache in Redis, shared by every worker process; a Redis fault only costs cache hits.

Keys, for each cached post: `gen:<id>` counts its invalidations and `val:<id>` holds
"<epoch>|<gen>|<payload>"; one `epoch` counts Redis connections ever opened. An entry is
served only if both numbers in it are still the current ones, read in the same MGET:

- a write bumps the post's gen before it is acknowledged, so no worker serves the old row,
  and a read that loaded the old row before the bump stores it under a gen already stale;
- a write whose bump failed (Redis unreachable) is remembered: this worker stops using the
  cache and keeps retrying the bump until it lands;
- every new connection bumps the epoch before its first command: a worker reconnects after
  an outage or a timed-out command, so anything cached before is no longer served.

What is left is a timed-out bump on one worker while other workers keep their connections:
stale reads are then possible until that worker's retry lands (every RETRY_S) or the entry
expires (the cache TTL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

PREFIX = "reference_app:posts:"
EPOCH_KEY = f"{PREFIX}epoch"
RETRY_S = 0.05
# A gen outlives every entry stored under it, so an expired gen never revives an old entry.
GEN_TTL_FACTOR = 3

Value = TypeVar("Value")
REDIS_FAULTS = (RedisError, OSError, TimeoutError)


async def _bump_epoch_on_connect(connection: redis.Connection) -> None:
    """Set up the connection as usual, then bump the epoch before its first command:
    whatever was cached before this worker (re)connected may have missed its writes."""
    await connection.on_connect()
    await connection.send_command("INCR", EPOCH_KEY)
    await connection.read_response()


def connect(url: str, timeout_s: float) -> redis.Redis:
    """A client whose every connection bumps the epoch; commands time out after `timeout_s`."""
    pool = redis.ConnectionPool.from_url(
        url,
        redis_connect_func=_bump_epoch_on_connect,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
    )
    return redis.Redis(connection_pool=pool)


def _ignore(*_args: object) -> None:
    """Default observer: nobody is counting."""


class SharedReadCache(Generic[Value]):
    """Caches found posts by id in Redis; every call on Redis is bounded by `timeout_s`."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_s: float,
        timeout_s: float,
        encode: Callable[[Value], bytes],
        decode: Callable[[bytes], Value],
        on_lookup: Callable[[bool], None] = _ignore,
        on_fault: Callable[[BaseException], None] = _ignore,
    ) -> None:
        self._redis = client
        self._ttl_ms = max(1, round(ttl_s * 1000))
        self._timeout_s = timeout_s
        self._encode, self._decode = encode, decode
        self._on_lookup, self._on_fault = on_lookup, on_fault
        self._pending: set[int] = set()  # invalidations not yet known to have landed
        self._retrying: asyncio.Task[None] | None = None

    async def get_or_load(
        self, key: int, load: Callable[[], Awaitable[Value | None]]
    ) -> Value | None:
        stamp = await self._lookup(key) if await self._flush() else None
        if stamp is None:  # Redis unreachable, or this worker's own writes not yet invalidated
            return await load()
        epoch, gen, cached = stamp
        self._on_lookup(cached is not None)
        if cached is not None:
            return cached
        value = await load()
        if value is not None:
            await self._store(key, epoch + b"|" + gen + b"|" + self._encode(value))
        return value

    async def invalidate(self, key: int) -> None:
        """Returns once the bump landed, or once it is remembered for retrying."""
        self._pending.add(key)
        if not await self._flush() and self._retrying is None:
            self._retrying = asyncio.create_task(self._retry_until_flushed())

    async def close(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        await self._redis.aclose()

    async def _flush(self) -> bool:
        """Bump the gen of every pending invalidation; False if Redis did not confirm it."""
        if not self._pending:
            return True
        keys = list(self._pending)
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._redis.pipeline(transaction=True) as pipe:
                    for key in keys:
                        pipe.incr(f"{PREFIX}gen:{key}")
                        pipe.pexpire(f"{PREFIX}gen:{key}", self._ttl_ms * GEN_TTL_FACTOR)
                        pipe.delete(f"{PREFIX}val:{key}")
                    await pipe.execute()
        except REDIS_FAULTS as error:
            self._on_fault(error)
            return False
        self._pending.difference_update(keys)
        return True

    async def _retry_until_flushed(self) -> None:
        try:
            while True:
                if await self._flush():
                    return
                await asyncio.sleep(RETRY_S)
        finally:
            self._retrying = None

    async def _lookup(self, key: int) -> tuple[bytes, bytes, Value | None] | None:
        keys = (EPOCH_KEY, f"{PREFIX}gen:{key}", f"{PREFIX}val:{key}")
        try:
            async with asyncio.timeout(self._timeout_s):
                epoch, gen, raw = await self._redis.mget(keys)
        except REDIS_FAULTS as error:
            self._on_fault(error)
            return None
        epoch, gen = epoch or b"0", gen or b"0"
        if raw is None:
            return epoch, gen, None
        raw_epoch, raw_gen, payload = raw.split(b"|", 2)
        current = raw_epoch == epoch and raw_gen == gen
        return epoch, gen, self._decode(payload) if current else None

    async def _store(self, key: int, entry: bytes) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._redis.set(f"{PREFIX}val:{key}", entry, px=self._ttl_ms)
        except REDIS_FAULTS as error:
            self._on_fault(error)
