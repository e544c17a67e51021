"""A token rotation: the database server restarts with a new key pair, then the app's token
file gets the new token, as a secret mount is updated a while after the key changed.

Between the two, the server refuses the app's token: every failure should be a 503 naming
that (or the breaker it opened), and readiness should say "not ready". Once the file holds
the new token, the app must recover by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.processes import default_tls
from harness.stack import DatabaseServer, write_token

READINESS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class TokenRotation:
    """When the key changes, and how long the app's file keeps the old token after that."""

    start_s: float  # into the fault window: the server restarts with a new key pair
    new_token_after_s: float  # from the server's return: the token file gets the new token


@dataclass
class RotationSeen:
    """What happened when, on the workload's clock (seconds from its start)."""

    rotating_from_s: float | None = None  # the server is stopped, to come back with a new key
    rejecting_from_s: float | None = None  # the server is back, refusing the old token
    token_written_s: float | None = None
    readiness_status: int | None = None  # GET /readyz while the token was refused


@dataclass(frozen=True)
class RotationTarget:
    """What a rotation acts on: the stack's database server, the app's token file, the app."""

    server: DatabaseServer
    token_file: Path
    app_url: str


async def _readiness(app_url: str) -> int | None:
    async with httpx.AsyncClient(
        base_url=app_url, timeout=READINESS_TIMEOUT_S, verify=default_tls()
    ) as client:
        try:
            return (await client.get("/readyz")).status_code
        except httpx.HTTPError:
            return None


def _restart(server: DatabaseServer) -> None:
    server.process.stop()
    server.process.start()  # returns once the server answers again


async def _rotate(
    rotation: TokenRotation,
    target: RotationTarget,
    seen: RotationSeen,
    now_s: Callable[[], float],
) -> None:
    await asyncio.sleep(rotation.start_s)
    token = target.server.rotate_key()
    seen.rotating_from_s = now_s()
    try:
        # In a thread that runs to its end even if this task is cancelled: a stack is never
        # left with its server down.
        await asyncio.to_thread(_restart, target.server)
        seen.rejecting_from_s = now_s()
        await asyncio.sleep(rotation.new_token_after_s)
        seen.readiness_status = await _readiness(target.app_url)
    finally:
        # Written even when cancelled, so later scenarios on this stack have a valid token.
        write_token(target.token_file, token)
    seen.token_written_s = now_s()


@contextlib.asynccontextmanager
async def rotating(
    rotation: TokenRotation | None,
    target: RotationTarget | None,
    now_s: Callable[[], float],
) -> AsyncIterator[RotationSeen]:
    """Rotate the token while the block runs; leaves only once the new token is written."""
    seen = RotationSeen()
    if rotation is None:
        yield seen
        return
    if target is None:
        raise ValueError("a token rotation needs a database server that checks tokens")
    task = asyncio.create_task(_rotate(rotation, target, seen, now_s))
    try:
        yield seen
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    await task
