"""Each app error becomes one status with a JSON body; Retry-After where waiting helps."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from reference_app.api.errors import install_error_handlers
from reference_app.domain import IdempotencyConflict, PostNotFound
from reference_app.main import create_app
from reference_app.resilience.errors import (
    CircuitOpenError,
    ConstraintViolation,
    DbTimeoutError,
    DeadlineExceededError,
    OverloadedError,
    PermanentDbError,
    TransientDbError,
    UnreachableDbError,
)


def raising_app(error: Exception, *, catch_all: bool = True) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, catch_all=catch_all)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://app")


@pytest.mark.parametrize(
    ("error", "status", "code", "retry_after"),
    [
        (PostNotFound(7), 404, "not_found", None),
        (IdempotencyConflict("k"), 409, "idempotency_conflict", None),
        (ConstraintViolation("CHECK failed"), 409, "constraint_violation", None),
        (PermanentDbError("syntax error"), 500, "database_error", None),
        (TransientDbError("refused"), 503, "database_unavailable", "1"),
        (UnreachableDbError("KeyError: 'result'"), 503, "database_unreachable", "1"),
        (DbTimeoutError("no answer"), 504, "database_timeout", None),
        (CircuitOpenError("open", retry_after_s=2.2), 503, "circuit_open", "3"),
        (OverloadedError("busy", retry_after_s=1), 503, "overloaded", "1"),
        (DeadlineExceededError("late"), 504, "deadline_exceeded", None),
        (RuntimeError("bug"), 500, "internal_error", None),
    ],
)
async def test_error_status_code_and_retry_after(
    error: Exception, status: int, code: str, retry_after: str | None
) -> None:
    async with raising_app(error) as client:
        response = await client.get("/boom")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers.get("retry-after") == retry_after
    assert "Traceback" not in response.text


async def test_without_the_catch_all_an_unknown_error_is_fastapis_plain_500() -> None:
    async with raising_app(RuntimeError("bug"), catch_all=False) as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")


def test_every_database_route_documents_503_with_retry_after_and_504() -> None:
    paths = create_app().openapi()["paths"]
    operations = [op for path, ops in paths.items() if path != "/healthz" for op in ops.values()]

    assert operations
    for operation in operations:
        responses = operation["responses"]
        assert "Retry-After" in responses["503"]["headers"]
        assert responses["504"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
