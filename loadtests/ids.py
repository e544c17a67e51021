"""The seeded posts readers choose among; free of Locust so the bench runner can import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IdSpace:
    first_id: int
    last_id: int
    commented_posts: int  # from first_id on, these posts have seeded comments

    @property
    def count(self) -> int:
        return self.last_id - self.first_id + 1

    @classmethod
    def from_options(cls, options: Any) -> IdSpace:
        return cls(options.first_id, options.last_id, options.commented_posts)
