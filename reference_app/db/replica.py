"""Point reads from an embedded replica: a local SQLite copy of the database, synced from sqld.

Turso's answer to latency on every read (the guide's gotcha 1). `libsql_experimental` keeps
the file and pulls new frames from the primary on `sync()`; reads never leave the process.
Its connection is not thread-safe and blocks, so every call runs on one thread of its own.
Reads are as old as the last sync: up to one sync interval plus one sync behind the primary,
and behind this app's own writes too, which go to the primary over Hrana.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import libsql_experimental

from reference_app.db.transport import Row, Value

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _ignore_sync(_ok: bool, _seconds: float) -> None:
    """Default observer: nobody is counting syncs."""


class EmbeddedReplica:
    """A replica file kept in sync every `sync_interval_s`; a failed sync keeps the old data."""

    def __init__(
        self,
        path: str,
        sync_url: str,
        auth_token: str | None,
        *,
        sync_interval_s: float,
        on_sync: Callable[[bool, float], None] = _ignore_sync,
    ) -> None:
        self._path, self._sync_url, self._auth_token = path, sync_url, auth_token or ""
        self._interval_s = sync_interval_s
        self._on_sync = on_sync
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="replica")
        self._connection: Any = None
        self._syncing: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Connect and sync once (the first sync copies the database), then keep syncing."""
        await self._on_thread(self._connect)
        await self.sync()
        self._syncing = asyncio.create_task(self._sync_forever())

    async def close(self) -> None:
        if self._syncing is not None:
            self._syncing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._syncing
        if self._connection is not None:
            await self._on_thread(self._connection.close)
        self._thread.shutdown(wait=True)

    async def query(self, sql: str, args: Sequence[Value]) -> list[Row]:
        return await self._on_thread(lambda: self._rows(sql, args))

    async def sync(self) -> bool:
        """Pull new frames from the primary; False (and logged) when it could not."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self._on_thread(self._connection.sync)
        except Exception as error:  # the replica keeps serving what it has
            logger.warning("replica sync failed: %s", error)
            self._on_sync(False, loop.time() - started)
            return False
        self._on_sync(True, loop.time() - started)
        return True

    def _connect(self) -> None:
        self._connection = libsql_experimental.connect(
            self._path, sync_url=self._sync_url, auth_token=self._auth_token
        )

    def _rows(self, sql: str, args: Sequence[Value]) -> list[Row]:
        cursor = self._connection.execute(sql, tuple(args))
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.sync()

    async def _on_thread(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)
