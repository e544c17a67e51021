"""The policies composed: retries pass the breaker, the deadline bounds everything."""

from __future__ import annotations

import asyncio

import pytest

from reference_app.resilience.breaker import BreakerState, CircuitBreaker
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.resilience.errors import (
    CircuitOpenError,
    DbTimeoutError,
    DeadlineExceededError,
    RetiredConnectionError,
    TransientDbError,
)
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy
from tests.reference_app.fakes import FakeClock, RecordingSleep, settle


class AlwaysDown:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        raise TransientDbError("connection refused", maybe_applied=False)


async def test_without_policies_the_call_is_awaited_once_and_errors_pass_through() -> None:
    call = AlwaysDown()

    with pytest.raises(TransientDbError):
        await Pipeline().run(call, idempotent=True)

    assert call.calls == 1


async def test_retries_stop_when_the_breaker_opens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=1.0, clock=clock)
    pipeline = Pipeline(
        retry=RetryPolicy(max_attempts=10, sleep=RecordingSleep(clock)), breaker=breaker
    )
    call = AlwaysDown()

    with pytest.raises(CircuitOpenError):
        await pipeline.run(call, idempotent=True)

    assert call.calls == 3
    assert breaker.state is BreakerState.OPEN


async def test_an_expired_deadline_refuses_the_call_before_it_is_made() -> None:
    call = AlwaysDown()

    with deadline_scope(Deadline.after(0.0, FakeClock())), pytest.raises(DeadlineExceededError):
        await Pipeline().run(call, idempotent=True)

    assert call.calls == 0


async def test_an_attempt_past_its_timeout_is_a_transient_timeout() -> None:
    timeouts: list[None] = []

    def on_timeout() -> int:
        timeouts.append(None)
        return 3  # it stands for two timeouts set aside as well

    pipeline = Pipeline(attempt_timeout_s=0.01, on_timeout=on_timeout)

    with pytest.raises(DbTimeoutError) as raised:
        await pipeline.run(asyncio.Event().wait, idempotent=True)

    assert len(timeouts) == 1
    assert raised.value.failures == 3


async def test_a_timeout_on_an_already_retired_connection_is_not_a_new_fault() -> None:
    pipeline = Pipeline(attempt_timeout_s=0.01, on_timeout=lambda: 0)

    with pytest.raises(RetiredConnectionError):
        await pipeline.run(asyncio.Event().wait, idempotent=True)


async def test_each_attempt_holds_a_limiter_slot_only_while_it_runs() -> None:
    limiter = ConcurrencyLimiter(1)
    in_use: list[int] = []

    async def call() -> int:
        in_use.append(limiter.in_use)
        return 1

    assert await Pipeline(limiter=limiter).run(call, idempotent=True) == 1
    assert in_use == [1]
    assert limiter.in_use == 0


async def test_an_attempt_cut_short_by_the_deadline_after_queueing_is_no_database_failure() -> None:
    clock = FakeClock()
    limiter = ConcurrencyLimiter(1)
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=1.0, clock=clock)
    pipeline = Pipeline(breaker=breaker, limiter=limiter, attempt_timeout_s=10.0)
    holder_release = asyncio.Event()

    async def hold_the_slot() -> None:
        await holder_release.wait()

    holder = asyncio.create_task(pipeline.run(hold_the_slot, idempotent=True))
    await settle()
    with deadline_scope(Deadline.after(1.0, clock)):
        queued = asyncio.create_task(pipeline.run(asyncio.Event().wait, idempotent=True))
    await settle()
    clock.advance(0.98)  # it queued for most of its deadline: 20 ms are left for the attempt
    holder_release.set()

    with pytest.raises(DeadlineExceededError):
        await queued
    await holder
    assert breaker.state is BreakerState.CLOSED
