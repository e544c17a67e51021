"""Counts database round trips; tests assert on it and /metrics exports it."""

from __future__ import annotations

from collections.abc import Callable

CallSink = Callable[[str, float, str], None]


def _ignore_call(_operation: str, _seconds: float, _outcome: str) -> None:
    """Default sink: nobody exports the calls."""


class RoundTripCounter:
    """One count per execute or batch sent to the database, whatever its outcome."""

    def __init__(self, sink: CallSink = _ignore_call) -> None:
        self._sink = sink
        self.total = 0

    def record(self, operation: str, seconds: float, outcome: str) -> None:
        """`operation` is execute/batch; `outcome` is ok/transient/permanent/cancelled."""
        self.total += 1
        self._sink(operation, seconds, outcome)
