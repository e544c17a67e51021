"""FOR TESTS ONLY: a PostsService that acknowledges writes it then loses or stores twice.

The chaos checker's own tests switch it on (APP_TEST_ONLY_LOSE_EVERY_NTH_WRITE,
APP_TEST_ONLY_DUPLICATE_EVERY_NTH_WRITE) to show that a real run fails `lost` and
`duplicated` when the app breaks them; nothing else may.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from reference_app.db.repository import PostsRepository
from reference_app.domain import CreatePost, Post
from reference_app.service.posts import PostsService

logger = logging.getLogger(__name__)


class BrokenPostsService(PostsService):
    """Every `lose_every`-th create is deleted after its 201; every `duplicate_every`-th is
    stored a second time under another key. 0 switches either off."""

    def __init__(
        self,
        repository: PostsRepository,
        *,
        lose_every: int,
        duplicate_every: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(repository, **kwargs)
        self._lose_every = lose_every
        self._duplicate_every = duplicate_every
        self._creates = 0
        logger.warning(
            "TEST ONLY: losing every %sth and duplicating every %sth write (0: never)",
            lose_every,
            duplicate_every,
        )

    async def create(self, create: CreatePost) -> Post:
        post = await super().create(create)
        self._creates += 1
        if self._lose_every and self._creates % self._lose_every == 0:
            # As if the commit were lost after the acknowledgement.
            await self._repository.delete_post(post.id)
        if self._duplicate_every and self._creates % self._duplicate_every == 0:
            twin = replace(create, idempotency_key=f"{create.idempotency_key}#twin")
            await self._repository.create_posts([twin])
        return post
