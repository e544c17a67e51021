"""New posts, each sent with its own idempotency key."""

from __future__ import annotations

from locust import task

from loadtests.users.base import PostsUser


class Writer(PostsUser):
    weight = 2

    @task
    def write(self) -> None:
        self.create_post()
