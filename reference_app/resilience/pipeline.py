"""Compose the policies around one database call: deadline, retry, breaker, limiter, timeout.

Order, outside in: retry (backs off between attempts, never past the deadline) → breaker
(fails fast while open) → limiter (waits for a slot within the deadline) → attempt timeout.
Each policy is optional, so a benchmark can switch any one of them off; with all of them off
the pipeline just awaits the call, which is how the naive mode runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from reference_app.resilience.breaker import CircuitBreaker
from reference_app.resilience.deadline import Deadline, current_deadline
from reference_app.resilience.errors import (
    DbTimeoutError,
    DeadlineExceededError,
    RetiredConnectionError,
)
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.retry import RetryPolicy

T = TypeVar("T")


def _ignore_timeout() -> int:
    """Default observer: nobody is counting attempt timeouts, and each one is one failure."""
    return 1


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Runs a call under whichever policies are configured (None: that policy is off)."""

    retry: RetryPolicy | None = None
    breaker: CircuitBreaker | None = None
    limiter: ConcurrencyLimiter | None = None
    attempt_timeout_s: float | None = None
    # Told of each attempt timeout; says how many failures the breaker counts for it. 0: the
    # attempt went out on a connection already retired for an earlier timeout, the same
    # fault seen again (RetiredConnectionError).
    on_timeout: Callable[[], int] = _ignore_timeout

    async def run(self, call: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """Await `call()` under the policies; `idempotent` allows retrying a maybe-applied write."""
        deadline = current_deadline()
        if self.retry is None:
            return await self._attempt(call, deadline)
        return await self.retry.call(
            partial(self._attempt, call, deadline), deadline, idempotent=idempotent
        )

    async def _attempt(self, call: Callable[[], Awaitable[T]], deadline: Deadline) -> T:
        if deadline.bounded and deadline.remaining() <= 0:
            raise DeadlineExceededError("request deadline passed before the database call")
        guard = self.breaker.guard() if self.breaker else contextlib.nullcontext()
        with guard:
            slot = self.limiter.slot(deadline) if self.limiter else contextlib.nullcontext()
            async with slot:
                return await self._with_timeout(call, deadline)

    async def _with_timeout(self, call: Callable[[], Awaitable[T]], deadline: Deadline) -> T:
        budget_s = deadline.budget(self.attempt_timeout_s)
        if budget_s is None:
            return await call()
        timeout = asyncio.timeout(budget_s)
        try:
            async with timeout:
                return await call()
        except TimeoutError:
            if not timeout.expired():
                raise
            if self.attempt_timeout_s is None or budget_s < self.attempt_timeout_s:
                # The request's own deadline cut the attempt short (say, after queueing for a
                # slot): the database never had its full timeout, so this is no verdict on it.
                raise DeadlineExceededError(
                    f"request deadline passed {budget_s:.3f}s into the database call"
                ) from None
            failures = self.on_timeout()
            if not failures:
                raise RetiredConnectionError(
                    f"database call got no answer within {budget_s:.3f}s on a retired connection"
                ) from None
            raise DbTimeoutError(
                f"database call got no answer within {budget_s:.3f}s", failures=failures
            ) from None
