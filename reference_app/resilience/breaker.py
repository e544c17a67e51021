"""A small circuit breaker with an injected monotonic clock.

Written here because no well-kept asyncio circuit breaker library exists. Closed: calls pass
and consecutive transient failures are counted. Open: calls fail fast until the cool-down
ends. Half-open: exactly one probe passes; its success closes the circuit, its failure
re-opens it. Every state change starts a new generation, and a call's outcome counts only in
the generation that admitted it: a slow call admitted before the circuit opened can neither
close it nor free the probe's place.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from enum import IntEnum

from reference_app.resilience.deadline import Clock
from reference_app.resilience.errors import (
    CircuitOpenError,
    DbBusyError,
    DbTimeoutError,
    DbTooManyRequestsError,
    PermanentDbError,
    RetiredConnectionError,
    TransientDbError,
    UnreachableDbError,
)


def _failures(error: Exception) -> int:
    """How many failures of the database `error` stands for (several timeouts found late)."""
    return error.failures if isinstance(error, DbTimeoutError) else 1


class BreakerState(IntEnum):
    """Values double as the metric gauge's reading."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


def _ignore_state(_state: BreakerState) -> None:
    """Default observer: nobody is watching the state."""


class CircuitBreaker:
    """Fails fast after `failure_threshold` consecutive transient failures, for `cooldown_s`."""

    def __init__(
        self,
        *,
        failure_threshold: int,
        cooldown_s: float,
        clock: Clock = time.monotonic,
        on_state_change: Callable[[BreakerState], None] = _ignore_state,
    ) -> None:
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._on_state_change = on_state_change
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._generation = 0
        self._probe_in_flight = False
        self._last_failure = ""

    @property
    def state(self) -> BreakerState:
        return self._state

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Admit one call (or raise CircuitOpenError) and record how it ended."""
        generation = self._admit()
        try:
            yield
        except (PermanentDbError, DbBusyError):
            # The database answered, even if with an error or "locked": the path to it works.
            # (DbBusyError is a TransientDbError, so it is caught before that clause.)
            if self._current(generation):
                self._record_success()
            raise
        except DbTooManyRequestsError:
            # Load is the limiter's to shed: a burst of 429s must not open the circuit. Nor is
            # it a success: a stuck server that refuses what is over its limit with 429s and
            # lets the rest time out must still open it.
            if self._current(generation):
                self._probe_in_flight = False
            raise
        except RetiredConnectionError:
            # Lost with a socket already judged dead by another call's counted timeout.
            if self._current(generation):
                self._probe_in_flight = False
            raise
        except (TransientDbError, UnreachableDbError) as error:
            # Unreachable: no sign the database answered, so never a success.
            if self._current(generation):
                if error.reported_by_another_call:
                    # One of the calls a failed WebSocket took down, after the first, which
                    # counted: a socket dropped at the admission limit, or reset while
                    # connecting, with many calls on it is one fault.
                    self._probe_in_flight = False
                else:
                    self._record_failure(error.kind, _failures(error))
            raise
        except BaseException:
            # Cancelled or refused by another policy: no verdict on the database.
            if self._current(generation):
                self._probe_in_flight = False
            raise
        if self._current(generation):
            self._record_success()

    def _current(self, generation: int) -> bool:
        """Whether the call was admitted in the present state (in half-open: it is the probe)."""
        return generation == self._generation

    def _admit(self) -> int:
        """The generation the call is admitted in; CircuitOpenError if it is not admitted."""
        if self._state is BreakerState.OPEN:
            left_s = self._opened_at + self._cooldown_s - self._clock()
            if left_s > 0:
                raise CircuitOpenError(
                    f"database circuit is open; its last failure: {self._last_failure}",
                    retry_after_s=left_s,
                )
            self._transition(BreakerState.HALF_OPEN)
        if self._state is BreakerState.HALF_OPEN:
            if self._probe_in_flight:
                raise CircuitOpenError(
                    "database circuit is half-open; a probe is in flight",
                    retry_after_s=math.ceil(self._cooldown_s),
                )
            self._probe_in_flight = True
        return self._generation

    def _record_success(self) -> None:
        self._failures = 0
        self._probe_in_flight = False
        if self._state is not BreakerState.CLOSED:
            self._transition(BreakerState.CLOSED)

    def _record_failure(self, kind: str, failures: int) -> None:
        # Named in the fail-fast answers, so a client sees e.g. auth_rejected behind them.
        self._last_failure = kind
        self._probe_in_flight = False
        self._failures += failures
        if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._transition(BreakerState.OPEN)

    def _transition(self, state: BreakerState) -> None:
        self._state = state
        self._generation += 1
        self._on_state_change(state)
