"""The posts domain: plain records passed between the service, the repository and the API."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
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
        return _sha256([self.title, self.content])


def _sha256(value: object) -> str:
    canonical = json.dumps(value, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def batch_fingerprint(drafts: Sequence[PostDraft]) -> str:
    """Identifies a whole batch body, its number of posts included: a replay must match it."""
    return _sha256([[draft.title, draft.content] for draft in drafts])


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


FIRST_VERSION = 1  # a post as created; every update that changes it adds one
# How long an applied update's request key is remembered so its retries never reapply it:
# only its own request retries it, and no request lives half as long (Settings caps it).
UPDATE_KEYS_KEPT_S = 600


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
    version: int = FIRST_VERSION


@dataclass(frozen=True, slots=True)
class PostWithComments:
    id: int
    title: str
    content: str
    created_at: str
    version: int = FIRST_VERSION
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


class PreconditionFailed(DomainError):
    def __init__(self, post_id: int, version: int) -> None:
        super().__init__(
            f"post {post_id} is at version {version}, which If-Match does not name: it changed"
            " since that version; read it to see its current state"
        )
        self.post_id = post_id
        self.version = version
