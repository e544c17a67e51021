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

    def attempts(self, deadline: Deadline, *, idempotent: bool) -> AsyncRetrying:
        """A retrying caller: `await policy.attempts(...)(fn, *args)`; re-raises the last error."""
        return AsyncRetrying(
            retry=retry_if_exception(partial(should_retry, idempotent=idempotent)),
            stop=stop_after_attempt(self.max_attempts) | stop_before_deadline(deadline),
            wait=wait_random_exponential(multiplier=self.base_delay_s, max=self.max_delay_s),
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        if outcome is not None and (error := outcome.exception()) is not None:
            self.on_retry(error, retry_state.upcoming_sleep)
