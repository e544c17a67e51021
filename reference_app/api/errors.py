"""Every error leaves as JSON `{"error": {"code", "message"}}`; app errors map to statuses here.

This is the only place the app's errors become HTTP: DB unreachable (also for a fault of an
unknown kind) or breaker open → 503 with Retry-After, deadline → 504; a 500 means a bug of ours
(bad SQL), never a fault of the database or the path to it, and never carries a traceback.
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
    CircuitOpenError,
    ConstraintViolation,
    DbError,
    DbTimeoutError,
    DeadlineExceededError,
    OverloadedError,
    PermanentDbError,
    ResilienceError,
    TransientDbError,
    UnreachableDbError,
)

logger = logging.getLogger(__name__)

DB_UNAVAILABLE_RETRY_AFTER_S = 1.0

# Looked up along each error's MRO, so the most specific entry wins.
_STATUS_AND_CODE: dict[type[Exception], tuple[int, str]] = {
    PostNotFound: (404, "not_found"),
    IdempotencyConflict: (409, "idempotency_conflict"),
    PreconditionFailed: (412, "precondition_failed"),
    ConstraintViolation: (409, "constraint_violation"),
    PermanentDbError: (500, "database_error"),
    DbTimeoutError: (504, "database_timeout"),
    TransientDbError: (503, "database_unavailable"),
    UnreachableDbError: (503, "database_unreachable"),
    CircuitOpenError: (503, "circuit_open"),
    OverloadedError: (503, "overloaded"),
    DeadlineExceededError: (504, "deadline_exceeded"),
}


_DESCRIPTIONS = {
    400: "The body is not parseable (e.g. not UTF-8)",
    404: "No such post",
    409: "The Idempotency-Key was used with another body, or the database refused the data",
    412: "If-Match names a version the post is no longer at: read it again, then reapply",
    422: "A field is invalid; `error.fields` names each one",
    503: "Database unreachable, circuit breaker open, or overloaded; retry after Retry-After",
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
    message = "the database rejected the statement" if status == 500 else str(error)
    retry_after_s = _retry_after_s(error) if status == 503 else None
    return error_response(status, code, message, retry_after_s=retry_after_s)


def _field_name(location: tuple[int | str, ...]) -> str:
    # ("body", "title") → "title"; ("query", "limit") → "limit"; a whole body → "body".
    return ".".join(str(part) for part in location[1:]) or str(location[0])


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [
        {"field": _field_name(tuple(problem["loc"])), "message": problem["msg"]}
        for problem in error.errors()
    ]
    message = "; ".join(f"{field['field']}: {field['message']}" for field in fields)
    return error_response(422, "validation_error", message, fields=fields)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    return error_response(error.status_code, code, str(error.detail), headers=error.headers)


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "unexpected server error")


def install_error_handlers(app: FastAPI, *, catch_all: bool) -> None:
    """JSON for every error; `catch_all=False` leaves unknown errors to FastAPI (naive mode)."""
    for root in (DomainError, DbError, ResilienceError):
        app.add_exception_handler(root, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    if catch_all:
        app.add_exception_handler(Exception, _unexpected_error)
