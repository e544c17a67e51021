"""Pages of posts with their comments: the request where an N+1 query pattern shows."""

from __future__ import annotations

from locust import task

from loadtests.users.base import PAGE_SIZE, PostsUser


class PageWithCommentsReader(PostsUser):
    weight = 1

    @task
    def read_page(self) -> None:
        # Start inside the commented range so every page carries comments to load.
        last_start = max(0, self.ids.commented_posts - PAGE_SIZE)
        self.page_with_comments(self.ids.first_id - 1 + self.rng.randint(0, last_start))
