"""What a read cache is, and the in-process one: TTL, size bound, race-free invalidation.

The in-process cache is right for one worker only: an invalidation reaches no other
process. Several workers share resilience.shared_cache instead.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

from cachetools import TTLCache

from reference_app.resilience.deadline import Clock

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class PostCache(Protocol[Value]):
    """A read-through cache of posts by id; `invalidate` returns before the write is acked."""

    async def get_or_load(
        self, key: int, load: Callable[[], Awaitable[Value | None]]
    ) -> Value | None: ...

    async def invalidate(self, key: int) -> None: ...

    async def close(self) -> None: ...


def _ignore_lookup(_hit: bool) -> None:
    """Default observer: nobody is counting hits."""


class ReadCache(Generic[Key, Value]):
    """Caches loaded values (never misses: a missing row may be created any moment).

    Every invalidation bumps an epoch; a load that started before an invalidation does not
    store its result, so a read racing a PATCH cannot put the old row back for a whole TTL.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_s: float,
        clock: Clock = time.monotonic,
        on_lookup: Callable[[bool], None] = _ignore_lookup,
    ) -> None:
        self._entries: TTLCache[Key, Value] = TTLCache(max_entries, ttl_s, timer=clock)
        self._epoch = 0
        self._on_lookup = on_lookup

    async def get_or_load(
        self, key: Key, load: Callable[[], Awaitable[Value | None]]
    ) -> Value | None:
        cached = self._entries.get(key)
        self._on_lookup(cached is not None)
        if cached is not None:
            return cached
        epoch = self._epoch
        value = await load()
        if value is not None and epoch == self._epoch:
            self._entries[key] = value
        return value

    async def invalidate(self, key: Key) -> None:
        self._epoch += 1
        self._entries.pop(key, None)

    async def close(self) -> None:
        self._entries.clear()
