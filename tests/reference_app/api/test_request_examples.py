"""Every request body in the served OpenAPI schema shows example bodies, each valid for its
model and accepted by the app; a guessed field name is a 422 that names the missing one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from reference_app.api import schemas
from tests.reference_app.conftest import InProcessApp, StartApp, functional_settings

# Every route that takes a body, and what it answers to a good one.
BODY_ROUTES = {
    ("post", "/posts"): 201,
    ("post", "/posts/batch"): 201,
    ("patch", "/posts/{post_id}"): 200,
    ("post", "/posts/{post_id}/comments"): 201,
}
REF_PREFIX = "#/components/schemas/"


@pytest.fixture
async def app(tmp_path: Path, start_app: StartApp) -> InProcessApp:
    return await start_app(functional_settings(database_url=f"file:{tmp_path / 'e.db'}"))


async def served_schema(app: InProcessApp) -> dict[str, Any]:
    response = await app.client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def body_model(schema: dict[str, Any], method: str, path: str) -> str:
    """The name of the model an operation's JSON body is documented as."""
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
    ref: str = body["schema"]["$ref"]
    assert ref.startswith(REF_PREFIX)
    return ref.removeprefix(REF_PREFIX)


def examples(schema: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The example bodies the schema shows for a model; at least one."""
    shown: list[dict[str, Any]] = schema["components"]["schemas"][name].get("examples", [])
    assert shown, f"{name} shows no example body"
    return shown


async def test_the_schema_has_a_body_route_for_every_one_listed(app: InProcessApp) -> None:
    schema = await served_schema(app)

    with_body = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert with_body == set(BODY_ROUTES)


@pytest.mark.parametrize(("method", "path"), list(BODY_ROUTES))
async def test_every_request_body_shows_examples_its_model_accepts(
    app: InProcessApp, method: str, path: str
) -> None:
    schema = await served_schema(app)
    name = body_model(schema, method, path)
    model: type[BaseModel] = getattr(schemas, name)

    for example in examples(schema, name):
        model.model_validate(example)


@pytest.mark.parametrize(("method", "path"), list(BODY_ROUTES))
async def test_the_app_accepts_every_example_body(
    app: InProcessApp, method: str, path: str
) -> None:
    schema = await served_schema(app)
    created = await app.client.post("/posts", json={"title": "t", "content": "c"})
    url = path.format(post_id=created.json()["id"])

    for example in examples(schema, body_model(schema, method, path)):
        response = await app.client.request(method, url, json=example)

        assert response.status_code == BODY_ROUTES[method, path], response.text


async def test_a_guessed_field_name_is_a_422_naming_the_missing_field(app: InProcessApp) -> None:
    """A newcomer who sends `body` for a post's text learns it is called `content`."""
    response = await app.client.post("/posts", json={"title": "Hello", "body": "First post"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "content: Field required; body: Extra inputs are not permitted"
    assert error["fields"] == [
        {"field": "content", "message": "Field required"},
        {"field": "body", "message": "Extra inputs are not permitted"},
    ]
