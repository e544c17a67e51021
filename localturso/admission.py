"""The admission limit (`--max-concurrent-requests`): requests in flight, HTTP and WebSocket."""

from __future__ import annotations


class Admission:
    """Counts the requests being served; one counter for both transports, as sqld has one."""

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
