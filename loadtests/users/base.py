"""The abstract user every behaviour builds on: the app's endpoints as named requests."""

from __future__ import annotations

import functools
import random
import uuid

from locust import FastHttpUser
from locust.contrib.fasthttp import FastHttpSession

from loadtests.ab_client import AlternatingClient, SideLabel
from loadtests.ids import IdSpace
from loadtests.zipf import Zipf, zipf_id

PAGE_SIZE = 20


@functools.cache
def _zipf(n: int) -> Zipf:
    # One table per id-space size, shared by every user in the process.
    return Zipf(n)


class PostsUser(FastHttpUser):
    """Requests named by endpoint (not by URL), so ids do not split the statistics."""

    abstract = True

    def on_start(self) -> None:
        if ab_host := self.environment.parsed_options.ab_host:
            self.alternate_with(ab_host)
        self.rng = random.Random()
        self.ids = IdSpace.from_options(self.environment.parsed_options)
        self.zipf = _zipf(self.ids.count)

    def alternate_with(self, b_host: str) -> None:
        """Send requests alternately to our host (A) and `b_host` (B): loadtests.ab_client."""
        event = self.environment.events.request
        b_session = FastHttpSession(
            base_url=b_host,
            request_event=event,
            user=self,
            network_timeout=self.network_timeout,
            connection_timeout=self.connection_timeout,
            insecure=self.insecure,
            concurrency=self.concurrency,
        )
        sessions = {"A": self.client, "B": b_session}
        for side, session in sessions.items():
            session.request_event = SideLabel(side, event)
        self.client = AlternatingClient(sessions)  # type: ignore[assignment]

    def side_of_last_request(self) -> str:
        """Which side ("A", or "B" under --ab-host) the last request went to."""
        return self.client.last_side if isinstance(self.client, AlternatingClient) else "A"

    def side_of_next_request(self) -> str:
        return self.client.next_side if isinstance(self.client, AlternatingClient) else "A"

    def skip_next_side(self) -> None:
        if isinstance(self.client, AlternatingClient):
            self.client.skip()

    def wait_time(self) -> float:
        return float(self.environment.parsed_options.think_ms) / 1000

    def hot_id(self) -> int:
        return zipf_id(self.zipf, self.rng, self.ids.first_id)

    def read_post(self, post_id: int) -> dict[str, object] | None:
        response = self.client.get(f"/posts/{post_id}", name="/posts/{id}")
        return response.json() if response.status_code == 200 else None

    def create_post(self) -> int | None:
        # A fresh key per logical write: the app stores a retried request once.
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"title": f"load-{self.rng.getrandbits(32)}", "content": "x" * 200}
        response = self.client.post("/posts", json=body, headers=headers, name="/posts")
        return int(response.json()["id"]) if response.status_code == 201 else None

    def update_post(self, post_id: int, content: str | None = None) -> None:
        body = {"content": content or f"updated-{self.rng.getrandbits(32)}"}
        self.client.patch(f"/posts/{post_id}", json=body, name="/posts/{id}")

    def scan(self, after: int, limit: int) -> None:
        self.client.get(
            "/posts", params={"limit": limit, "after": after}, name="/posts?after&limit"
        )

    def page_with_comments(self, after: int) -> None:
        params = {"limit": PAGE_SIZE, "after": after, "include": "comments"}
        self.client.get("/posts", params=params, name="/posts?include=comments")

    def create_batch(self, size: int) -> None:
        posts = [{"title": f"batch-{i}", "content": "y" * 200} for i in range(size)]
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        self.client.post(
            "/posts/batch", json={"posts": posts}, headers=headers, name="/posts/batch"
        )
