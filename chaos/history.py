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

    @property
    def latency_ms(self) -> float:
        return (self.finished_s - self.started_s) * 1000.0

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


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
