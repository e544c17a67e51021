"""Another client on the same database that keeps taking SQLite's single write lock.

It opens a Hrana stream, runs BEGIN IMMEDIATE (the write lock, at once), holds it
with an open transaction, commits, pauses, and goes again until stopped, straight
to the database (around every proxy): the app's writes meet a lock held elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class LockHolder:
    """How long each write transaction holds the lock, and the pause between them (ms)."""

    hold_ms: float
    pause_ms: float


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


async def _hold_until_stopped(
    db_url: str, auth_token: str | None, holder: LockHolder, stats: HolderStats, stop: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
    async with httpx.AsyncClient(base_url=db_url, headers=headers, timeout=10.0) as client:
        while not stop.is_set():
            await _hold_once(client, holder, stats, stop)
            await _pause(stop, holder.pause_ms)


@contextlib.asynccontextmanager
async def contending(
    db_url: str, auth_token: str | None, holder: LockHolder | None
) -> AsyncIterator[HolderStats]:
    """Hold write locks while the block runs (nothing if `holder` is None).

    Stopped by an event, never cancelled, so a held lock is always committed and its
    stream closed, rather than left for the server to expire.
    """
    stats = HolderStats()
    if holder is None:
        yield stats
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_hold_until_stopped(db_url, auth_token, holder, stats, stop))
    try:
        yield stats
    finally:
        stop.set()
        await task
