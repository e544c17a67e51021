"""Another client on the same database that keeps taking SQLite's single write lock.

It runs BEGIN IMMEDIATE (the write lock, at once), holds the transaction open, commits,
pauses, and goes again until stopped, straight to the database (around every proxy):
the app's writes meet a lock held elsewhere. Two kinds of holder:

- "hrana": another client of the server, on a Hrana stream. Both sqld and the local
  server know the holder is theirs and make writers wait for it (rolling it back if it
  idles past ~5 s).
- "file": another process on the database file itself (a migration, a cron job). The
  server cannot see it: its writers wait `--busy-timeout-ms`, then get SQLITE_BUSY.
  Only for the local server, whose file is plain SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from harness.processes import default_tls

HolderKind = Literal["hrana", "file"]
# The file holder waits this long for the lock itself when the app has it.
FILE_HOLDER_BUSY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class LockHolder:
    """How long each write transaction holds the lock, and the pause between them (ms)."""

    hold_ms: float
    pause_ms: float
    kind: HolderKind = "hrana"


@dataclass
class HolderStats:
    held: int = 0  # transactions that got the lock and committed
    refused: int = 0  # BEGIN IMMEDIATE that did not get it (the app had it)


def _execute(sql: str) -> dict[str, Any]:
    return {"type": "execute", "stmt": {"sql": sql}}


async def _pipeline(
    client: httpx.AsyncClient, baton: str | None, requests: list[dict[str, Any]]
) -> tuple[str | None, list[dict[str, Any]]]:
    response = await client.post("/v2/pipeline", json={"baton": baton, "requests": requests})
    response.raise_for_status()
    body = response.json()
    return body.get("baton"), body["results"]


async def _pause(stop: asyncio.Event, ms: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), ms / 1000)


async def _hold_once(
    client: httpx.AsyncClient, holder: LockHolder, stats: HolderStats, stop: asyncio.Event
) -> None:
    baton, [begun] = await _pipeline(client, None, [_execute("BEGIN IMMEDIATE")])
    if begun["type"] != "ok":
        stats.refused += 1
        await _pipeline(client, baton, [{"type": "close"}])
        return
    await _pause(stop, holder.hold_ms)
    await _pipeline(client, baton, [_execute("COMMIT"), {"type": "close"}])
    stats.held += 1


async def _hold_over_hrana(
    db_url: str, auth_token: str | None, holder: LockHolder, stats: HolderStats, stop: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
    async with httpx.AsyncClient(
        base_url=db_url, headers=headers, timeout=10.0, verify=default_tls()
    ) as client:
        while not stop.is_set():
            await _hold_once(client, holder, stats, stop)
            await _pause(stop, holder.pause_ms)


def _hold_on_file(
    db_file: str, holder: LockHolder, stats: HolderStats, stop: threading.Event
) -> None:
    """On a thread of its own: sqlite3 blocks, and so does its wait for the lock."""
    connection = sqlite3.connect(db_file, timeout=FILE_HOLDER_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        while not stop.is_set():
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                stats.refused += 1
            else:
                stop.wait(holder.hold_ms / 1000)
                connection.execute("COMMIT")
                stats.held += 1
            stop.wait(holder.pause_ms / 1000)
    finally:
        connection.close()


@contextlib.asynccontextmanager
async def contending(
    db_url: str, auth_token: str | None, holder: LockHolder | None, db_file: str | None = None
) -> AsyncIterator[HolderStats]:
    """Hold write locks while the block runs (nothing if `holder` is None).

    Stopped by an event, never cancelled, so a held lock is always committed (and a Hrana
    stream closed), rather than left for the server to expire. A "file" holder needs
    `db_file`, the local server's database.
    """
    stats = HolderStats()
    if holder is None:
        yield stats
        return
    if holder.kind == "file":
        if db_file is None:
            raise ValueError("a lock holder on the database file needs the local server's file")
        stop_thread = threading.Event()
        task = asyncio.create_task(
            asyncio.to_thread(_hold_on_file, db_file, holder, stats, stop_thread)
        )
        stop = stop_thread.set
    else:
        stop_loop = asyncio.Event()
        task = asyncio.create_task(_hold_over_hrana(db_url, auth_token, holder, stats, stop_loop))
        stop = stop_loop.set
    try:
        yield stats
    finally:
        stop()
        await task
