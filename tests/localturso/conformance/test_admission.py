"""The admission limit (`--max-concurrent-requests 2`) over WebSocket, differentially: sqld
ends the whole socket when a stream would go over it; another socket is still let in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from harness.stack import DatabaseServer, local_turso, sqld
from tests.localturso.conformance.test_websocket import execute, request

pytestmark = pytest.mark.integration

LIMIT = ("--max-concurrent-requests", "2")
STREAMS = 20
# Slow enough (tens of ms on either server) that the first executes are still running when
# the later streams are opened.
SLOW = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n<300000)"
    " SELECT count(*) FROM r"
)
REPLY_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def limited(
    sqld_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DatabaseServer, DatabaseServer]]:
    """sqld and the local server, both admitting 2 requests at once, no auth."""
    tmp = tmp_path_factory.mktemp("admission")
    with contextlib.ExitStack() as servers:
        real = servers.enter_context(
            sqld(sqld_bin, tmp / "sqld-data", tmp / "logs", extra_args=LIMIT)
        )
        local = servers.enter_context(local_turso(tmp / "local.db", tmp / "logs", extra_args=LIMIT))
        yield real, local


async def _overload(server: DatabaseServer) -> dict[str, Any]:
    """20 streams, each opened with a slow execute, sent at once on one socket; then what
    came back, how the socket ended, and whether a new socket is still let in."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(server.ws_url, protocols=["hrana3"]) as ws:
            await ws.send_json({"type": "hello", "jwt": None})
            hello = (await ws.receive_json(timeout=REPLY_TIMEOUT_S))["type"]
            # The server may drop the socket while these are still being sent.
            with contextlib.suppress(aiohttp.ClientConnectionResetError):
                for stream_id in range(STREAMS):
                    open_stream = {"type": "open_stream", "stream_id": stream_id}
                    await ws.send_json(request(2 * stream_id, open_stream))
                    await ws.send_json(request(2 * stream_id + 1, execute(stream_id, SLOW)))
            executed = 0
            while (
                reply := await ws.receive(timeout=REPLY_TIMEOUT_S)
            ).type == aiohttp.WSMsgType.TEXT:
                executed += reply.json()["response"]["type"] == "execute"
            ended = {"how": reply.type.name, "close_code": ws.close_code}
        # Only the upgrade and hello: sqld may still be opening the dropped socket's streams
        # for a moment, and then drops a new socket's stream too (seen in 3 of 12 runs).
        async with session.ws_connect(server.ws_url, protocols=["hrana3"]) as fresh:
            await fresh.send_json({"type": "hello", "jwt": None})
            later = (await fresh.receive_json(timeout=REPLY_TIMEOUT_S))["type"]
    return {"hello": hello, "executed": executed, "ended": ended, "later": later}


def test_a_stream_over_the_limit_ends_its_socket_without_a_close_frame(
    limited: tuple[DatabaseServer, DatabaseServer],
) -> None:
    real, local = (asyncio.run(_overload(server)) for server in limited)
    # sqld answers nothing more and closes the TCP connection: no close frame (aiohttp: 1006).
    # How many executes got in first depends on timing (none, measured), so only not all.
    assert real["executed"] < STREAMS
    assert local["executed"] < STREAMS
    assert real["ended"] == {"how": "CLOSED", "close_code": 1006}
    assert real["later"] == "hello_ok"
    assert {**local, "executed": 0} == {**real, "executed": 0}
