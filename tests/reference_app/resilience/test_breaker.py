"""The circuit breaker's state machine on a fake clock."""

from __future__ import annotations

import contextlib

import pytest

from reference_app.resilience.breaker import BreakerState, CircuitBreaker
from reference_app.resilience.errors import (
    CircuitOpenError,
    ConnectionLostError,
    DbAuthRejected,
    DbBusyError,
    DbError,
    DbFullError,
    DbTimeoutError,
    DbTooManyRequestsError,
    PermanentDbError,
    RetiredConnectionError,
    TransientDbError,
    UnreachableDbError,
)
from tests.reference_app.fakes import FakeClock

THRESHOLD = 3
COOLDOWN_S = 2.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def states() -> list[BreakerState]:
    return []


@pytest.fixture
def breaker(clock: FakeClock, states: list[BreakerState]) -> CircuitBreaker:
    return CircuitBreaker(
        failure_threshold=THRESHOLD,
        cooldown_s=COOLDOWN_S,
        clock=clock,
        on_state_change=states.append,
    )


def fail(breaker: CircuitBreaker, error: Exception | None = None) -> None:
    with pytest.raises(type(error or TransientDbError("x"))), breaker.guard():
        raise error or TransientDbError("connection refused")


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard():
        pass


def test_opens_after_threshold_consecutive_transient_failures(breaker: CircuitBreaker) -> None:
    for _ in range(THRESHOLD - 1):
        fail(breaker)
    assert breaker.state is BreakerState.CLOSED

    fail(breaker)

    assert breaker.state is BreakerState.OPEN


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    for _ in range(THRESHOLD - 1):
        fail(breaker)
    succeed(breaker)
    for _ in range(THRESHOLD - 1):
        fail(breaker)

    assert breaker.state is BreakerState.CLOSED


def test_permanent_errors_prove_the_database_answers(breaker: CircuitBreaker) -> None:
    for _ in range(THRESHOLD * 2):
        fail(breaker, PermanentDbError("constraint"))

    assert breaker.state is BreakerState.CLOSED


def test_a_locked_database_answers_too_and_never_opens_the_circuit(
    breaker: CircuitBreaker,
) -> None:
    for _ in range(THRESHOLD * 2):
        fail(breaker, DbBusyError("database is locked"))

    assert breaker.state is BreakerState.CLOSED


def test_a_burst_of_429s_never_opens_the_circuit(
    breaker: CircuitBreaker,
) -> None:
    # Calls in flight together past the server's admission limit: load, for the limiter.
    for _ in range(THRESHOLD * 2):
        fail(breaker, DbTooManyRequestsError("Server returned HTTP status 429"))

    assert breaker.state is BreakerState.CLOSED


def test_429s_do_not_hide_the_timeouts_of_a_stuck_server(breaker: CircuitBreaker) -> None:
    # What it admits hangs; what is over its limit is refused at once.
    for _ in range(THRESHOLD - 1):
        fail(breaker, DbTimeoutError("no answer"))
        fail(breaker, DbTooManyRequestsError("Server returned HTTP status 429"))
    fail(breaker, DbTimeoutError("no answer"))

    assert breaker.state is BreakerState.OPEN


def test_calls_lost_with_a_retired_socket_are_not_counted(breaker: CircuitBreaker) -> None:
    fail(breaker)  # the timeout that retired the socket counts once
    for _ in range(THRESHOLD * 2):  # the calls that were waiting on it do not
        fail(breaker, RetiredConnectionError("connection retired"))

    assert breaker.state is BreakerState.CLOSED


def test_calls_lost_with_one_dropped_socket_count_once(breaker: CircuitBreaker) -> None:
    # A socket dropped at the server's admission limit fails every call on it at once.
    fail(breaker, ConnectionLostError("WebSocket was closed", calls_lost=THRESHOLD * 2))
    for _ in range(THRESHOLD * 2 - 1):
        fail(breaker, ConnectionLostError("WebSocket was closed", calls_lost=None))

    assert breaker.state is BreakerState.CLOSED


def test_a_timeout_standing_for_several_failures_counts_them_all(
    breaker: CircuitBreaker,
) -> None:
    # A fresh socket timed out too: the timeouts set aside on the old one were the database's.
    fail(breaker, DbTimeoutError("no answer", failures=THRESHOLD))

    assert breaker.state is BreakerState.OPEN


def test_calls_failed_with_a_socket_another_call_reported_are_not_counted(
    breaker: CircuitBreaker,
) -> None:
    fail(breaker, UnreachableDbError("reset while connecting"))  # the one that reported it
    for _ in range(THRESHOLD * 2):
        error = UnreachableDbError("reset while connecting")
        error.reported_by_another_call = True
        fail(breaker, error)

    assert breaker.state is BreakerState.CLOSED


def test_sockets_lost_one_after_another_still_open_the_circuit(breaker: CircuitBreaker) -> None:
    for _ in range(THRESHOLD):
        fail(breaker, ConnectionLostError("WebSocket was closed", calls_lost=1))

    assert breaker.state is BreakerState.OPEN


def test_open_fails_fast_with_the_time_left_as_retry_after(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    for _ in range(THRESHOLD):
        fail(breaker)
    clock.advance(0.5)

    with pytest.raises(CircuitOpenError) as raised, breaker.guard():
        pytest.fail("an open circuit must not admit the call")

    assert raised.value.retry_after_s == pytest.approx(COOLDOWN_S - 0.5)


def test_after_the_cooldown_one_probe_passes_and_its_success_closes(
    breaker: CircuitBreaker, clock: FakeClock, states: list[BreakerState]
) -> None:
    for _ in range(THRESHOLD):
        fail(breaker)
    clock.advance(COOLDOWN_S)

    with breaker.guard():
        assert breaker.state is BreakerState.HALF_OPEN
        with pytest.raises(CircuitOpenError), breaker.guard():
            pytest.fail("a second caller must not pass while the probe is in flight")

    assert breaker.state is BreakerState.CLOSED
    assert states == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_reopens_for_a_fresh_cooldown(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    for _ in range(THRESHOLD):
        fail(breaker)
    clock.advance(COOLDOWN_S)

    fail(breaker)

    assert breaker.state is BreakerState.OPEN
    clock.advance(COOLDOWN_S - 0.01)
    with pytest.raises(CircuitOpenError), breaker.guard():
        pytest.fail("still cooling down")


def test_a_cancelled_probe_lets_the_next_caller_probe(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    for _ in range(THRESHOLD):
        fail(breaker)
    clock.advance(COOLDOWN_S)

    with pytest.raises(KeyboardInterrupt), breaker.guard():
        raise KeyboardInterrupt  # stands for any BaseException, like CancelledError

    succeed(breaker)
    assert breaker.state is BreakerState.CLOSED


def test_late_failures_do_not_extend_an_open_cooldown(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    def slow_call() -> None:
        with breaker.guard():  # admitted while closed
            for _ in range(THRESHOLD):
                fail(breaker)  # meanwhile, other calls open the circuit
            clock.advance(1.0)
            raise TransientDbError("the slow call fails late")

    with pytest.raises(TransientDbError):
        slow_call()
    clock.advance(COOLDOWN_S - 1.0)

    succeed(breaker)  # the cool-down ran from the opening, so this probe is admitted

    assert breaker.state is BreakerState.CLOSED


def open_with_a_call_admitted_before(breaker: CircuitBreaker) -> contextlib.ExitStack:
    """A call admitted while closed, still running after other calls opened the circuit."""
    stack = contextlib.ExitStack()
    stack.enter_context(breaker.guard())
    for _ in range(THRESHOLD):
        fail(breaker)
    return stack


def test_a_late_success_from_before_the_opening_keeps_it_open(breaker: CircuitBreaker) -> None:
    slow_call = open_with_a_call_admitted_before(breaker)

    slow_call.close()  # it succeeds after the circuit opened

    assert breaker.state is BreakerState.OPEN


def test_a_late_success_during_the_probe_does_not_close_it(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    slow_call = open_with_a_call_admitted_before(breaker)
    clock.advance(COOLDOWN_S)

    def probe() -> None:
        with breaker.guard():
            slow_call.close()  # the old call succeeds while the probe is in flight
            raise TransientDbError("the probe fails")

    with pytest.raises(TransientDbError):
        probe()

    assert breaker.state is BreakerState.OPEN


def test_a_cancelled_old_call_does_not_let_a_second_probe_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    slow_call = open_with_a_call_admitted_before(breaker)
    clock.advance(COOLDOWN_S)

    with breaker.guard():  # the probe
        with pytest.raises(KeyboardInterrupt), slow_call:
            raise KeyboardInterrupt  # the old call is cancelled while the probe runs
        with pytest.raises(CircuitOpenError), breaker.guard():
            pytest.fail("a second probe must not pass while the first is in flight")

    assert breaker.state is BreakerState.CLOSED


def test_an_unreachable_database_is_never_a_success(breaker: CircuitBreaker) -> None:
    for _ in range(THRESHOLD):
        fail(breaker, UnreachableDbError("certificate verify failed"))

    assert breaker.state is BreakerState.OPEN


@pytest.mark.parametrize(
    "error", [DbAuthRejected("AUTH_JWT_INVALID"), DbFullError("SQLITE_FULL")], ids=str
)
def test_a_named_database_fault_opens_it_and_its_fail_fast_answer_names_it(
    breaker: CircuitBreaker, error: DbError
) -> None:
    for _ in range(THRESHOLD):
        fail(breaker, error)

    with pytest.raises(CircuitOpenError) as refused, breaker.guard():
        pass

    assert breaker.state is BreakerState.OPEN
    assert str(refused.value).endswith(f"its last failure: {error.kind}")
