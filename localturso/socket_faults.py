"""Faults only a long-lived WebSocket meets, as server settings that chaos scenarios switch on.

A socket that goes silent (half-open: no answer and no close), a server that closes every
socket after a while (as one that restarts or recycles connections), and reconnects refused
with 503 and Retry-After for a while after such a close (a server shedding a reconnect storm).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from localturso.errors import ServerError
from localturso.settings import Settings

WS_CLOSE_SERVICE_RESTART = 1012


@dataclass
class SocketFaults:
    """What happens to each WebSocket; all None (the default) is a server without faults."""

    silent_after_s: float | None = None
    close_after_s: float | None = None
    refuse_after_close_s: float | None = None
    retry_after_s: int | None = None
    _refusing_until: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SocketFaults:
        return cls(
            settings.ws_silent_after_s,
            settings.ws_close_after_s,
            settings.ws_refuse_after_close_s,
            settings.retry_after_s,
        )

    @property
    def lifetime_s(self) -> float | None:
        """How long a socket is served normally before its fault (None: for ever)."""
        ends = [s for s in (self.silent_after_s, self.close_after_s) if s is not None]
        return min(ends) if ends else None

    @property
    def goes_silent(self) -> bool:
        """At the end of its lifetime a socket goes silent, rather than being closed."""
        if self.silent_after_s is None:
            return False
        return self.close_after_s is None or self.silent_after_s <= self.close_after_s

    def closed_one(self) -> None:
        """A socket was closed for its lifetime: refuse upgrades for a while, if so set."""
        if self.refuse_after_close_s is not None:
            self._refusing_until = time.monotonic() + self.refuse_after_close_s

    def refusal(self) -> Response | None:
        """The answer to an upgrade while refusing: 503, with Retry-After if one is set."""
        if time.monotonic() >= self._refusing_until:
            return None
        error = ServerError("Not accepting WebSocket connections now", "UNAVAILABLE", 503)
        headers = {} if self.retry_after_s is None else {"Retry-After": str(self.retry_after_s)}
        return Response(
            orjson.dumps(error.http_body()), 503, headers, media_type="application/json"
        )
