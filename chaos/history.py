"""What the workload saw: every request's timing and answer, and every write's fate."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """A write's fate as its client knows it (Jepsen's ok / fail / info)."""

    ACKED = "acked"  # a 2xx came back: the write must be stored, exactly once
    FAILED = "failed"  # a 4xx came back: the write must not be stored
    INDETERMINATE = "indeterminate"  # 5xx or no answer: it may or may not be stored


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request as the load generator saw it; times are seconds from run start."""

    kind: str  # "write", "read" or "batch"
    started_s: float
    finished_s: float
    status: int | None  # None: no answer (connection error or client timeout)
    json_body: bool = True
    retry_after: bool = False
    error_code: str | None = None  # a server error's `error.code`

    @property
    def latency_ms(self) -> float:
        return (self.finished_s - self.started_s) * 1000.0

    @property
    def succeeded(self) -> bool:
        """Answered without a server error: a 404 for a post its client deleted is correct."""
        return self.status is not None and self.status < 500


@dataclass(frozen=True)
class WriteRecord:
    """One logical write (all its attempts with one idempotency key) and what came of it."""

    key: str
    title: str
    content: str
    outcome: Outcome
    post_id: int | None = None  # the id the server acknowledged, when it did


@dataclass(frozen=True)
class StoredPost:
    """A row as the checker read it back from the database."""

    id: int
    title: str
    content: str


class Step(StrEnum):
    """What a read-your-writes client did to its post."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    READ = "read"


@dataclass(frozen=True)
class PostStep:
    """One step of one client on one post, in the order the client took them.

    Versions number the post's contents: the create writes 0, each update the next one.
    A write carries the version it sent; a read the version it saw (None for a 404).
    """

    post: str  # the post's title, which names it before and after it has an id
    step: Step
    started_s: float
    finished_s: float
    status: int | None  # None: no answer
    version: int | None = None

    @property
    def acked(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def indeterminate(self) -> bool:
        return self.status is None or self.status >= 500


@dataclass(frozen=True)
class UpdateRecord:
    """One logical update of a shared post (all its attempts) and what came of it.

    Its content names it (`token`) and the content it was based on (`based_on`, the token
    of what its client read before sending it), so the stored content can be traced back.
    """

    post: str  # the post's title
    token: str
    based_on: str
    outcome: Outcome


EDIT_SEPARATOR = " on "


def edit_content(token: str, based_on: str | None) -> str:
    """A shared post's content: its token, and the token of the content it replaced."""
    return token if based_on is None else f"{token}{EDIT_SEPARATOR}{based_on}"


def edit_token(content: str) -> str:
    return content.split(EDIT_SEPARATOR, 1)[0]
