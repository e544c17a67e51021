"""Point reads of existing posts, hot ids first (zipfian)."""

from __future__ import annotations

from locust import task

from loadtests.users.base import PostsUser


class Reader(PostsUser):
    weight = 6

    @task
    def read(self) -> None:
        self.read_post(self.hot_id())
