"""The posts and comments endpoints; they translate HTTP to PostsService calls and back."""

from __future__ import annotations

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
from reference_app.api.errors import documented_errors
from reference_app.api.schemas import (
    BatchCreatedOut,
    CommentIn,
    CommentOut,
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

# Every route may also answer 422 (bad input), 503 (database unreachable, breaker open,
# overloaded) and 504 (deadline); a JSON body adds 400 (not JSON), 413 (over the body limit),
# and 409 where the database may refuse the data (SQLite counts a NUL as the end of a string
# in length()).
_READ = documented_errors(422, 503, 504)
_READ_ONE = documented_errors(404, 422, 503, 504)
_CREATE = documented_errors(400, 409, 413, 422, 503, 504)
_UPDATE = documented_errors(400, 404, 409, 413, 422, 503, 504)


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
    responses=_CREATE,
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
    responses=_CREATE,
)
async def create_posts(
    body: PostBatchIn, posts: Posts, idempotency_key: IdempotencyKey = None
) -> BatchCreatedOut:
    """All posts in one round trip and one transaction; a key covers the batch as a whole."""
    key = idempotency_key or new_idempotency_key()
    creates = [CreatePost(item.draft(), f"{key}#{i}") for i, item in enumerate(body.posts)]
    return BatchCreatedOut(ids=[post.id for post in await posts.create_many(creates)])


@router.get("", response_model=PostPageOut, responses=_READ)
async def list_posts(
    posts: Posts, limit: Limit = DEFAULT_PAGE_SIZE, after: After = 0, include: Include = None
) -> PostPage:
    return await posts.list_page(limit=limit, after=after, with_comments=include == "comments")


@router.get("/{post_id}", response_model=PostMaybeWithComments, responses=_READ_ONE)
async def get_post(post_id: PostId, posts: Posts, include: Include = None) -> Response:
    return _json(await posts.get(post_id, with_comments=include == "comments"))


@router.patch("/{post_id}", response_model=PostOut, responses=_UPDATE)
async def update_post(post_id: PostId, body: PostPatch, posts: Posts) -> Post:
    return await posts.update(post_id, body.changes())


@router.delete(
    "/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_READ_ONE,
)
async def delete_post(post_id: PostId, posts: Posts) -> None:
    await posts.delete(post_id)


@router.post(
    "/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    responses=_UPDATE,
)
async def add_comment(post_id: PostId, body: CommentIn, posts: Posts) -> Comment:
    return await posts.add_comment(post_id, body.body)
