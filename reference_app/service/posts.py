"""PostsService: posts and comments on top of the repository, plus write batching and caching.

Routes see only this class. Whether calls are retried, bounded or batched was decided when it
was built (see reference_app.wiring), so hardened and naive modes share every code path here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reference_app.db.repository import PostsRepository
from reference_app.domain import (
    Comment,
    CreatePost,
    IdempotencyConflict,
    Post,
    PostChanges,
    PostDraft,
    PostNotFound,
    PostPage,
    PostWithComments,
    PreconditionFailed,
    new_idempotency_key,
)
from reference_app.resilience.batcher import WriteBatcher
from reference_app.resilience.cache import PostCache
from reference_app.resilience.deadline import Deadline, current_deadline, deadline_scope, latest
from reference_app.resilience.errors import PermanentDbError


@dataclass(frozen=True, slots=True)
class QueuedCreate:
    """A create waiting in the batcher, with the deadline of the request that sent it."""

    create: CreatePost
    deadline: Deadline


def _unwrap(result: Post | BaseException) -> Post:
    if isinstance(result, BaseException):
        raise result
    return result


class PostsService:
    """The API's view of the data; `batching` and `cache` are None when switched off.

    `batching` must flush with `flush_creates` over the same repository. Without
    `honour_idempotency_keys` every create gets a fresh key, so a retried create stores
    a second row, as the guide's plain INSERT does; and every update is the guide's plain
    UPDATE, If-Match ignored.
    """

    def __init__(
        self,
        repository: PostsRepository,
        *,
        batching: WriteBatcher[QueuedCreate, Post] | None = None,
        cache: PostCache[Post] | None = None,
        honour_idempotency_keys: bool = True,
    ) -> None:
        self._repository = repository
        self._honour_keys = honour_idempotency_keys
        self._batcher = batching
        self._cache = cache

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.drain()
        if self._cache is not None:
            await self._cache.close()

    async def ping(self) -> None:
        await self._repository.ping()

    def _keyed(self, create: CreatePost) -> CreatePost:
        if self._honour_keys:
            return create
        return replace(create, idempotency_key=new_idempotency_key())

    async def create(self, create: CreatePost) -> Post:
        create = self._keyed(create)
        if self._batcher is not None:
            return await self._batcher.submit(QueuedCreate(create, current_deadline()))
        [result] = await self._repository.create_posts([create])
        return _unwrap(result)

    async def create_many(self, creates: Sequence[CreatePost]) -> list[Post]:
        """Independent keyed creates in one round trip and one transaction."""
        keyed = [self._keyed(create) for create in creates]
        return [_unwrap(result) for result in await self._repository.create_posts(keyed)]

    async def create_batch(self, batch_key: str, drafts: Sequence[PostDraft]) -> list[int]:
        """The posts' ids; one key for the whole batch: all stored or none, a replay answered
        as the first."""
        if not self._honour_keys:
            batch_key = new_idempotency_key()
        stored = await self._repository.create_batch(batch_key, drafts)
        if isinstance(stored, IdempotencyConflict):
            raise stored
        return stored

    async def get(self, post_id: int, *, with_comments: bool) -> Post | PostWithComments:
        found: Post | PostWithComments | None
        if with_comments:
            found = await self._repository.get_post_with_comments(post_id)
        elif self._cache is not None:
            found = await self._cache.get_or_load(
                post_id, lambda: self._repository.get_post(post_id)
            )
        else:
            found = await self._repository.get_post(post_id)
        if found is None:
            raise PostNotFound(post_id)
        return found

    async def list_page(self, *, limit: int, after: int, with_comments: bool) -> PostPage:
        return await self._repository.list_posts(
            limit=limit, after=after, with_comments=with_comments
        )

    async def update(
        self, post_id: int, changes: PostChanges, if_version: frozenset[int] | None = None
    ) -> Post:
        """`if_version` (None: any) are the versions If-Match named; see `update_post`."""
        try:
            if self._honour_keys:
                updated = await self._repository.update_post(
                    post_id, changes, request_key=new_idempotency_key(), if_version=if_version
                )
            else:
                updated = await self._repository.update_post(post_id, changes)
        finally:
            # Also after a failure: a write that timed out may still have been applied.
            await self._invalidate(post_id)
        if updated is None:
            raise PostNotFound(post_id)
        if isinstance(updated, PreconditionFailed):
            raise updated
        return updated

    async def delete(self, post_id: int) -> None:
        try:
            deleted = await self._repository.delete_post(post_id)
        finally:
            await self._invalidate(post_id)
        if not deleted:
            raise PostNotFound(post_id)

    async def add_comment(self, post_id: int, body: str) -> Comment:
        comment = await self._repository.add_comment(post_id, body)
        if comment is None:
            raise PostNotFound(post_id)
        return comment

    async def _invalidate(self, post_id: int) -> None:
        if self._cache is not None:
            await self._cache.invalidate(post_id)


async def flush_creates(
    repository: PostsRepository, queued: list[QueuedCreate]
) -> Sequence[Post | BaseException]:
    """One round trip for the whole batch; on a permanent error, each create on its own.

    The batch is one transaction, so a constraint failure rolls back every create in it;
    replaying them one by one (safe: each is keyed) fails only the culprit's caller.
    """
    creates = [item.create for item in queued]
    # The flush serves every waiter, so it may run until the last of their deadlines.
    with deadline_scope(latest(item.deadline for item in queued)):
        try:
            return await repository.create_posts(creates)
        except PermanentDbError:
            if len(creates) == 1:
                raise
        return await asyncio.gather(
            *(_create_alone(repository, create) for create in creates), return_exceptions=True
        )


async def _create_alone(
    repository: PostsRepository, create: CreatePost
) -> Post | IdempotencyConflict:
    [result] = await repository.create_posts([create])
    return result
