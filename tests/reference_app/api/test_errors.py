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
    DbAuthRejected,
    DbClientClosedError,
    DbFullError,
    DbIoError,
    DbProtocolError,
    DbReadOnlyError,
    DbTimeoutError,
    DeadlineExceededError,
    OverloadedError,
    PermanentDbError,
    TransientDbError,
    UnknownDbError,
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
        (DbAuthRejected("AUTH_JWT_INVALID"), 503, "database_auth_rejected", "1"),
        (DbFullError("SQLITE_FULL"), 503, "database_full", "1"),
        (DbIoError("SQLITE_IOERR"), 503, "database_io_error", "1"),
        (DbReadOnlyError("SQLITE_READONLY"), 503, "database_read_only", "1"),
        (DbProtocolError("HRANA_PROTO_ERROR"), 503, "database_protocol_error", "1"),
        (DbClientClosedError("CLIENT_CLOSED"), 503, "database_client_closed", "1"),
        (UnknownDbError("SOMETHING_NEW"), 503, "database_error_unknown", "1"),
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


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (DbAuthRejected("AUTH_JWT_INVALID: The JWT is invalid"), "rejected the app's token"),
        (DbFullError("SQLITE_FULL: database or disk is full"), "disk or storage quota is full"),
        (DbReadOnlyError("SQLITE_READONLY: readonly database"), "is read-only"),
        (UnknownDbError("SOMETHING_NEW: what"), "an error the app does not know"),
    ],
)
async def test_a_database_fault_is_one_log_line_naming_its_cause(
    error: Exception, cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with raising_app(error) as client:
        await client.get("/boom")

    [record] = [r for r in caplog.records if r.name == "reference_app.api.errors"]
    assert cause in record.getMessage()
    assert str(error) in record.getMessage()
    assert record.exc_info is None
    assert "\n" not in record.getMessage()


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


def test_the_documented_503_names_every_code_a_503_can_carry() -> None:
    described = create_app().openapi()["paths"]["/posts/{post_id}"]["get"]["responses"]["503"]

    for code in (
        "database_auth_rejected",
        "database_full",
        "database_error_unknown",
        "circuit_open",
    ):
        assert code in described["description"]
