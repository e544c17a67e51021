"""The gate's users: every route of the posts API, one route at a time (loadtests.route_blocks).

Every block gets the same time, so every route gets a similar number of requests and the
gate the same power on each; a realistic mix is `make bench`'s job, not the gate's.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable

import gevent
from locust import task

from loadtests.recorder import RECORDER
from loadtests.route_blocks import ROUTES, RouteBlocks
from loadtests.users.base import PAGE_SIZE, PostsUser

BATCH_SIZE = 5  # small: a batch costs the database one round trip, like the other writes
IDLE_S = 0.05


class EveryRoute(PostsUser):
    def on_start(self) -> None:
        super().on_start()
        # Posts this user created, per side, for the DELETE block to remove (never seeded
        # ones, which other routes read).
        self.created: dict[str, list[int]] = {"A": [], "B": []}
        self.requests: dict[str, Callable[[], None]] = dict(
            zip(ROUTES, self._route_requests(), strict=True)
        )

    def _route_requests(self) -> tuple[Callable[[], None], ...]:
        return (
            self.read_hot,
            self.read_cold,
            self.page,
            self.page_with_comments_anywhere,
            self.create,
            self.delete_own,
            self.create_small_batch,
            self.patch_cold,
            self.comment,
        )

    @functools.cached_property
    def blocks(self) -> RouteBlocks:
        """Built at the first step, once Locust's test start (every user's clock) is known."""
        options = self.environment.parsed_options
        return RouteBlocks(
            RECORDER.started_s or time.time(), options.route_block_s, options.route_cycles
        )

    @task
    def step(self) -> None:
        route, wait_s = self.blocks.at(time.time())
        if route is None:
            gevent.sleep(wait_s)
            return
        self.requests[route]()

    def cold_id(self) -> int:
        """Any seeded post, uniformly: most were not read within the cache's TTL."""
        return self.rng.randint(self.ids.first_id, self.ids.last_id)

    def read_hot(self) -> None:
        self.client.get(f"/posts/{self.hot_id()}", name="/posts/{id} hot")

    def read_cold(self) -> None:
        self.client.get(f"/posts/{self.cold_id()}", name="/posts/{id} cold")

    def page(self) -> None:
        self.scan(self.cold_id() - 1, PAGE_SIZE)

    def page_with_comments_anywhere(self) -> None:
        last_start = max(0, self.ids.commented_posts - PAGE_SIZE)
        self.page_with_comments(self.ids.first_id - 1 + self.rng.randint(0, last_start))

    def create(self) -> None:
        post_id = self.create_post()
        if post_id is not None:
            self.created[self.side_of_last_request()].append(post_id)

    def delete_own(self) -> None:
        mine = self.created[self.side_of_next_request()]
        if not mine:
            if any(self.created.values()):
                self.skip_next_side()  # the other side still has posts of ours to delete
            else:
                gevent.sleep(IDLE_S)  # none left anywhere: no busy loop
            return
        self.client.delete(f"/posts/{mine.pop()}", name="/posts/{id}")

    def create_small_batch(self) -> None:
        self.create_batch(BATCH_SIZE)

    def patch_cold(self) -> None:
        self.update_post(self.cold_id())

    def comment(self) -> None:
        # Past the commented range, so the pages with comments keep their size.
        first = min(self.ids.first_id + self.ids.commented_posts, self.ids.last_id)
        post_id = self.rng.randint(first, self.ids.last_id)
        body = {"body": f"comment-{uuid.uuid4().hex[:8]}"}
        self.client.post(f"/posts/{post_id}/comments", json=body, name="/posts/{id}/comments")
