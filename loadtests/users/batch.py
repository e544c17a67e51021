"""Batches of posts in one request: the app writes them in one round trip."""

from __future__ import annotations

from locust import task

from loadtests.users.base import PostsUser

BATCH_SIZE = 20


class BatchWriter(PostsUser):
    weight = 1

    @task
    def write_batch(self) -> None:
        self.create_batch(BATCH_SIZE)
