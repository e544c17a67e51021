"""The posts domain: plain records passed between the service, the repository and the API."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field

# Bounds shared by the API's validation and the schema's CHECK constraints.
TITLE_MAX_CHARS = 200
CONTENT_MAX_CHARS = 10_000
COMMENT_MAX_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class PostDraft:
    title: str
    content: str

    def fingerprint(self) -> str:
        """Identifies the request body, so a reused idempotency key with another body is caught."""
        canonical = json.dumps([self.title, self.content], ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def new_idempotency_key() -> str:
    """The key a create gets when the client sent none: every create is keyed, so retryable."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class CreatePost:
    """One create: the draft and the idempotency key that makes retrying it safe."""

    draft: PostDraft
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class PostChanges:
    title: str | None = None
    content: str | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    post_id: int
    body: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    title: str
    content: str
    created_at: str


@dataclass(frozen=True, slots=True)
class PostWithComments:
    id: int
    title: str
    content: str
    created_at: str
    comments: list[Comment] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PostPage:
    """One page in id order; `next_cursor` is the `after` for the next page (None: last page)."""

    items: list[Post] | list[PostWithComments]
    next_cursor: int | None


class DomainError(Exception):
    """A request the data cannot satisfy, whatever the state of the database."""


class PostNotFound(DomainError):
    def __init__(self, post_id: int) -> None:
        super().__init__(f"post {post_id} does not exist")
        self.post_id = post_id


class IdempotencyConflict(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different body")
        self.key = key
