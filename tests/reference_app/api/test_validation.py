"""Bad input is a 422 whose JSON message names the field, a body that is not JSON a 400, one
over the limit a 413; unknown routes are JSON too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.types import Message

from reference_app.api.schemas import PostBatchIn
from reference_app.domain import CONTENT_MAX_CHARS, TITLE_MAX_CHARS
from reference_app.main import create_app
from reference_app.settings import DEFAULT_MAX_BODY_BYTES, MAX_BATCH_SIZE
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


BODY_ROUTES = [
    ("POST", "/posts"),
    ("POST", "/posts/batch"),
    ("PATCH", "/posts/1"),
    ("POST", "/posts/1/comments"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"title": "t",', "application/json"),
        (b"title=t&content=c", "application/json"),
        (b'{"title": "\xff\xfe"}', "application/json"),
        (b'{"title": "t", "content": "c"}', "text/plain"),
        (b"", "application/json"),
    ],
    ids=["cut-short", "form", "not-utf-8", "not-sent-as-json", "empty"],
)
async def test_a_body_that_is_not_json_is_a_400(
    app: InProcessApp, method: str, path: str, body: bytes, content_type: str
) -> None:
    response = await app.client.request(
        method, path, content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json"
    assert error["message"].startswith("the body is not JSON: ")


async def test_a_json_null_body_is_json_of_the_wrong_type_a_422(app: InProcessApp) -> None:
    response = await app.client.post(
        "/posts", content=b"null", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body"


@pytest.fixture
async def small_limit_app(tmp_path: Path, start_app: StartApp) -> InProcessApp:
    settings = functional_settings(database_url=f"file:{tmp_path / 'l.db'}", max_body_bytes=100)
    return await start_app(settings)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_over_the_limit_is_a_413(
    small_limit_app: InProcessApp, method: str, path: str
) -> None:
    response = await small_limit_app.client.request(method, path, json={"title": "t" * 101})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert response.headers["Connection"] == "close"


async def test_a_body_passing_the_limit_while_read_is_a_413(small_limit_app: InProcessApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"title": "t", "content": "'
        yield b"c" * 100
        yield b'"}'

    response = await small_limit_app.client.post("/posts", content=chunks())

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


async def test_a_body_longer_than_its_content_length_is_a_413_past_the_limit(
    small_limit_app: InProcessApp,
) -> None:
    # uvicorn cuts a body at its Content-Length; an ASGI server that did not would still
    # have it counted as it is read.
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/posts",
        "raw_path": b"/posts",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"10")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    pieces = iter([b"x" * 80, b"x" * 80, b"x" * 80])
    answer: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": next(pieces), "more_body": True}

    async def send(message: Message) -> None:
        answer.append(message)

    await small_limit_app.app(scope, receive, send)

    assert answer[0]["status"] == 413
    assert json.loads(answer[1]["body"])["error"]["code"] == "body_too_large"
    assert next(pieces, None) is not None  # the third piece was never asked for


async def test_a_body_within_the_limit_is_served(small_limit_app: InProcessApp) -> None:
    response = await small_limit_app.client.post("/posts", json={"title": "t", "content": "c"})

    assert response.status_code == 201


# Outside the BMP: `json.dumps` writes it as a surrogate pair, `\ud83d\ude00`, 12 bytes; no
# character is written longer (UTF-8 takes at most 4, a BMP escape 6).
WIDEST_CHARACTER = "\U0001f600"


def test_no_character_is_sent_wider_than_the_widest() -> None:
    widest = len(json.dumps(WIDEST_CHARACTER))
    samples = ["a", '"', "\x00", "é", "\u4e2d", "\uffff", "\U0010ffff", WIDEST_CHARACTER]

    assert widest == 2 + 12
    assert all(len(json.dumps(c, ensure_ascii=a)) <= widest for c in samples for a in (True, False))
    assert all(len(c.encode()) <= 12 for c in samples)


def test_the_largest_valid_batch_fits_the_default_limit() -> None:
    # Every field at its maximum, in the character `json.dumps` writes widest.
    post = {
        "title": WIDEST_CHARACTER * TITLE_MAX_CHARS,
        "content": WIDEST_CHARACTER * CONTENT_MAX_CHARS,
    }
    body = json.dumps({"posts": [post] * MAX_BATCH_SIZE}).encode()

    assert len(PostBatchIn.model_validate_json(body).posts) == MAX_BATCH_SIZE
    assert len(body) < DEFAULT_MAX_BODY_BYTES


def test_every_route_with_a_body_documents_400_and_413() -> None:
    paths = create_app().openapi()["paths"]
    with_body = {
        (method.upper(), path): operation["responses"]
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }

    assert len(with_body) == len(BODY_ROUTES)
    for responses in with_body.values():
        assert {"400", "413"} <= set(responses)
