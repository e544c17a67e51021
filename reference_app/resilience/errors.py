"""The errors the DB layer and the resilience policies raise; the API maps each to a status.

DbError                      a database call failed (converted once, in db.transport.classify)
├── TransientDbError         may succeed if tried again: refused, reset, 5xx/429, busy, expired
│   ├── DbTimeoutError       one attempt ran past its timeout
│   ├── DbBusyError          SQLITE_BUSY/LOCKED: another writer has the lock; nothing applied
│   └── RetiredConnectionError  lost on a WebSocket already retired for another call's timeout
├── PermanentDbError         the database answered, and will again: bad SQL, closed client
│   └── ConstraintViolation  the database refused the data
└── UnreachableDbError       no answer, and retrying cannot help: certificate rejected, bad URL,
                             or a fault of a kind we do not know
ResilienceError              a policy said no before or instead of calling the database
├── CircuitOpenError         the breaker is open; carries retry_after_s
├── OverloadedError          no DB slot came free within the deadline; carries retry_after_s
└── DeadlineExceededError    the request's deadline passed before the next attempt
"""

from __future__ import annotations


class DbError(Exception):
    """A database call failed; `maybe_applied` says whether the server may have run it.

    `retry_after_s` is the server's own Retry-After (on a 429 or 503), when it sent one.
    """

    def __init__(
        self, message: str, *, maybe_applied: bool = True, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied
        self.retry_after_s = retry_after_s


class TransientDbError(DbError):
    """Worth retrying: the fault is in the path to the database or its load, not the request."""


class DbTimeoutError(TransientDbError):
    """An attempt got no answer within its timeout (the server may still have applied it)."""


class DbBusyError(TransientDbError):
    """The database answered that its write lock is taken: the statement did not apply.

    It says nothing against the path to the database, so the breaker does not count it.
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, maybe_applied=False, retry_after_s=retry_after_s)


class RetiredConnectionError(TransientDbError):
    """The call timed out, or was failed, on a WebSocket the app had already retired when an
    earlier call on it timed out.

    That first timeout was counted; the calls lost with the same socket are one fault, not
    more, so the breaker does not count them. Retried, they go out on the fresh socket.
    """


class PermanentDbError(DbError):
    """Retrying cannot help: the statement or the client is wrong."""


class ConstraintViolation(PermanentDbError):
    """The database rejected the data (UNIQUE, CHECK, NOT NULL, ...)."""


class UnreachableDbError(DbError):
    """Not retried (it would fail the same way) and never proof that the database answers."""


class ResilienceError(Exception):
    """A policy refused the call; `retry_after_s` is the hint for the Retry-After header."""

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class CircuitOpenError(ResilienceError):
    """The circuit breaker is failing fast after consecutive transient faults."""


class OverloadedError(ResilienceError):
    """Every DB slot stayed busy until the request's deadline."""


class DeadlineExceededError(ResilienceError):
    """No time is left in the request's deadline for another attempt."""
