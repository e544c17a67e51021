"""Counts database round trips and new connections; tests assert on them, /metrics exports them."""

from __future__ import annotations

from collections.abc import Callable

CallSink = Callable[[str, float, str], None]


def _ignore_call(_operation: str, _seconds: float, _outcome: str) -> None:
    """Default sink: nobody exports the calls."""


def _ignore_connect() -> None:
    """Default sink: nobody exports the connects."""


def _ignore_error(_kind: str) -> None:
    """Default sink: nobody exports the failed calls' kinds."""


class RoundTripCounter:
    """One count per execute or batch sent to the database, whatever its outcome, and one
    per new connection (TCP, plus TLS for https/wss) a client opened to it."""

    def __init__(
        self,
        sink: CallSink = _ignore_call,
        connect_sink: Callable[[], None] = _ignore_connect,
        error_sink: Callable[[str], None] = _ignore_error,
    ) -> None:
        self._sink = sink
        self._connect_sink = connect_sink
        self._error_sink = error_sink
        self.total = 0
        self.connects = 0

    def record_connect(self) -> None:
        self.connects += 1
        self._connect_sink()

    def record(self, operation: str, seconds: float, outcome: str) -> None:
        """`operation` is execute/batch; `outcome` is ok/transient/permanent/cancelled."""
        self.total += 1
        self._sink(operation, seconds, outcome)

    def record_error(self, kind: str) -> None:
        """A call failed with a fault of this kind (DbError.kind: auth_rejected, busy, ...)."""
        self._error_sink(kind)
