"""Stop the database mid-load: 503 (never 500) while it is down, recovery within 2 s, no ack lost.

Runs the real thing: a uvicorn app process and a localturso process, both from harness.stack.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.processes import running
from harness.stack import local_turso_process, reference_app

pytestmark = pytest.mark.integration

WRITERS = 4
READERS = 2
PACE_S = 0.005  # between one client's requests, so a fast-failing app is not a busy loop
OUTAGE_S = 1.5
RECOVERY_LIMIT_S = 2.0
LOAD_LIMIT_S = 20.0  # a hard bound on the whole load, whatever happens
MAX_REQUESTS = 20_000


@dataclass(frozen=True)
class Seen:
    started: float
    ended: float
    status: int | None  # None: no HTTP response at all
    json_body: bool
    retry_after: bool


@dataclass
class Load:
    """Writers and readers against the app, recording what every request saw."""

    client: httpx.AsyncClient
    seen: list[Seen] = field(default_factory=list)
    acked: dict[int, str] = field(default_factory=dict)  # id -> title
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    count: itertools.count[int] = field(default_factory=itertools.count)

    def running(self, deadline: float) -> bool:
        return not self.stop.is_set() and time.monotonic() < deadline

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError:
            self.seen.append(Seen(started, time.monotonic(), None, False, False))
            return None
        is_json = response.headers.get("content-type", "").startswith("application/json")
        retry_after = "retry-after" in response.headers
        self.seen.append(
            Seen(started, time.monotonic(), response.status_code, is_json, retry_after)
        )
        return response

    async def writer(self, deadline: float) -> None:
        while self.running(deadline) and next(self.count) < MAX_REQUESTS:
            key = uuid.uuid4().hex
            title = f"outage {key}"
            response = await self.request(
                "POST",
                "/posts",
                json={"title": title, "content": "c"},
                headers={"Idempotency-Key": key},
            )
            if response is not None and response.status_code == 201:
                self.acked[response.json()["id"]] = title
            await asyncio.sleep(PACE_S)

    async def reader(self, deadline: float) -> None:
        while self.running(deadline) and next(self.count) < MAX_REQUESTS:
            after = max(self.acked, default=0)
            await self.request("GET", "/posts", params={"after": max(after - 5, 0), "limit": 5})
            await asyncio.sleep(PACE_S)

    async def run(self) -> None:
        deadline = time.monotonic() + LOAD_LIMIT_S
        clients = [self.writer(deadline) for _ in range(WRITERS)]
        clients += [self.reader(deadline) for _ in range(READERS)]
        await asyncio.gather(*clients)

    async def wait_for_ack_after(self, moment: float, limit_s: float) -> float | None:
        """When the first success started after `moment` ended, polled; None if none in time."""
        give_up = time.monotonic() + limit_s
        while time.monotonic() < give_up:
            ok = [s.ended for s in self.seen if s.started >= moment and s.status in (200, 201)]
            if ok:
                return min(ok)
            await asyncio.sleep(0.01)
        return None


@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_database_outage_mid_load(scheme: str, tmp_path: Path, log_dir: Path) -> None:
    turso = local_turso_process(tmp_path / "outage.db", log_dir)
    with running(turso.process):
        url = turso.http_url if scheme == "http" else turso.ws_url
        with reference_app(log_dir, env={"TURSO_DATABASE_URL": url}) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=5.0) as client:
                load = Load(client)
                loading = asyncio.create_task(load.run())
                try:
                    assert await load.wait_for_ack_after(0.0, limit_s=5.0), "load never succeeded"
                    await asyncio.to_thread(turso.process.stop)
                    down_from = time.monotonic()
                    await asyncio.sleep(OUTAGE_S)  # the outage lasts this long, under load
                    down_until = time.monotonic()
                    await asyncio.to_thread(turso.process.start)  # returns once it answers
                    back_at = time.monotonic()
                    recovered_at = await load.wait_for_ack_after(back_at, limit_s=5.0)
                finally:
                    load.stop.set()
                    await loading
                acked_before_check = dict(load.acked)
                stored = {
                    post_id: (await client.get(f"/posts/{post_id}")).json().get("title")
                    for post_id in acked_before_check
                }

    while_down = [s for s in load.seen if s.started >= down_from and s.ended <= down_until]
    assert while_down, "the load kept running through the outage"
    assert {s.status for s in while_down} == {503}
    assert all(s.json_body and s.retry_after for s in while_down)
    assert [s.status for s in load.seen if s.status not in (200, 201, 503)] == []
    assert recovered_at is not None
    recovery_s = recovered_at - back_at
    assert recovery_s <= RECOVERY_LIMIT_S, f"recovered {recovery_s:.2f}s after the restart"
    assert stored == acked_before_check
