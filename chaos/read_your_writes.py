"""A client that checks it reads its own writes: create, update, delete, read back each time.

Every request goes out on a new connection, so with several app workers consecutive
steps land on different processes, as they would from a browser or a load balancer.
Updates carry If-Match with the newest ETag the client has seen, as a careful client's do.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from chaos.history import Outcome, PostStep, Step, WriteRecord

Send = Callable[..., Awaitable[httpx.Response | None]]
UPDATES = 2  # versions 1..UPDATES after the create's 0


def content(version: int, key: str) -> str:
    return f"v{version} {key}"


def version_of(response: httpx.Response) -> int | None:
    """The version a read saw, from the content this client wrote ("v<n> <key>")."""
    if response.status_code != 200:
        return None
    return int(response.json()["content"].split(" ", 1)[0].removeprefix("v"))


class ReadYourWritesClient:
    """One post at a time: create, then each update, then delete, reading back after each."""

    def __init__(
        self,
        send: Send,
        now_s: Callable[[], float],
        running: Callable[[], bool],
        tag: str,
        reads_per_step: int,
    ) -> None:
        self._send = send  # the workload's: records the request in its history
        self._now_s = now_s
        self._running = running
        self._tag = tag
        self._reads_per_step = reads_per_step
        self._etag: str | None = None  # of the newest version this client has seen
        self.steps: list[PostStep] = []
        self.creates: list[WriteRecord] = []

    async def run(self, client: httpx.AsyncClient) -> None:
        """`client` must not keep connections alive (one connection per request)."""
        while self._running():
            await self._one_post(client)

    async def _one_post(self, client: httpx.AsyncClient) -> None:
        key = uuid.uuid4().hex
        title = f"{self._tag}-ryw-{key}"
        response = await self._step(
            client, title, Step.CREATE, 0, "POST", "/posts",
            json={"title": title, "content": content(0, key)},
            headers={"Idempotency-Key": key},
        )  # fmt: skip
        self._record_create(key, title, response)
        if response is None or response.status_code != 201:
            return  # no id to work on
        url = f"/posts/{int(response.json()['id'])}"
        await self._read_back(client, title, url)
        for version in range(1, UPDATES + 1):
            body = {"content": content(version, key)}
            headers = {"If-Match": self._etag} if self._etag else {}
            await self._step(
                client, title, Step.UPDATE, version, "PATCH", url, json=body, headers=headers
            )
            await self._read_back(client, title, url)
        await self._step(client, title, Step.DELETE, None, "DELETE", url)
        await self._read_back(client, title, url)

    async def _read_back(self, client: httpx.AsyncClient, title: str, url: str) -> None:
        for _ in range(self._reads_per_step):
            if not self._running():
                return
            await self._step(client, title, Step.READ, None, "GET", url)

    async def _step(
        self,
        client: httpx.AsyncClient,
        title: str,
        step: Step,
        version: int | None,
        method: str,
        url: str,
        **kwargs: Any,
    ) -> httpx.Response | None:
        started = self._now_s()
        response = await self._send(step.value, method, url, client=client, **kwargs)
        status = response.status_code if response is not None else None
        if response is not None and response.is_success:
            self._etag = response.headers.get("ETag", self._etag)
        if step is Step.READ and response is not None:
            version = version_of(response)
        self.steps.append(PostStep(title, step, started, self._now_s(), status, version))
        return response

    def _record_create(self, key: str, title: str, response: httpx.Response | None) -> None:
        """The create as any workload's: the duplicated and lost checks cover it too."""
        if response is None or response.status_code >= 500:
            outcome, post_id = Outcome.INDETERMINATE, None
        elif response.is_success:
            outcome, post_id = Outcome.ACKED, int(response.json()["id"])
        else:
            outcome, post_id = Outcome.FAILED, None
        self.creates.append(WriteRecord(key, title, content(0, key), outcome, post_id))
