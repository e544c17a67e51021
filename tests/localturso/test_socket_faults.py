"""The server's WebSocket faults for chaos scenarios: a socket going silent, or closed, and
reconnects refused with 503 and Retry-After (the --ws-* flags)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from harness.stack import local_turso

pytestmark = pytest.mark.integration

HELLO = json.dumps({"type": "hello", "jwt": None})


async def test_a_socket_goes_silent_without_closing(tmp_path: Path, log_dir: Path) -> None:
    args = ["--ws-silent-after-s", "0.3"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws,
        ):
            await ws.send_str(HELLO)
            assert json.loads(await ws.receive_str(timeout=2))["type"] == "hello_ok"
            await asyncio.sleep(0.4)
            await ws.send_str(HELLO)  # a repeated hello is answered on a live socket
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.5)
            assert not ws.closed


async def test_a_closed_socket_is_followed_by_refused_upgrades(
    tmp_path: Path, log_dir: Path
) -> None:
    args = ["--ws-close-after-s", "0.2", "--ws-refuse-after-close-s", "5", "--retry-after-s", "2"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws:
                closed = await ws.receive(timeout=2)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(server.ws_url, protocols=["hrana2"])

    assert closed.type is aiohttp.WSMsgType.CLOSE
    assert closed.data == 1012
    assert refused.value.status == 503
    assert refused.value.headers is not None
    assert refused.value.headers["Retry-After"] == "2"
