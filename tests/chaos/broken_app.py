"""FOR THE CHECKER'S TESTS ONLY: the reference app broken on purpose, to prove a chaos run
catches it. The harness serves these factories (`uvicorn --factory`) in place of
`reference_app.main:create_app`; the served app itself has no such switch.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI

from reference_app.domain import CreatePost, Post
from reference_app.main import create_app
from reference_app.service.posts import PostsService

logger = logging.getLogger(__name__)

EVERY_NTH = 7
LOSING_APP = f"{__name__}:losing_app"
DUPLICATING_APP = f"{__name__}:duplicating_app"


@dataclass
class Breakage:
    """Every `lose_every`-th create is deleted after its 201; every `duplicate_every`-th is
    stored a second time under another key. 0 switches either off."""

    lose_every: int = 0
    duplicate_every: int = 0
    creates: int = 0

    async def after_create(self, posts: PostsService, create: CreatePost, post: Post) -> None:
        self.creates += 1
        if self.lose_every and self.creates % self.lose_every == 0:
            await posts.delete(post.id)  # as if the commit were lost after the acknowledgement
        if self.duplicate_every and self.creates % self.duplicate_every == 0:
            await posts.create(replace(create, idempotency_key=f"{create.idempotency_key}#twin"))


class BrokenPosts:
    """The app's service with its creates broken; every other call passes through."""

    def __init__(self, posts: PostsService, breakage: Breakage) -> None:
        self._posts = posts
        self._breakage = breakage

    def __getattr__(self, name: str) -> Any:
        return getattr(self._posts, name)

    async def create(self, create: CreatePost) -> Post:
        post = await self._posts.create(create)
        await self._breakage.after_create(self._posts, create, post)
        return post


@contextlib.asynccontextmanager
async def _broken(
    opened: AbstractAsyncContextManager[PostsService], breakage: Breakage
) -> AsyncIterator[BrokenPosts]:
    async with opened as posts:
        yield BrokenPosts(posts, breakage)


def broken_app(breakage: Breakage) -> FastAPI:
    """The reference app (settings from the environment) serving its posts through
    BrokenPosts: its lifespan opens the runtime as usual, then wraps what it opened."""
    logger.warning("TEST ONLY: a deliberately broken app: %s", breakage)
    app = create_app()
    serve = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with serve(app):
            open_posts = app.state.open_posts
            app.state.open_posts = lambda: _broken(open_posts(), breakage)
            yield

    app.router.lifespan_context = lifespan
    return app


def losing_app() -> FastAPI:
    return broken_app(Breakage(lose_every=EVERY_NTH))


def duplicating_app() -> FastAPI:
    return broken_app(Breakage(duplicate_every=EVERY_NTH))
