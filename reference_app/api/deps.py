"""Dependencies routes declare through `Annotated` aliases; only these know where things live."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Query, Request

from reference_app.service.posts import PostsService

MAX_ID = 2**63 - 1  # SQLite's largest rowid
MAX_IDEMPOTENCY_KEY_CHARS = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


async def _posts(request: Request) -> PostsService:
    # Hardened: the process-wide service. Naive: a new client for this request, as the guide,
    # closed with the request's resources (RequestResources). Not a `yield` dependency:
    # FastAPI's machinery for those cost ~35 µs of CPU per request (make bench-micro).
    resources: AsyncExitStack = request.state.resources
    return await resources.enter_async_context(request.app.state.open_posts())


Posts = Annotated[PostsService, Depends(_posts)]
PostId = Annotated[int, Path(gt=0, le=MAX_ID)]
# No control characters: HTTP forbids most of them in a header anyway, and the keys of a
# batch's posts are built with one, so no single create can ever name a batch's post.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Same key, same body → the same post(s), stored once",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Update only if the post is still at this version (its ETag, e.g. "3")',
    ),
]
Include = Annotated[Literal["comments"] | None, Query(description="`comments` embeds comments")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
After = Annotated[int, Query(ge=0, le=MAX_ID, description="`next_cursor` of the previous page")]
