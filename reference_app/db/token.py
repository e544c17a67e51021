"""The database token from TURSO_AUTH_TOKEN_FILE, re-read when the database rejects it.

Secret mounts (Kubernetes, Docker secrets, an agent renewing tokens) rotate a token by
replacing the file; re-reading it after a rejection lets the app pick up the new token by
itself, with no restart.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from reference_app.resilience.deadline import Clock

logger = logging.getLogger(__name__)

# A rejected token fails every call, hundreds a second under load: the file is read at most
# this often. Short against a breaker cool-down, so a probe after one finds the new token.
REREAD_INTERVAL_S = 0.5


class TokenFile:
    """The token in one file (surrounding whitespace dropped; an empty file is no token)."""

    def __init__(
        self,
        path: Path,
        *,
        min_interval_s: float = REREAD_INTERVAL_S,
        clock: Clock = time.monotonic,
    ) -> None:
        self.path = path
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._read_at = -math.inf

    def read(self) -> str | None:
        """The token now in the file; OSError if it cannot be read (at start: a wrong path)."""
        self._read_at = self._clock()
        return self.path.read_text(encoding="utf-8").strip() or None

    def reread(self, current: str | None) -> str | None:
        """A token other than `current` if the file now holds one; None if not, or not yet due.

        A file that cannot be read just now (a mount swapping it, or half written and not yet
        UTF-8) keeps the current token.
        """
        if self._clock() - self._read_at < self._min_interval_s:
            return None
        try:
            token = self.read()
        except (OSError, UnicodeDecodeError) as error:
            logger.warning("cannot re-read the database token from %s: %s", self.path, error)
            return None
        return token if token != current else None
