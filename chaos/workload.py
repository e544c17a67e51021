"""A bounded mixed workload that records what every request saw.

Writers send posts with unique idempotency keys and, like a careful client,
retry an unanswered or 5xx write with the same key; readers read back what was
acknowledged; batch writers send small batches; read-your-writes clients read back
their own steps; editors take turns updating shared posts. Every title starts with the
run's tag, so the checker finds every post any of them created. Everything stops at
`stop_at`.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from chaos.history import (
    Outcome,
    PostStep,
    RequestRecord,
    Step,
    UpdateRecord,
    WriteRecord,
    edit_content,
)
from chaos.read_your_writes import ReadYourWritesClient
from chaos.shared_edits import SharedPostEditors
from harness.processes import default_tls

RETRY_PAUSE_S = 0.05


@dataclass(frozen=True)
class WorkloadConfig:
    writers: int = 4
    readers: int = 4
    batch_writers: int = 1
    batch_size: int = 10
    # Clients that read back their own creates, updates and deletes, on new connections.
    read_your_writes: int = 2
    reads_per_step: int = 3
    # Posts that several clients take turns updating, each update based on what it read.
    shared_posts: int = 1
    editors_per_post: int = 2
    write_attempts: int = 3  # the client's own retries, with the same idempotency key
    client_timeout_s: float = 5.0
    think_time_s: float = 0.005  # keeps the offered load moderate on a 2-core machine


@dataclass
class History:
    """Everything the workload saw, with times relative to its start."""

    requests: list[RequestRecord] = field(default_factory=list)
    writes: list[WriteRecord] = field(default_factory=list)  # every create, of any client
    post_steps: list[PostStep] = field(default_factory=list)
    updates: list[UpdateRecord] = field(default_factory=list)

    def titles_sent(self, step: Step) -> set[str]:
        """Posts some client sent this step for (an update or a delete), whatever came of it."""
        titles = {s.post for s in self.post_steps if s.step is step}
        if step is Step.UPDATE:
            titles |= {update.post for update in self.updates}
        return titles


def _is_json(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return False
    try:
        response.json()
    except ValueError:
        return False
    return True


def _error_code(response: httpx.Response) -> str | None:
    """A server error's `error.code` (circuit_open, database_auth_rejected, ...), if it has one."""
    if response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


class Workload:
    """Drives the app at `api_url` and records a History."""

    def __init__(self, api_url: str, tag: str, config: WorkloadConfig) -> None:
        self.tag = tag  # prefixes every title, so the checker finds this run's rows
        self.config = config
        self.history = History()
        self._acked_ids: list[int] = []
        # The certificate check built once (harness.processes.default_tls), not per client:
        # ~60 ms of CPU each, twice per scenario.
        self._client = httpx.AsyncClient(
            base_url=api_url,
            timeout=config.client_timeout_s,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            verify=default_tls(),
        )
        # No keep-alive: every request of the read-your-writes clients opens a new connection.
        self._fresh_connections = httpx.AsyncClient(
            base_url=api_url,
            timeout=config.client_timeout_s,
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=default_tls(),
        )
        self._origin = time.monotonic()
        self._stop_at = float("inf")

    def now_s(self) -> float:
        return time.monotonic() - self._origin

    async def run(self, stop_at_s: float) -> History:
        """Run every virtual client until `stop_at_s` (seconds from the workload's origin)."""
        self._stop_at = stop_at_s
        clients = [self._writer() for _ in range(self.config.writers)]
        clients += [self._reader() for _ in range(self.config.readers)]
        clients += [self._batch_writer() for _ in range(self.config.batch_writers)]
        clients += [self._shared_post() for _ in range(self.config.shared_posts)]
        read_backs = [self._read_your_writes_client() for _ in range(self.config.read_your_writes)]
        clients += [client.run(self._fresh_connections) for client in read_backs]
        try:
            await asyncio.gather(*clients)
        finally:
            await self._client.aclose()
            await self._fresh_connections.aclose()
        for client in read_backs:
            self.history.post_steps += client.steps
            self.history.writes += client.creates
        return self.history

    def stop_at(self, stop_at_s: float) -> None:
        """Move the end of the run (a restart can make a fault window longer than planned)."""
        self._stop_at = stop_at_s

    def _read_your_writes_client(self) -> ReadYourWritesClient:
        return ReadYourWritesClient(
            self._send, self.now_s, self._running, self.tag, self.config.reads_per_step
        )

    def _running(self) -> bool:
        return self.now_s() < self._stop_at

    async def _send(
        self,
        kind: str,
        method: str,
        url: str,
        client: httpx.AsyncClient | None = None,
        **kwargs: Any,
    ) -> httpx.Response | None:
        started = self.now_s()
        try:
            response = await (client or self._client).request(method, url, **kwargs)
        except httpx.HTTPError:
            self.history.requests.append(RequestRecord(kind, started, self.now_s(), None))
            return None
        self.history.requests.append(
            RequestRecord(
                kind,
                started,
                self.now_s(),
                response.status_code,
                json_body=_is_json(response),
                retry_after="retry-after" in response.headers,
                error_code=_error_code(response),
            )
        )
        return response

    def _new_post(self) -> tuple[str, dict[str, str]]:
        key = uuid.uuid4().hex
        title = f"{self.tag}-{key}"
        return key, {"title": title, "content": f"chaos write {key}"}

    async def _keyed_write(
        self, kind: str, url: str, body: dict[str, Any], key: str
    ) -> tuple[Outcome, httpx.Response | None]:
        """Send a write, retrying unanswered and 5xx attempts with the same key."""
        response = None
        for _ in range(self.config.write_attempts):
            response = await self._send(
                kind, "POST", url, json=body, headers={"Idempotency-Key": key}
            )
            if response is not None and response.status_code < 500:
                return (Outcome.ACKED if response.is_success else Outcome.FAILED), response
            if not self._running():
                break
            await asyncio.sleep(RETRY_PAUSE_S)
        return Outcome.INDETERMINATE, response

    async def _writer(self) -> None:
        while self._running():
            key, post = self._new_post()
            outcome, response = await self._keyed_write("write", "/posts", post, key)
            post_id = None
            if outcome is Outcome.ACKED and response is not None:
                post_id = int(response.json()["id"])
                self._acked_ids.append(post_id)
            self.history.writes.append(
                WriteRecord(key, post["title"], post["content"], outcome, post_id)
            )
            await asyncio.sleep(self.config.think_time_s)

    async def _shared_post(self) -> None:
        """Create a post (retrying until acknowledged), then let the editors take turns on it."""
        while self._running():
            key = uuid.uuid4().hex
            title = f"{self.tag}-shared-{key}"
            post = {"title": title, "content": edit_content(f"{title}:created", None)}
            outcome, response = await self._keyed_write("write", "/posts", post, key)
            post_id = int(response.json()["id"]) if outcome is Outcome.ACKED and response else None
            self.history.writes.append(WriteRecord(key, title, post["content"], outcome, post_id))
            if post_id is not None:
                editors = SharedPostEditors(
                    self._send, self._running, title, f"/posts/{post_id}",
                    self.config.editors_per_post, self.config.think_time_s,
                )  # fmt: skip
                try:
                    await editors.run()
                finally:
                    self.history.updates += editors.updates
                return

    async def _reader(self) -> None:
        while self._running():
            if self._acked_ids:
                await self._send("read", "GET", f"/posts/{random.choice(self._acked_ids)}")
            else:
                await self._send("read", "GET", "/posts", params={"limit": 5})
            await asyncio.sleep(self.config.think_time_s)

    async def _batch_writer(self) -> None:
        while self._running():
            posts = [self._new_post() for _ in range(self.config.batch_size)]
            body = {"posts": [post for _, post in posts]}
            outcome, response = await self._keyed_write(
                "batch", "/posts/batch", body, uuid.uuid4().hex
            )
            ids: list[int | None] = [None] * len(posts)
            if outcome is Outcome.ACKED and response is not None:
                ids = [int(i) for i in response.json()["ids"]]
            for (post_key, post), post_id in zip(posts, ids, strict=True):
                self.history.writes.append(
                    WriteRecord(post_key, post["title"], post["content"], outcome, post_id)
                )
            await asyncio.sleep(self.config.think_time_s)
