"""Retry policy: which faults to retry, how long to back off, and when to give up.

Defaults are named here and nowhere else. Tests run the real policy with an injected
`sleep` (and a deadline on a fake clock) instead of a separate test mode, so no unit test
ever sleeps for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from reference_app.resilience.deadline import Deadline
from reference_app.resilience.errors import TransientDbError

DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BASE_DELAY_S = 0.025
DEFAULT_MAX_DELAY_S = 0.4

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
RetryObserver = Callable[[BaseException, float], None]


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Transient faults only; a write that may have been applied only if it is idempotent."""
    if not isinstance(error, TransientDbError):
        return False
    return idempotent or not error.maybe_applied


class stop_before_deadline(stop_base):
    """Stop when the coming backoff would leave no time for another attempt."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self._deadline.remaining()


def _ignore_retry(_error: BaseException, _sleep_s: float) -> None:
    """Default observer: nobody is counting retries."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped by attempts and by the request deadline."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_delay_s: float = DEFAULT_BASE_DELAY_S
    max_delay_s: float = DEFAULT_MAX_DELAY_S
    sleep: Sleep = asyncio.sleep
    on_retry: RetryObserver = _ignore_retry

    async def call(
        self, attempt: Callable[[], Awaitable[T]], deadline: Deadline, *, idempotent: bool
    ) -> T:
        """Await `attempt()` until it succeeds or the policy gives up; re-raises the last error.

        The first attempt runs bare: building tenacity's retrying state costs more than a
        database call on loopback, and almost every call succeeds at once. On a fault worth
        retrying, tenacity takes over with that first outcome replayed, so backoff, stop
        conditions and observers see exactly the attempts they would have seen.
        """
        try:
            return await attempt()
        except Exception as error:
            if not should_retry(error, idempotent=idempotent):
                raise
            first: Exception | None = error

        async def replay_then_attempt() -> T:
            nonlocal first
            if first is not None:
                failed, first = first, None
                raise failed
            return await attempt()

        return await self._attempts(deadline, idempotent=idempotent)(replay_then_attempt)

    def _attempts(self, deadline: Deadline, *, idempotent: bool) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(partial(should_retry, idempotent=idempotent)),
            stop=stop_after_attempt(self.max_attempts) | stop_before_deadline(deadline),
            wait=self._wait(),
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )

    def _wait(self) -> Callable[[RetryCallState], float]:
        """Full-jitter backoff, but never sooner than the server's own Retry-After."""
        backoff = wait_random_exponential(multiplier=self.base_delay_s, max=self.max_delay_s)

        def wait(retry_state: RetryCallState) -> float:
            error = retry_state.outcome.exception() if retry_state.outcome else None
            asked_s = getattr(error, "retry_after_s", None) or 0.0
            return max(backoff(retry_state), asked_s)

        return wait

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        if outcome is not None and (error := outcome.exception()) is not None:
            self.on_retry(error, retry_state.upcoming_sleep)
