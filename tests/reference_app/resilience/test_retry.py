"""The retry policy's decisions: what it retries, how long it backs off, when it stops."""

from __future__ import annotations

import pytest

from reference_app.resilience.deadline import Deadline
from reference_app.resilience.errors import PermanentDbError, TransientDbError
from reference_app.resilience.retry import RetryPolicy, should_retry
from tests.reference_app.fakes import FakeClock, RecordingSleep


class Flaky:
    """Fails with `errors` in order, then returns "ok"; counts calls; may advance a clock."""

    def __init__(self, *errors: Exception, clock: FakeClock | None = None, cost_s: float = 0.0):
        self.errors = list(errors)
        self.calls = 0
        self.clock = clock
        self.cost_s = cost_s

    async def __call__(self) -> str:
        self.calls += 1
        if self.clock is not None:
            self.clock.advance(self.cost_s)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleep(clock: FakeClock) -> RecordingSleep:
    return RecordingSleep(clock)


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (TransientDbError("reset"), True, True),
        (TransientDbError("reset"), False, False),
        (TransientDbError("refused", maybe_applied=False), False, True),
        (PermanentDbError("syntax"), True, False),
        (ValueError("bug"), True, False),
    ],
)
def test_retries_transient_faults_and_only_safe_writes(
    error: Exception, idempotent: bool, retried: bool
) -> None:
    assert should_retry(error, idempotent=idempotent) is retried


async def test_a_transient_fault_is_retried_after_a_jittered_backoff(
    sleep: RecordingSleep,
) -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=1.0, sleep=sleep)
    call = Flaky(TransientDbError("reset"))

    assert await policy.call(call, Deadline.never(), idempotent=True) == "ok"

    assert call.calls == 2
    assert len(sleep.delays) == 1
    assert 0.0 <= sleep.delays[0] <= 0.1


async def test_backoff_windows_double_up_to_the_cap_then_the_last_error_is_raised(
    sleep: RecordingSleep,
) -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_s=0.1, max_delay_s=0.5, sleep=sleep)
    errors = [TransientDbError(f"fault {i}") for i in range(6)]
    call = Flaky(*errors)

    with pytest.raises(TransientDbError, match="fault 5"):
        await policy.call(call, Deadline.never(), idempotent=True)

    assert call.calls == 6
    windows = [0.1, 0.2, 0.4, 0.5, 0.5]  # full jitter: anywhere in [0, window]
    assert len(sleep.delays) == len(windows)
    for delay, window in zip(sleep.delays, windows, strict=True):
        assert 0.0 <= delay <= window


async def test_a_permanent_fault_is_raised_at_once(sleep: RecordingSleep) -> None:
    call = Flaky(PermanentDbError("no such table"))

    with pytest.raises(PermanentDbError):
        await RetryPolicy(sleep=sleep).call(call, Deadline.never(), idempotent=True)

    assert call.calls == 1
    assert sleep.delays == []


async def test_a_maybe_applied_write_that_is_not_idempotent_is_not_retried(
    sleep: RecordingSleep,
) -> None:
    call = Flaky(TransientDbError("timeout after send"))

    with pytest.raises(TransientDbError):
        await RetryPolicy(sleep=sleep).call(call, Deadline.never(), idempotent=False)

    assert call.calls == 1


async def test_no_backoff_ends_past_the_deadline(clock: FakeClock, sleep: RecordingSleep) -> None:
    deadline = Deadline.after(1.0, clock)
    policy = RetryPolicy(max_attempts=1_000, base_delay_s=0.05, max_delay_s=0.4, sleep=sleep)
    call = Flaky(*[TransientDbError("down")] * 1_000, clock=clock, cost_s=0.05)

    with pytest.raises(TransientDbError):
        await policy.call(call, deadline, idempotent=True)

    assert sleep.sleeps, "it retried at least once within a one-second budget"
    for started, seconds in sleep.sleeps:
        assert started + seconds < deadline.expires_at
    assert call.calls < 1_000


async def test_no_retry_once_the_deadline_has_passed(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    deadline = Deadline.after(0.1, clock)
    call = Flaky(TransientDbError("slow"), clock=clock, cost_s=0.2)

    with pytest.raises(TransientDbError):
        await RetryPolicy(sleep=sleep).call(call, deadline, idempotent=True)

    assert call.calls == 1
    assert sleep.delays == []


async def test_each_retry_is_reported_with_its_error_and_delay(sleep: RecordingSleep) -> None:
    seen: list[tuple[str, float]] = []
    policy = RetryPolicy(sleep=sleep, on_retry=lambda error, s: seen.append((str(error), s)))
    call = Flaky(TransientDbError("a"), TransientDbError("b"))

    await policy.call(call, Deadline.never(), idempotent=True)

    assert [message for message, _ in seen] == ["a", "b"]
    assert [delay for _, delay in seen] == sleep.delays


async def test_the_servers_retry_after_is_waited_out_before_the_next_attempt(
    sleep: RecordingSleep,
) -> None:
    call = Flaky(TransientDbError("429", retry_after_s=0.3))

    await RetryPolicy(sleep=sleep, max_delay_s=0.05).call(call, Deadline.never(), idempotent=True)

    assert call.calls == 2
    assert sleep.delays == [0.3]


async def test_a_retry_after_past_the_deadline_ends_the_retries_with_that_error(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    deadline = Deadline.after(1.0, clock)
    call = Flaky(TransientDbError("429", retry_after_s=2.0))

    with pytest.raises(TransientDbError) as raised:
        await RetryPolicy(sleep=sleep).call(call, deadline, idempotent=True)

    assert call.calls == 1
    assert sleep.delays == []
    assert raised.value.retry_after_s == 2.0
