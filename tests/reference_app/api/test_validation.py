"""Bad input is a 422 whose JSON message names the field; unknown routes are JSON too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reference_app.conftest import InProcessApp, StartApp, functional_settings


@pytest.fixture
async def app(tmp_path: Path, start_app: StartApp) -> InProcessApp:
    return await start_app(functional_settings(database_url=f"file:{tmp_path / 'v.db'}"))


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/posts", {"title": "", "content": "c"}, "title"),
        ("POST", "/posts", {"title": "t" * 201, "content": "c"}, "title"),
        ("POST", "/posts", {"title": "t"}, "content"),
        ("POST", "/posts", {"title": "t", "content": "c" * 10_001}, "content"),
        ("POST", "/posts", {"title": "t", "content": "c", "tags": []}, "tags"),
        ("PATCH", "/posts/1", {}, "body"),
        ("GET", "/posts/0", None, "post_id"),
        ("GET", "/posts/abc", None, "post_id"),
        ("GET", "/posts?limit=0", None, "limit"),
        ("GET", "/posts?limit=101", None, "limit"),
        ("GET", "/posts?after=-1", None, "after"),
        ("GET", "/posts?include=authors", None, "include"),
        ("POST", "/posts/batch", {"posts": []}, "posts"),
        ("POST", "/posts/batch", {"posts": [{"title": "t", "content": "c"}] * 501}, "posts"),
        ("POST", "/posts/1/comments", {"body": ""}, "body"),
    ],
)
async def test_invalid_input_names_the_field(
    app: InProcessApp, method: str, path: str, body: object, field: str
) -> None:
    response = await app.client.request(method, path, json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith(f"{field}")
    assert error["fields"][0]["field"] == field


async def test_an_overlong_idempotency_key_is_rejected(app: InProcessApp) -> None:
    response = await app.client.post(
        "/posts", json={"title": "t", "content": "c"}, headers={"Idempotency-Key": "k" * 201}
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/nowhere", 404, "not_found"), ("PUT", "/posts/1", 405, "method_not_allowed")],
)
async def test_routing_errors_are_json(
    app: InProcessApp, method: str, path: str, status: int, code: str
) -> None:
    response = await app.client.request(method, path)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
