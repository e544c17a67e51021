"""The admission limit (`--max-concurrent-requests`): requests in flight, HTTP and WebSocket."""

from __future__ import annotations


class Admission:
    """Counts the requests being served, over both transports together.

    Not sqld's exact rule, which counts HTTP and WebSocket apart and judges a socket by the
    messages it sends at once; what both do alike is checked in the conformance tests: many
    streams opened on one socket at once end that socket, and a new socket is let in.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._in_flight = 0

    @property
    def full(self) -> bool:
        return self._in_flight >= self._limit

    def enter(self) -> None:
        self._in_flight += 1

    def leave(self, count: int = 1) -> None:
        self._in_flight -= count
