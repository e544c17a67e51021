"""The posts API end to end, on an embedded file and on a real local Turso over http and ws."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from reference_app.settings import AppMode
from tests.reference_app.conftest import (
    BACKENDS,
    InProcessApp,
    StartApp,
    database_url,
    functional_settings,
)


@pytest.fixture(params=BACKENDS)
async def app(request: pytest.FixtureRequest, tmp_path: Path, start_app: StartApp) -> InProcessApp:
    """A hardened app on each backend."""
    return await start_app(
        functional_settings(database_url=database_url(request.param, tmp_path, request))
    )


async def create(client: httpx.AsyncClient, title: str, **headers: str) -> dict:
    response = await client.post(
        "/posts", json={"title": title, "content": "body"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def last_id(client: httpx.AsyncClient) -> int:
    """The newest post's id, so a test can page over only the posts it creates."""
    return (await create(client, "marker"))["id"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", list(AppMode))
async def test_create_read_update_delete(
    backend: str,
    mode: AppMode,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    start_app: StartApp,
) -> None:
    app = await start_app(
        functional_settings(mode=mode, database_url=database_url(backend, tmp_path, request))
    )
    client = app.client

    created = await create(client, "first")
    assert set(created) == {"id", "title", "content", "created_at", "version"}
    post_id = created["id"]
    assert (await client.get(f"/posts/{post_id}")).json() == created

    patched = await client.patch(f"/posts/{post_id}", json={"title": "renamed"})
    assert patched.status_code == 200
    assert patched.json() == {**created, "title": "renamed", "version": created["version"] + 1}
    assert (await client.get(f"/posts/{post_id}")).json()["title"] == "renamed"

    assert (await client.delete(f"/posts/{post_id}")).status_code == 204
    for method in ("GET", "DELETE"):
        missing = await client.request(method, f"/posts/{post_id}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
    assert (await client.patch(f"/posts/{post_id}", json={"title": "x"})).status_code == 404


async def test_keyset_pages_walk_every_post_once(app: InProcessApp) -> None:
    start = await last_id(app.client)
    ids = [(await create(app.client, f"post {i}"))["id"] for i in range(7)]

    seen, after, pages = [], start, 0
    while after is not None:
        page = (await app.client.get("/posts", params={"limit": 3, "after": after})).json()
        seen += [item["id"] for item in page["items"]]
        after, pages = page["next_cursor"], pages + 1

    assert seen == ids
    assert pages == 3


async def test_the_default_page_is_twenty_posts(app: InProcessApp) -> None:
    start = await last_id(app.client)
    for i in range(21):
        await create(app.client, f"post {i}")

    page = (await app.client.get("/posts", params={"after": start})).json()

    assert len(page["items"]) == 20
    assert page["next_cursor"] == page["items"][-1]["id"]


async def test_an_idempotency_key_stores_one_post_and_replays_it(app: InProcessApp) -> None:
    first = await create(app.client, "once", **{"Idempotency-Key": "key-1"})
    again = await create(app.client, "once", **{"Idempotency-Key": "key-1"})

    assert again == first
    listed = (await app.client.get("/posts", params={"after": first["id"] - 1})).json()
    assert [item["title"] for item in listed["items"]].count("once") == 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_naive_mode_ignores_idempotency_keys_as_the_guides_insert_does(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, start_app: StartApp
) -> None:
    url = database_url(backend, tmp_path, request)
    app = await start_app(functional_settings(mode=AppMode.NAIVE, database_url=url))

    first = await create(app.client, "twice", **{"Idempotency-Key": "naive-key"})
    again = await create(app.client, "twice", **{"Idempotency-Key": "naive-key"})

    assert again["id"] != first["id"]
    listed = (await app.client.get("/posts", params={"after": first["id"] - 1})).json()
    assert [item["title"] for item in listed["items"]].count("twice") == 2


async def test_an_idempotency_key_reused_with_another_body_conflicts(app: InProcessApp) -> None:
    await create(app.client, "original", **{"Idempotency-Key": "key-2"})

    response = await app.client.post(
        "/posts",
        json={"title": "different", "content": "body"},
        headers={"Idempotency-Key": "key-2"},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


async def test_batch_create_is_one_round_trip_and_replays_by_key(app: InProcessApp) -> None:
    body = {"posts": [{"title": f"batch {i}", "content": "c"} for i in range(500)]}
    before = app.round_trips

    created = await app.client.post("/posts/batch", json=body, headers={"Idempotency-Key": "b1"})
    replayed = await app.client.post("/posts/batch", json=body, headers={"Idempotency-Key": "b1"})

    assert created.status_code == 201
    ids = created.json()["ids"]
    assert len(set(ids)) == 500
    assert replayed.json() == {"ids": ids}
    assert app.round_trips - before == 2


async def titles_after(client: httpx.AsyncClient, after: int) -> list[str]:
    page = (await client.get("/posts", params={"after": after, "limit": 100})).json()
    return [item["title"] for item in page["items"]]


async def test_a_batch_replayed_with_another_body_is_409_and_stores_nothing(
    app: InProcessApp,
) -> None:
    """The issue's replay: the first post changed and a second one added."""
    start, key = await last_id(app.client), uuid.uuid4().hex
    first = {"posts": [{"title": "first", "content": "c"}]}
    changed = {
        "posts": [{"title": "first, changed", "content": "c"}, {"title": "second", "content": "c"}]
    }

    stored = await app.client.post("/posts/batch", json=first, headers={"Idempotency-Key": key})
    replayed = await app.client.post("/posts/batch", json=changed, headers={"Idempotency-Key": key})

    assert stored.status_code == 201
    assert replayed.status_code == 409
    assert replayed.json()["error"]["code"] == "idempotency_conflict"
    assert await titles_after(app.client, start) == ["first"]


async def test_a_batch_key_keeps_its_body_after_its_first_post_is_deleted(
    app: InProcessApp,
) -> None:
    """The key was once judged by its first post alone: with that post deleted, a replay with
    another body stored it (409 with rows stored, or 201 for one post) and the same body got
    other ids. Now both other bodies are 409 with nothing stored, and the same body gets the
    ids first answered, the deleted one included."""
    start, key = await last_id(app.client), uuid.uuid4().hex
    headers = {"Idempotency-Key": key}
    body = {"posts": [{"title": "A", "content": "c"}, {"title": "B", "content": "c"}]}
    created = await app.client.post("/posts/batch", json=body, headers=headers)
    ids = created.json()["ids"]
    assert (await app.client.delete(f"/posts/{ids[0]}")).status_code == 204

    other = {"posts": [{"title": "A2", "content": "c"}, {"title": "C", "content": "c"}]}
    other_body = await app.client.post("/posts/batch", json=other, headers=headers)
    one_post = {"posts": [{"title": "D", "content": "c"}]}
    one_other_post = await app.client.post("/posts/batch", json=one_post, headers=headers)
    same_body = await app.client.post("/posts/batch", json=body, headers=headers)

    assert (other_body.status_code, one_other_post.status_code) == (409, 409)
    assert (same_body.status_code, same_body.json()) == (201, {"ids": ids})
    assert await titles_after(app.client, start) == ["B"]


async def test_a_single_create_never_gets_a_batchs_post(app: InProcessApp) -> None:
    """Batch items were once stored under `<key>#<i>`, a key any client can send."""
    key = uuid.uuid4().hex
    body = {"posts": [{"title": "one", "content": "c"}, {"title": "two", "content": "c"}]}
    batch = await app.client.post("/posts/batch", json=body, headers={"Idempotency-Key": key})

    alone = await create(app.client, "two", **{"Idempotency-Key": f"{key}#1"})

    assert batch.status_code == 201
    assert alone["id"] not in batch.json()["ids"]


async def test_an_idempotency_key_with_a_control_character_is_422(app: InProcessApp) -> None:
    response = await app.client.post(
        "/posts", json={"title": "t", "content": "c"}, headers={"Idempotency-Key": "a\x1fb"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "Idempotency-Key"


async def test_a_patch_with_if_match_applies_only_at_that_version(app: InProcessApp) -> None:
    created = await app.client.post("/posts", json={"title": "t", "content": "v1"})
    url, etag = f"/posts/{created.json()['id']}", created.headers["ETag"]

    applied = await app.client.patch(url, json={"content": "v2"}, headers={"If-Match": etag})
    stale = await app.client.patch(url, json={"content": "lost"}, headers={"If-Match": etag})
    read = await app.client.get(url)

    assert etag == '"1"'
    assert (applied.status_code, applied.headers["ETag"]) == (200, '"2"')
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert (read.json()["content"], read.headers["ETag"]) == ("v2", '"2"')


@pytest.mark.parametrize(
    ("if_match", "status"),
    [("*", 200), ('"7", "1"', 200), ('W/"1"', 412), ("garbage", 412)],
)
async def test_if_match_takes_a_list_or_any_and_compares_strongly(
    app: InProcessApp, if_match: str, status: int
) -> None:
    created = await create(app.client, "t")

    patched = await app.client.patch(
        f"/posts/{created['id']}", json={"title": "u"}, headers={"If-Match": if_match}
    )

    assert patched.status_code == status


async def test_a_patch_with_if_match_on_a_missing_post_is_404(app: InProcessApp) -> None:
    missing = await app.client.patch(
        "/posts/999999999", json={"title": "u"}, headers={"If-Match": '"1"'}
    )

    assert missing.status_code == 404


@pytest.mark.parametrize("backend", BACKENDS)
async def test_naive_mode_ignores_if_match_as_the_guides_update_does(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, start_app: StartApp
) -> None:
    url = database_url(backend, tmp_path, request)
    app = await start_app(functional_settings(mode=AppMode.NAIVE, database_url=url))
    created = await create(app.client, "t")

    patched = await app.client.patch(
        f"/posts/{created['id']}", json={"title": "u"}, headers={"If-Match": '"99"'}
    )

    assert (patched.status_code, patched.headers["ETag"]) == (200, '"2"')


async def test_concurrent_creates_share_round_trips(app: InProcessApp) -> None:
    before = app.round_trips

    posts = await asyncio.gather(*(create(app.client, f"concurrent {i}") for i in range(32)))

    assert len({post["id"] for post in posts}) == 32
    assert app.round_trips - before < 32


async def test_a_page_of_posts_with_comments_takes_at_most_two_round_trips(
    app: InProcessApp,
) -> None:
    start = await last_id(app.client)
    ids = [(await create(app.client, f"post {i}"))["id"] for i in range(20)]
    for post_id in ids:
        for n in range(2):
            comment = await app.client.post(f"/posts/{post_id}/comments", json={"body": f"c{n}"})
            assert comment.status_code == 201
    before = app.round_trips

    page = await app.client.get("/posts", params={"after": start, "include": "comments"})

    assert app.round_trips - before <= 2
    items = page.json()["items"]
    assert [item["id"] for item in items] == ids
    assert all([c["body"] for c in item["comments"]] == ["c0", "c1"] for item in items)


async def test_one_post_with_its_comments(app: InProcessApp) -> None:
    post = await create(app.client, "commented")
    comment = await app.client.post(f"/posts/{post['id']}/comments", json={"body": "hi"})
    before = app.round_trips

    response = await app.client.get(f"/posts/{post['id']}", params={"include": "comments"})

    assert app.round_trips - before == 1
    assert response.json() == {**post, "comments": [comment.json()]}


async def test_a_comment_on_a_missing_post_is_404(app: InProcessApp) -> None:
    response = await app.client.post("/posts/999999999/comments", json={"body": "hi"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
