"""The posts and comments endpoints; they translate HTTP to PostsService calls and back."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response, status

from reference_app.api.deps import (
    DEFAULT_PAGE_SIZE,
    After,
    IdempotencyKey,
    Include,
    Limit,
    PostId,
    Posts,
)
from reference_app.api.schemas import (
    BatchCreatedOut,
    CommentIn,
    CommentOut,
    ErrorOut,
    PostBatchIn,
    PostIn,
    PostMaybeWithComments,
    PostOut,
    PostPageOut,
    PostPatch,
)
from reference_app.domain import (
    Comment,
    CreatePost,
    Post,
    PostPage,
    PostWithComments,
    new_idempotency_key,
)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}


def _json(record: Post | PostWithComments, status_code: int = status.HTTP_200_OK) -> Response:
    """The hot routes' body, serialised once by orjson from the domain record.

    The record's fields are exactly the documented model's (response_model stays for
    OpenAPI), so FastAPI's validate-then-serialise pass through pydantic is skipped.
    """
    return Response(orjson.dumps(record), status_code, media_type="application/json")


router = APIRouter(prefix="/posts", tags=["posts"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostOut,
    responses={409: {"model": ErrorOut}},
)
async def create_post(
    body: PostIn, posts: Posts, idempotency_key: IdempotencyKey = None
) -> Response:
    create = CreatePost(body.draft(), idempotency_key or new_idempotency_key())
    return _json(await posts.create(create), status.HTTP_201_CREATED)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchCreatedOut,
    responses={409: {"model": ErrorOut}},
)
async def create_posts(
    body: PostBatchIn, posts: Posts, idempotency_key: IdempotencyKey = None
) -> BatchCreatedOut:
    """All posts in one round trip and one transaction; a key covers the batch as a whole."""
    key = idempotency_key or new_idempotency_key()
    creates = [CreatePost(item.draft(), f"{key}#{i}") for i, item in enumerate(body.posts)]
    return BatchCreatedOut(ids=[post.id for post in await posts.create_many(creates)])


@router.get("", response_model=PostPageOut)
async def list_posts(
    posts: Posts, limit: Limit = DEFAULT_PAGE_SIZE, after: After = 0, include: Include = None
) -> PostPage:
    return await posts.list_page(limit=limit, after=after, with_comments=include == "comments")


@router.get("/{post_id}", response_model=PostMaybeWithComments, responses=_NOT_FOUND)
async def get_post(post_id: PostId, posts: Posts, include: Include = None) -> Response:
    return _json(await posts.get(post_id, with_comments=include == "comments"))


@router.patch("/{post_id}", response_model=PostOut, responses=_NOT_FOUND)
async def update_post(post_id: PostId, body: PostPatch, posts: Posts) -> Post:
    return await posts.update(post_id, body.changes())


@router.delete(
    "/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_NOT_FOUND,
)
async def delete_post(post_id: PostId, posts: Posts) -> None:
    await posts.delete(post_id)


@router.post(
    "/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    responses=_NOT_FOUND,
)
async def add_comment(post_id: PostId, body: CommentIn, posts: Posts) -> Comment:
    return await posts.add_comment(post_id, body.body)
