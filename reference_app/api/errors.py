"""Every error leaves as JSON `{"error": {"code", "message"}}`; app errors map to statuses here.

This is the only place the app's errors become HTTP: DB unreachable, a named database fault
(token rejected, disk full, read-only, I/O, protocol, closed client, an unknown code) or breaker
open → 503 with Retry-After, deadline → 504; a 500 means a bug of ours (bad SQL, or our code
failing around a call), never a fault of the database or the path to it; it is logged with its
traceback, which its body never carries.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reference_app.api.schemas import ErrorOut
from reference_app.domain import (
    DomainError,
    IdempotencyConflict,
    PostNotFound,
    PreconditionFailed,
)
from reference_app.resilience.errors import (
    AppBugError,
    CircuitOpenError,
    ConstraintViolation,
    DbAuthRejected,
    DbClientClosedError,
    DbError,
    DbFullError,
    DbIoError,
    DbProtocolError,
    DbReadOnlyError,
    DbTimeoutError,
    DeadlineExceededError,
    OverloadedError,
    PermanentDbError,
    ResilienceError,
    TransientDbError,
    UnknownDbError,
    UnreachableDbError,
)

logger = logging.getLogger(__name__)

DB_UNAVAILABLE_RETRY_AFTER_S = 1.0

# The named faults, each said in words in the one log line its 503 gets.
_FAULT_CAUSES: dict[type[DbError], str] = {
    DbAuthRejected: "the database rejected the app's token",
    DbFullError: "the database's disk or storage quota is full",
    DbIoError: "the database's storage failed a read or write",
    DbReadOnlyError: "the database is read-only",
    DbProtocolError: "the app and the database did not understand each other",
    DbClientClosedError: "the database client was closed",
    UnknownDbError: "the database failed with an error the app does not know",
}

# Looked up along each error's MRO, so the most specific entry wins.
_STATUS_AND_CODE: dict[type[Exception], tuple[int, str]] = {
    PostNotFound: (404, "not_found"),
    IdempotencyConflict: (409, "idempotency_conflict"),
    PreconditionFailed: (412, "precondition_failed"),
    ConstraintViolation: (409, "constraint_violation"),
    PermanentDbError: (500, "database_error"),
    AppBugError: (500, "internal_error"),
    DbTimeoutError: (504, "database_timeout"),
    TransientDbError: (503, "database_unavailable"),
    UnreachableDbError: (503, "database_unreachable"),
    DbAuthRejected: (503, "database_auth_rejected"),
    DbFullError: (503, "database_full"),
    DbIoError: (503, "database_io_error"),
    DbReadOnlyError: (503, "database_read_only"),
    DbProtocolError: (503, "database_protocol_error"),
    DbClientClosedError: (503, "database_client_closed"),
    UnknownDbError: (503, "database_error_unknown"),
    CircuitOpenError: (503, "circuit_open"),
    OverloadedError: (503, "overloaded"),
    DeadlineExceededError: (504, "deadline_exceeded"),
}


# A 500's own text would show our internals; the log has them, with the traceback.
_INTERNAL_MESSAGES = {
    "database_error": "the database rejected the statement",
    "internal_error": "unexpected server error",
}

_DESCRIPTIONS = {
    400: "The body is not JSON (empty, malformed, not UTF-8, or sent as another Content-Type)",
    404: "No such post",
    409: "The Idempotency-Key was used with another body, or the database refused the data",
    412: "If-Match names a version the post is no longer at: it changed since; read it",
    413: "The body is longer than the app's limit (APP_MAX_BODY_BYTES); nothing of it was used",
    422: "A field is invalid; `error.fields` names each one",
    503: (
        "The database or the path to it failed, the circuit breaker is open, or every DB slot"
        " is busy; retry after Retry-After. `error.code` names the cause: "
        + ", ".join(code for status, code in _STATUS_AND_CODE.values() if status == 503)
    ),
    504: "The request's deadline passed",
}
_RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Whole seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def documented_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the one JSON error body."""
    return {
        status: {
            "model": ErrorOut,
            "description": _DESCRIPTIONS[status],
            **({"headers": _RETRY_AFTER_HEADER} if status == 503 else {}),
        }
        for status in statuses
    }


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    retry_after_s: float | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The one error body; Retry-After is whole seconds, at least 1."""
    all_headers = dict(headers or {})
    if retry_after_s is not None:
        all_headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    body = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=all_headers)


class BodyTooLarge(StarletteHTTPException):
    """A request body that passed the limit while being read. An HTTPException, so that
    FastAPI's body reading passes it on instead of turning it into a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is longer than {max_bytes} bytes")


def body_too_large(message: str) -> JSONResponse:
    """The 413; the connection is closed after it, so the rest of the body is never read."""
    return error_response(413, "body_too_large", message, headers={"Connection": "close"})


def _status_and_code(error: Exception) -> tuple[int, str]:
    for cls in type(error).__mro__:
        if cls in _STATUS_AND_CODE:
            return _STATUS_AND_CODE[cls]
    return 500, "internal_error"


def _retry_after_s(error: Exception) -> float:
    """For a 503: when trying again may help."""
    if isinstance(error, ResilienceError):
        return error.retry_after_s
    if isinstance(error, DbError) and error.retry_after_s is not None:
        return error.retry_after_s  # the database's own, passed on
    return DB_UNAVAILABLE_RETRY_AFTER_S


async def _app_error(_request: Request, error: Exception) -> JSONResponse:
    status, code = _status_and_code(error)
    if status == 500:
        # 503/504 are expected under faults and counted in /metrics; a 500 is a bug to read.
        logger.error("%s: %s", code, error, exc_info=error)
    elif cause := _FAULT_CAUSES.get(type(error)):
        # A fault that needs someone (a token, a disk): named, but no traceback, which
        # would only show our own call stack.
        logger.warning("%s: %s (%s)", code, cause, error)
    message = _INTERNAL_MESSAGES.get(code, str(error))
    retry_after_s = _retry_after_s(error) if status == 503 else None
    return error_response(status, code, message, retry_after_s=retry_after_s)


def _field_name(location: tuple[int | str, ...]) -> str:
    # ("body", "title") → "title"; ("query", "limit") → "limit"; a whole body → "body".
    return ".".join(str(part) for part in location[1:]) or str(location[0])


def _not_json(problem: Mapping[str, Any]) -> str | None:
    """Why the body is not JSON, or None: FastAPI's own decode error, a body it kept as bytes
    because its Content-Type is not JSON, or no body at all (FastAPI's "missing" for the
    whole body; a JSON `null` is a wrong type instead, a 422)."""
    if problem["type"] == "json_invalid":
        return f"{problem['ctx']['error']} at character {problem['loc'][-1]}"
    if tuple(problem["loc"]) != ("body",):
        return None
    if problem["type"] == "missing":
        return "it is empty"
    if isinstance(problem.get("input"), bytes):
        return "its Content-Type is not application/json"
    return None


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if reasons := [reason for problem in problems if (reason := _not_json(problem))]:
        return error_response(400, "invalid_json", f"the body is not JSON: {reasons[0]}")
    fields = [
        {"field": _field_name(tuple(problem["loc"])), "message": problem["msg"]}
        for problem in problems
    ]
    message = "; ".join(f"{field['field']}: {field['message']}" for field in fields)
    return error_response(422, "validation_error", message, fields=fields)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if isinstance(error.__cause__, UnicodeDecodeError):  # FastAPI's 400 for such a body
        return error_response(400, "invalid_json", "the body is not JSON: it is not UTF-8")
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    return error_response(error.status_code, code, str(error.detail), headers=error.headers)


async def _body_too_large(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BodyTooLarge)
    return body_too_large(str(error.detail))


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=error)
    return error_response(500, "internal_error", _INTERNAL_MESSAGES["internal_error"])


def install_error_handlers(app: FastAPI, *, catch_all: bool) -> None:
    """JSON for every error; `catch_all=False` leaves unknown errors to FastAPI (naive mode)."""
    for root in (DomainError, DbError, ResilienceError):
        app.add_exception_handler(root, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, _body_too_large)
    if catch_all:
        app.add_exception_handler(Exception, _unexpected_error)
