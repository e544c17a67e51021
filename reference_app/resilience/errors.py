"""The errors the DB layer and the resilience policies raise; the API maps each to a status.

DbError                      a database call failed (converted once, in db.transport.classify)
├── TransientDbError         may succeed if tried again: refused, reset, 5xx/429, busy, expired
│   ├── DbTimeoutError       one attempt ran past its timeout
│   ├── DbBusyError          SQLITE_BUSY/LOCKED: another writer has the lock; nothing applied
│   ├── DbIoError            SQLITE_IOERR/CANTOPEN: the server's storage failed
│   ├── DbProtocolError      a garbled or unexpected message between client and server
│   ├── DbTooManyRequestsError  429: the server refused it for load, before running it
│   ├── RetiredConnectionError  lost on a WebSocket already retired for another call's timeout
│   └── ConnectionLostError  the WebSocket it went out on ended under it (dropped, reset)
├── PermanentDbError         the database answered, and will again: our own bad SQL
│   ├── ConstraintViolation  the database refused the data
│   └── AppBugError          our code failed around the call (a bad argument, a typo): a bug
└── UnreachableDbError       no answer, and retrying cannot help: certificate rejected, bad URL
    ├── DbAuthRejected       the database refused the app's token (401/403, Hrana AUTH_*)
    ├── DbFullError          SQLITE_FULL: the database's disk or quota is full
    ├── DbReadOnlyError      SQLITE_READONLY: the database takes no writes
    ├── DbClientClosedError  the client was closed (the app is shutting down)
    └── UnknownDbError       an error code we do not know
ResilienceError              a policy said no before or instead of calling the database
├── CircuitOpenError         the breaker is open; carries retry_after_s
├── OverloadedError          no DB slot came free within the deadline; carries retry_after_s
└── DeadlineExceededError    the request's deadline passed before the next attempt
"""

from __future__ import annotations

from typing import ClassVar


class DbError(Exception):
    """A database call failed; `maybe_applied` says whether the server may have run it.

    `retry_after_s` is the server's own Retry-After (on a 429 or 503), when it sent one.
    `kind` names the fault in /metrics (app_db_errors_total) and in the log.
    `reported_by_another_call`: a WebSocket's failure that another call waiting on the same
    socket has reported already; the breaker counts it once.
    """

    kind: ClassVar[str] = "error"

    def __init__(
        self, message: str, *, maybe_applied: bool = True, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied
        self.retry_after_s = retry_after_s
        self.reported_by_another_call = False


class TransientDbError(DbError):
    """Worth retrying: the fault is in the path to the database or its load, not the request."""

    kind = "unavailable"


class DbTimeoutError(TransientDbError):
    """An attempt got no answer within its timeout (the server may still have applied it).

    `failures` is how many failures of the database the breaker counts for it: more than one
    when earlier timeouts, set aside as one socket's fault, turn out to be the database's.
    """

    kind = "timeout"

    def __init__(self, message: str, *, failures: int = 1) -> None:
        super().__init__(message)
        self.failures = failures


class DbBusyError(TransientDbError):
    """The database answered that its write lock is taken: the statement did not apply.

    It says nothing against the path to the database, so the breaker does not count it.
    """

    kind = "busy"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, maybe_applied=False, retry_after_s=retry_after_s)


class DbIoError(TransientDbError):
    """The server's storage failed a read or write (SQLITE_IOERR, SQLITE_CANTOPEN).

    Retried: a network volume's hiccup or a failover passes within a request's deadline
    as often as not. The commit may have reached the disk, so it stays maybe-applied.
    """

    kind = "io_error"


class DbProtocolError(TransientDbError):
    """Client and server did not understand each other (HRANA_PROTO_ERROR, HTTP 400).

    Retried: a message garbled or cut on the path is the likely cause, and the next one
    may arrive whole; whether the server ran the statement is unknown.
    """

    kind = "protocol_error"


class RetiredConnectionError(TransientDbError):
    """The call timed out, or was failed, on a WebSocket the app had already retired when an
    earlier call on it timed out.

    That first timeout was counted; the calls lost with the same socket are one fault, not
    more, so the breaker does not count them. Retried, they go out on the fresh socket.
    """


class ConnectionLostError(TransientDbError):
    """The WebSocket the call went out on ended under it: dropped, reset or cut.

    sqld drops a whole socket when a stream would pass its admission limit, failing every
    call in flight on it. `calls_lost` is how many were, told to the first call to see the
    loss, which the breaker counts once; None for the others, the same fault seen again.
    The limiter hears of every one, and its epochs make them one decrease.
    """

    kind = "connection_lost"

    def __init__(self, message: str, *, calls_lost: int | None) -> None:
        super().__init__(message)
        self.calls_lost = calls_lost
        self.reported_by_another_call = calls_lost is None


class DbTooManyRequestsError(TransientDbError):
    """The server refused the call for load (HTTP 429, Hrana TOO_MANY_REQUESTS): over its
    admission limit, so it did not run it. The limiter lowers the DB slots on it."""

    kind = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, maybe_applied=False, retry_after_s=retry_after_s)


class PermanentDbError(DbError):
    """Retrying cannot help: our own statement is wrong (a bug of ours: answered 500)."""

    kind = "statement_rejected"


class ConstraintViolation(PermanentDbError):
    """The database rejected the data (UNIQUE, CHECK, NOT NULL, ...)."""

    kind = "constraint"


class AppBugError(PermanentDbError):
    """Our own code failed during the call, not the database nor the path (a 500).

    Not retried (it would fail the same way), and no fault of the database: the breaker
    counts it as an answer, so one broken route cannot open the circuit for every route.
    """

    kind = "app_bug"


class UnreachableDbError(DbError):
    """Not retried (it would fail the same way) and never proof that the database answers."""

    kind = "unreachable"


# The kinds below are faults of the database or of the path to it, never of the request:
# answered 503, counted by the breaker as failures, and not retried, because within one
# request's deadline the answer would be the same.


class DbAuthRejected(UnreachableDbError):
    """The database refused the app's token: expired, revoked, or signed by a rotated key.

    Not retried with the same token; the transport re-reads TURSO_AUTH_TOKEN_FILE instead.
    """

    kind = "auth_rejected"


class DbFullError(UnreachableDbError):
    """SQLITE_FULL: the database's disk or storage quota is full; it takes an operator."""

    kind = "full"


class DbReadOnlyError(UnreachableDbError):
    """SQLITE_READONLY: the database file (or the server) takes no writes at all."""

    kind = "read_only"


class DbClientClosedError(UnreachableDbError):
    """The client was closed under the call, as at shutdown: it stays closed."""

    kind = "client_closed"


class UnknownDbError(UnreachableDbError):
    """An error code we do not know: not retried (we cannot tell it would help)."""

    kind = "unknown"


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
