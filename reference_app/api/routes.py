"""The posts and comments endpoints; they translate HTTP to PostsService calls and back."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response, status

from reference_app.api.deps import (
    DEFAULT_PAGE_SIZE,
    After,
    IdempotencyKey,
    IfMatch,
    Include,
    Limit,
    PostId,
    Posts,
)
from reference_app.api.errors import documented_errors
from reference_app.api.etags import etag, versions_named
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
_PATCH = documented_errors(400, 404, 409, 412, 413, 422, 503, 504)
# The version a post response is at; sent with the post alone (not with its comments,
# which change without changing it).
_ETAG_HEADER = {
    "ETag": {
        "description": 'The post\'s version, for If-Match on a later PATCH (e.g. "3")',
        "schema": {"type": "string"},
    }
}


def _json(record: Post | PostWithComments, status_code: int = status.HTTP_200_OK) -> Response:
    """The hot routes' body, serialised once by orjson from the domain record; a post alone
    carries its version as ETag.

    The record's fields are exactly the documented model's (response_model stays for
    OpenAPI), so FastAPI's validate-then-serialise pass through pydantic is skipped.
    """
    headers = None if isinstance(record, PostWithComments) else {"ETag": etag(record.version)}
    return Response(orjson.dumps(record), status_code, headers, media_type="application/json")


def _with_etag(description: str) -> dict[int | str, dict[str, object]]:
    return {200: {"description": description, "headers": _ETAG_HEADER}}


router = APIRouter(prefix="/posts", tags=["posts"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostOut,
    responses={201: {"description": "Created", "headers": _ETAG_HEADER}, **_CREATE},
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
    """All posts in one round trip and one transaction, all stored or none; the key covers
    the batch as a whole (a replay with another body is a 409 and stores nothing)."""
    key = idempotency_key or new_idempotency_key()
    drafts = [item.draft() for item in body.posts]
    return BatchCreatedOut(ids=await posts.create_batch(key, drafts))


@router.get("", response_model=PostPageOut, responses=_READ)
async def list_posts(
    posts: Posts, limit: Limit = DEFAULT_PAGE_SIZE, after: After = 0, include: Include = None
) -> PostPage:
    return await posts.list_page(limit=limit, after=after, with_comments=include == "comments")


@router.get(
    "/{post_id}",
    response_model=PostMaybeWithComments,
    responses={**_with_etag("The post (ETag: its version; none with comments)"), **_READ_ONE},
)
async def get_post(post_id: PostId, posts: Posts, include: Include = None) -> Response:
    return _json(await posts.get(post_id, with_comments=include == "comments"))


@router.patch(
    "/{post_id}",
    response_model=PostOut,
    responses={**_with_etag("The updated post (ETag: its new version)"), **_PATCH},
)
async def update_post(
    post_id: PostId, body: PostPatch, posts: Posts, if_match: IfMatch = None
) -> Response:
    """With If-Match, only while the post is at that version (else 412): no update based on
    an older version overwrites a newer one. Without it, the fields are set whatever the
    version (a blind write)."""
    return _json(await posts.update(post_id, body.changes(), versions_named(if_match)))


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
