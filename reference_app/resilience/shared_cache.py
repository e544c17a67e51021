"""A read cache in Redis, shared by every worker process; a Redis fault only costs cache hits.

Keys, for each cached post: `gen:<id>` counts its invalidations and `v<N>:val:<id>` holds
"<epoch>|<gen>|<payload>"; one `epoch` is bumped when a worker may have missed an invalidation.
N is the payload's format: workers of two releases (a rolling deploy) never read each other's
entries, yet share the counters, so each sees the other's invalidations. A payload that does
not decode is a miss.
An entry is served only if both numbers in it are still the current ones, read in one MGET:

- a write bumps the post's gen before it is acknowledged, so no worker serves the old row,
  and a read that loaded the old row before the bump stores it under a gen already stale;
- a write whose bump failed (Redis unreachable) is remembered: this worker stops using the
  cache and keeps retrying the bump until it lands;
- a worker that saw Redis fail (a command that errored or timed out) uses the cache again
  only after bumping the epoch, in the same transaction as its pending bumps: while Redis
  did not answer it, other workers' bumps may have failed too, so it serves nothing cached
  before it was back. So does a connection that reconnects after it was dropped (the pool
  repairs that silently, so no command of ours saw it fail), before its first command. A
  worker also bumps it before its first use: it may replace one that died with bumps pending.

A new connection bumps nothing: a pool that grows missed no invalidation. What is left: a
worker that saw no fault while another's bump failed (Redis reachable from one and not the
other, or idle through an outage that left its connections open) can read the old row until
that retry lands (every RETRY_S) or the entry expires (the cache TTL).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

PREFIX = "reference_app:posts:"
EPOCH_KEY = f"{PREFIX}epoch"
# Bumped with every change to what `encode` writes (v2: posts carry their version).
VALUE_PREFIX = f"{PREFIX}v2:val:"
RETRY_S = 0.05
# A gen outlives every entry stored under it, so an expired gen never revives an old entry.
GEN_TTL_FACTOR = 3

Value = TypeVar("Value")
REDIS_FAULTS = (RedisError, OSError, TimeoutError)


def connect(url: str, timeout_s: float) -> redis.Redis:
    """A client whose commands time out after `timeout_s`, never retried out of sight (that
    would hide a fault), and whose connections bump the epoch when they reconnect."""
    pool = redis.ConnectionPool.from_url(
        url,
        redis_connect_func=_bump_epoch_on_reconnect(),
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), retries=0),
    )
    return redis.Redis(connection_pool=pool)


def _bump_epoch_on_reconnect() -> Callable[[redis.Connection], Awaitable[None]]:
    """Set up each connection as usual; one that connected before was dropped, which the pool
    repairs silently when it hands it out, so it bumps the epoch before its first command.
    A connection that is new (the pool grew) bumps nothing."""
    connected: weakref.WeakSet[redis.Connection] = weakref.WeakSet()

    async def on_connect(connection: redis.Connection) -> None:
        await connection.on_connect()
        if connection in connected:
            await connection.send_command("INCR", EPOCH_KEY)
            await connection.read_response()
        connected.add(connection)

    return on_connect


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
        self._faults = 0  # Redis faults this worker has seen
        self._epoch_covers = -1  # how many of them its last epoch bump came after; -1: none yet

    async def get_or_load(
        self, key: int, load: Callable[[], Awaitable[Value | None]]
    ) -> Value | None:
        stamp = await self._lookup(key) if await self._flush() else None
        if stamp is None:  # Redis unreachable, or this worker still owes it a bump
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

    def _fault(self, error: BaseException) -> None:
        self._faults += 1
        self._on_fault(error)

    async def _flush(self) -> bool:
        """Land what this worker owes: the gen of every pending invalidation, and the epoch
        bump after a fault; False if Redis did not confirm it."""
        faults = self._faults
        bump_epoch = self._epoch_covers < faults
        if not (self._pending or bump_epoch):
            return True
        keys = list(self._pending)
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._redis.pipeline(transaction=True) as pipe:
                    if bump_epoch:
                        pipe.incr(EPOCH_KEY)
                    for key in keys:
                        pipe.incr(f"{PREFIX}gen:{key}")
                        pipe.pexpire(f"{PREFIX}gen:{key}", self._ttl_ms * GEN_TTL_FACTOR)
                        pipe.delete(f"{VALUE_PREFIX}{key}")
                    await pipe.execute()
        except REDIS_FAULTS as error:
            self._fault(error)
            return False
        self._pending.difference_update(keys)
        self._epoch_covers = max(self._epoch_covers, faults)
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
        keys = (EPOCH_KEY, f"{PREFIX}gen:{key}", f"{VALUE_PREFIX}{key}")
        try:
            async with asyncio.timeout(self._timeout_s):
                epoch, gen, raw = await self._redis.mget(keys)
        except REDIS_FAULTS as error:
            self._fault(error)
            return None
        epoch, gen = epoch or b"0", gen or b"0"
        if raw is None:
            return epoch, gen, None
        try:
            raw_epoch, raw_gen, payload = raw.split(b"|", 2)
            current = raw_epoch == epoch and raw_gen == gen
            return epoch, gen, self._decode(payload) if current else None
        except (ValueError, TypeError):  # not an entry this release can read: loaded again
            return epoch, gen, None

    async def _store(self, key: int, entry: bytes) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._redis.set(f"{VALUE_PREFIX}{key}", entry, px=self._ttl_ms)
        except REDIS_FAULTS as error:
            self._fault(error)
