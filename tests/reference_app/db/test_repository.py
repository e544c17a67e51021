"""The repository over a real file database, with a transport that loses answers on purpose."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from harness.stack import LocalTurso, Sqld, sqld
from reference_app.db.repository import PostsRepository, batch_post_key
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Result, Statement, Transport
from reference_app.domain import (
    UPDATE_KEYS_KEPT_S,
    CreatePost,
    IdempotencyConflict,
    Post,
    PostChanges,
    PostDraft,
    PreconditionFailed,
    batch_fingerprint,
)
from reference_app.resilience.errors import ConstraintViolation, TransientDbError
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy
from tests.reference_app.fakes import FakeClock, RecordingSleep


class LosesTheFirstAnswer:
    """The first call (execute or batch) is applied by the database, but its answer never
    arrives (a reset); later calls are answered."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.lost = 0

    async def execute(self, statement: Statement) -> Result:
        result = await self._transport.execute(statement)
        self._lose_the_first()
        return result

    async def batch(self, statements: Sequence[Statement]) -> list[Result]:
        results = await self._transport.batch(statements)
        self._lose_the_first()
        return results

    def _lose_the_first(self) -> None:
        if self.lost == 0:
            self.lost += 1
            raise TransientDbError("connection reset after the write", maybe_applied=True)


@pytest.fixture
async def transport(tmp_path: Path) -> AsyncIterator[Transport]:
    transport = Transport.open(f"file:{tmp_path / 'r.db'}", None, round_trips=RoundTripCounter())
    try:
        yield transport
    finally:
        await transport.close()


def retrying(transport: Transport | LosesTheFirstAnswer) -> PostsRepository:
    pipeline = Pipeline(retry=RetryPolicy(sleep=RecordingSleep(FakeClock())))
    return PostsRepository(transport, pipeline)  # type: ignore[arg-type]


async def stored_post(repository: PostsRepository) -> Post:
    await repository.create_schema()
    [post] = await repository.create_posts([CreatePost(PostDraft("t", "c"), "key-1")])
    assert isinstance(post, Post)
    return post


async def test_a_retried_delete_whose_first_attempt_landed_reports_deleted(
    transport: Transport,
) -> None:
    post = await stored_post(retrying(transport))
    flaky = LosesTheFirstAnswer(transport)

    deleted = await retrying(flaky).delete_post(post.id)

    assert flaky.lost == 1
    assert deleted is True
    assert await retrying(transport).get_post(post.id) is None


async def test_deleting_a_post_that_never_existed_reports_not_deleted(
    transport: Transport,
) -> None:
    repository = retrying(transport)
    post = await stored_post(repository)

    assert await repository.delete_post(post.id + 1) is False


# Creates must behave the same whatever answers them: the embedded file, the local server and
# the real sqld (skipped, with the reason, without SQLD_BIN) get the same statements.
DATABASES = [
    "file",
    pytest.param("local", marks=pytest.mark.integration),
    pytest.param("sqld", marks=pytest.mark.integration),
]


@pytest.fixture(scope="module")
def sqld_server(sqld_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sqld]:
    root = tmp_path_factory.mktemp("repository-sqld")
    with sqld(sqld_bin, root / "data", root) as server:
        yield server


@pytest.fixture(params=DATABASES)
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return f"file:{tmp_path / 'r.db'}"
    server: LocalTurso | Sqld = request.getfixturevalue(
        "shared_turso" if request.param == "local" else "sqld_server"
    )
    return server.http_url


@pytest.fixture
async def any_database(any_database_url: str) -> AsyncIterator[Transport]:
    """A transport to a database with the schema; its posts may hold other tests' rows."""
    transport = Transport.open(any_database_url, None, round_trips=RoundTripCounter())
    try:
        await retrying(transport).create_schema()
        yield transport
    finally:
        await transport.close()


def unique_key() -> str:
    return f"key-{uuid.uuid4().hex}"  # the servers' databases are shared between tests


def create(key: str, content: str = "c", title: str = "t") -> CreatePost:
    return CreatePost(PostDraft(title, content), key)


async def stored_rows(transport: Transport, key: str) -> int:
    result = await transport.execute(
        ("SELECT count(*) AS n FROM posts WHERE idempotency_key = ?", (key,))
    )
    return int(result.rows[0]["n"])


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "in a batch"])
async def test_a_create_replayed_with_its_key_returns_the_post_stored_the_first_time(
    any_database: Transport, batch: bool
) -> None:
    repository = retrying(any_database)
    key, other = unique_key(), unique_key()
    company = [create(other)] if batch else []
    [first, *_] = await repository.create_posts([create(key), *company])
    [again, *_] = await repository.create_posts([create(key), *company])

    assert isinstance(first, Post)
    assert first.content == "c"
    assert again == first
    assert await stored_rows(any_database, key) == 1


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "in a batch"])
async def test_a_key_reused_with_another_body_conflicts_and_keeps_the_first(
    any_database: Transport, batch: bool
) -> None:
    repository = retrying(any_database)
    key = unique_key()
    company = [create(unique_key())] if batch else []
    [first] = await repository.create_posts([create(key, "first")])
    [reused, *_] = await repository.create_posts([create(key, "second"), *company])

    assert isinstance(reused, IdempotencyConflict)
    assert reused.key == key
    assert await repository.get_post(first.id) == first  # type: ignore[union-attr]


async def test_a_batch_answers_each_create_with_its_own_stored_row(
    any_database: Transport,
) -> None:
    """New keys, a key twice in the batch, and a stored key with its own and another body."""
    repository = retrying(any_database)
    stored, new, twice = unique_key(), unique_key(), unique_key()
    [before] = await repository.create_posts([create(stored, "stored")])

    created, once, again, changed, replayed = await repository.create_posts(
        [
            create(new, "new"),
            create(twice, "twice"),
            create(twice, "twice"),
            create(stored, "changed"),
            create(stored, "stored"),
        ]
    )

    assert isinstance(created, Post)
    assert created.content == "new"
    assert isinstance(once, Post)
    assert once.content == "twice"
    assert again == once
    assert isinstance(changed, IdempotencyConflict)
    assert replayed == before
    assert [await stored_rows(any_database, key) for key in (stored, new, twice)] == [1, 1, 1]


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "in a batch"])
async def test_a_create_the_schema_refuses_stores_nothing(
    any_database: Transport, batch: bool
) -> None:
    repository = retrying(any_database)
    keys = [unique_key(), unique_key()] if batch else [unique_key()]
    creates = [create(key) for key in keys[1:]] + [create(keys[0], title="x" * 500)]

    with pytest.raises(ConstraintViolation):
        await repository.create_posts(creates)

    assert [await stored_rows(any_database, key) for key in keys] == [0] * len(keys)


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "in a batch"])
async def test_a_create_whose_answer_was_lost_is_retried_and_stored_once(
    any_database: Transport, batch: bool
) -> None:
    flaky = LosesTheFirstAnswer(any_database)
    keys = [unique_key(), unique_key()] if batch else [unique_key()]

    posts = await retrying(flaky).create_posts([create(key, key) for key in keys])

    assert flaky.lost == 1
    assert [post.content for post in posts if isinstance(post, Post)] == keys
    assert [await stored_rows(any_database, key) for key in keys] == [1] * len(keys)


async def test_one_create_is_one_statement_and_several_are_one_batch(tmp_path: Path) -> None:
    """A lone create needs no transaction around it: one execute, no BEGIN/COMMIT steps."""
    calls: list[str] = []
    transport = Transport.open(
        f"file:{tmp_path / 'r.db'}",
        None,
        round_trips=RoundTripCounter(lambda operation, _s, _outcome: calls.append(operation)),
    )
    try:
        repository = retrying(transport)
        await repository.create_schema()
        calls.clear()
        await repository.create_posts([create("alone")])
        await repository.create_posts([create("first"), create("second")])
    finally:
        await transport.close()

    assert calls == ["execute", "batch"]


def drafts(*contents: str) -> list[PostDraft]:
    return [PostDraft(f"batch post {i}", content) for i, content in enumerate(contents)]


async def stored_contents(transport: Transport, contents: Sequence[str]) -> int:
    """How many posts hold one of `contents` (each test's contents are its own)."""
    result = await transport.execute(
        (
            f"SELECT count(*) AS n FROM posts WHERE content IN ({', '.join('?' * len(contents))})",
            list(contents),
        )
    )
    return int(result.rows[0]["n"])


async def contents_of(repository: PostsRepository, ids: Sequence[int]) -> list[str | None]:
    posts = [await repository.get_post(post_id) for post_id in ids]
    return [post.content if post else None for post in posts]


async def test_a_batch_replayed_with_its_body_returns_the_posts_stored_the_first_time(
    any_database: Transport,
) -> None:
    repository = retrying(any_database)
    key, contents = unique_key(), [unique_key(), unique_key()]

    first = await repository.create_batch(key, drafts(*contents))
    again = await repository.create_batch(key, drafts(*contents))

    assert isinstance(first, list)
    assert await contents_of(repository, first) == contents
    assert again == first
    assert await stored_contents(any_database, contents) == 2


@pytest.mark.parametrize("grown", [False, True], ids=["same size", "one more post"])
async def test_a_batch_replayed_with_another_body_conflicts_and_stores_nothing(
    any_database: Transport, grown: bool
) -> None:
    """The issue's case: the first post changed, plus a second one; nothing of it is stored."""
    repository = retrying(any_database)
    key, first, changed, added = unique_key(), unique_key(), unique_key(), unique_key()
    [stored] = await repository.create_batch(key, drafts(first))  # type: ignore[misc]

    replayed = await repository.create_batch(
        key, drafts(changed, added) if grown else drafts(changed)
    )

    assert isinstance(replayed, IdempotencyConflict)
    assert replayed.key == key
    assert await stored_contents(any_database, [changed, added]) == 0
    assert await contents_of(repository, [stored]) == [first]


@pytest.mark.parametrize("deleted", [0, 1], ids=["first post deleted", "second post deleted"])
async def test_a_batch_key_stays_bound_to_its_body_after_a_post_of_it_is_deleted(
    any_database: Transport, deleted: int
) -> None:
    """The review's case: with the first post gone, a replay with another body stored posts
    under the used key (and answered 409, or 201 for a one-post body)."""
    repository = retrying(any_database)
    key, contents = unique_key(), [unique_key(), unique_key()]
    others = [unique_key(), unique_key()]
    ids = await repository.create_batch(key, drafts(*contents))
    assert isinstance(ids, list)
    assert await repository.delete_post(ids[deleted])

    other_body = await repository.create_batch(key, drafts(*others))
    one_other_post = await repository.create_batch(key, drafts(others[0]))
    same_body = await repository.create_batch(key, drafts(*contents))

    assert isinstance(other_body, IdempotencyConflict)
    assert isinstance(one_other_post, IdempotencyConflict)
    assert await stored_contents(any_database, others) == 0
    # The ids the client was first told, the deleted one included; nothing stored again.
    assert same_body == ids
    assert await stored_contents(any_database, contents) == 1


async def test_a_batch_stored_before_batches_were_recorded_keeps_its_body(
    any_database: Transport,
) -> None:
    """A batch stored by the release before (its posts, no batches row; its first post since
    deleted) is bound to the body its posts carry."""
    repository = retrying(any_database)
    key, contents = unique_key(), [unique_key(), unique_key(), unique_key()]
    body = drafts(*contents)
    legacy_ids = []
    for i, draft in enumerate(body):
        result = await any_database.execute(
            (
                "INSERT INTO posts (title, content, idempotency_key, request_fingerprint) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (draft.title, draft.content, batch_post_key(key, i), batch_fingerprint(body)),
            )
        )
        legacy_ids.append(result.rows[0]["id"])
    await repository.delete_post(legacy_ids[0])

    other_body = await repository.create_batch(key, drafts(contents[0], unique_key()))
    same_body = await repository.create_batch(key, body)

    assert isinstance(other_body, IdempotencyConflict)
    assert same_body == legacy_ids[1:]
    assert await stored_contents(any_database, contents) == 2


async def test_a_batch_whose_answer_was_lost_is_retried_and_stored_once(
    any_database: Transport,
) -> None:
    flaky = LosesTheFirstAnswer(any_database)
    contents = [unique_key(), unique_key()]

    posts = await retrying(flaky).create_batch(unique_key(), drafts(*contents))

    assert flaky.lost == 1
    assert isinstance(posts, list)
    assert await contents_of(retrying(any_database), posts) == contents
    assert await stored_contents(any_database, contents) == 2


async def test_batch_keys_and_single_create_keys_never_meet(any_database: Transport) -> None:
    """A batch's posts are not found by any single create's key, nor the reverse; the old
    item keys `<key>#<i>` made a single create with `K#1` return batch K's second post."""
    repository = retrying(any_database)
    key = unique_key()
    single = create(f"{key}#0", "single")
    [alone] = await repository.create_posts([single])
    batch = await repository.create_batch(key, [single.draft, PostDraft("t", "second")])
    [after] = await repository.create_posts([create(f"{key}#1", "second")])

    assert isinstance(alone, Post)
    assert isinstance(batch, list)
    assert isinstance(after, Post)
    assert batch[0] != alone.id
    assert after.id != batch[1]


async def stored_version(transport: Transport, post_id: int) -> tuple[int, str]:
    result = await transport.execute(
        ("SELECT version, content FROM posts WHERE id = ?", (post_id,))
    )
    return result.rows[0]["version"], result.rows[0]["content"]


async def test_an_update_at_the_version_it_names_applies_and_adds_one(
    any_database: Transport,
) -> None:
    repository = retrying(any_database)
    [post] = await repository.create_posts([create(unique_key())])
    assert isinstance(post, Post)

    updated = await repository.update_post(
        post.id, PostChanges(content="new"), request_key=unique_key(), if_version=frozenset({1})
    )

    assert isinstance(updated, Post)
    assert (updated.version, updated.content) == (post.version + 1, "new")
    assert await stored_version(any_database, post.id) == (2, "new")


async def test_an_update_based_on_a_replaced_version_is_refused(any_database: Transport) -> None:
    repository = retrying(any_database)
    [post] = await repository.create_posts([create(unique_key())])
    assert isinstance(post, Post)
    await repository.update_post(post.id, PostChanges(content="newer"), request_key=unique_key())

    refused = await repository.update_post(
        post.id, PostChanges(content="stale"), request_key=unique_key(), if_version=frozenset({1})
    )
    missing = await repository.update_post(
        post.id + 10**9, PostChanges(content="x"), request_key=unique_key(), if_version=frozenset()
    )

    assert isinstance(refused, PreconditionFailed)
    assert refused.version == 2
    assert missing is None
    assert await stored_version(any_database, post.id) == (2, "newer")


class AnotherUpdateLandsInBetween(LosesTheFirstAnswer):
    """The first call lands, then another client's update is applied and acknowledged,
    then the first call's answer is lost: the app retries it after that other update."""

    def __init__(self, transport: Transport, other: PostsRepository, post_id: int) -> None:
        super().__init__(transport)
        self._other, self._post_id = other, post_id

    async def execute(self, statement: Statement) -> Result:
        result = await self._transport.execute(statement)
        if self.lost == 0:
            # The other client reads the post, then updates it at the version it read.
            read = await self._other.get_post(self._post_id)
            assert read is not None
            acknowledged = await self._other.update_post(
                self._post_id,
                PostChanges(content="acknowledged"),
                request_key=unique_key(),
                if_version=frozenset({read.version}),
            )
            assert isinstance(acknowledged, Post)
        self._lose_the_first()
        return result


async def test_a_retried_update_whose_first_attempt_landed_succeeds_once(
    any_database: Transport,
) -> None:
    repository = retrying(any_database)
    [post] = await repository.create_posts([create(unique_key())])
    assert isinstance(post, Post)
    flaky = LosesTheFirstAnswer(any_database)

    updated = await retrying(flaky).update_post(
        post.id, PostChanges(content="mine"), request_key=unique_key(), if_version=frozenset({1})
    )

    assert flaky.lost == 1
    assert isinstance(updated, Post)
    assert (updated.version, updated.content) == (2, "mine")
    assert await stored_version(any_database, post.id) == (2, "mine")


@pytest.mark.parametrize("if_match", [False, True], ids=["blind", "if-match"])
async def test_a_retried_update_never_overwrites_a_newer_acknowledged_one(
    any_database: Transport, if_match: bool
) -> None:
    """The first attempt lands, its answer is lost, another client's update is acknowledged,
    then the app retries: the retry changes nothing. Blind, it answers the post as it now is;
    with If-Match, a 412 that does not invite overwriting the newer update."""
    repository = retrying(any_database)
    [post] = await repository.create_posts([create(unique_key())])
    assert isinstance(post, Post)
    flaky = AnotherUpdateLandsInBetween(any_database, repository, post.id)

    retried = await retrying(flaky).update_post(
        post.id,
        PostChanges(content="mine"),
        request_key=unique_key(),
        if_version=frozenset({1}) if if_match else None,
    )

    assert flaky.lost == 1
    assert await stored_version(any_database, post.id) == (3, "acknowledged")
    if if_match:
        assert isinstance(retried, PreconditionFailed)
        assert retried.version == 3
        assert "changed since" in str(retried)
        assert "reapply" not in str(retried)
    else:
        assert isinstance(retried, Post)
        assert (retried.version, retried.content) == (3, "acknowledged")


async def test_an_applied_update_key_is_forgotten_after_its_time(any_database: Transport) -> None:
    """Every update drops the records older than UPDATE_KEYS_KEPT_S, and only those."""
    repository = retrying(any_database)
    [post] = await repository.create_posts([create(unique_key())])
    assert isinstance(post, Post)
    old, recent = unique_key(), unique_key()
    for key, age_s in ((old, UPDATE_KEYS_KEPT_S + 5), (recent, UPDATE_KEYS_KEPT_S - 60)):
        await any_database.execute(
            (
                "INSERT INTO post_updates (request_key, post_id, version, applied_at) VALUES "
                "(?, ?, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))",
                (key, post.id, f"-{age_s} seconds"),
            )
        )

    newest = unique_key()
    await repository.update_post(post.id, PostChanges(content="x"), request_key=newest)

    kept = await any_database.execute(
        (
            "SELECT request_key FROM post_updates WHERE request_key IN (?, ?, ?)",
            (old, recent, newest),
        )
    )
    assert {row["request_key"] for row in kept.rows} == {recent, newest}


# The posts table as the first release created it, before versions.
FIRST_RELEASE_POSTS = """CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""


class AnotherProcessAltersFirst:
    """Lets another process's start add the columns just before this one's ALTER runs."""

    def __init__(self, transport: Transport, other: PostsRepository) -> None:
        self._transport, self._other = transport, other
        self.raced = False

    async def execute(self, statement: Statement) -> Result:
        return await self._transport.execute(statement)

    async def batch(self, statements: Sequence[Statement]) -> list[Result]:
        if statements[0][0].startswith("ALTER") and not self.raced:
            self.raced = True
            await self._other.create_schema()
        return await self._transport.batch(statements)


async def test_a_database_of_the_first_release_gets_versions_at_start(tmp_path: Path) -> None:
    """Two processes starting together on it: the second's ALTER fails, and that is fine."""
    url = f"file:{tmp_path / 'old.db'}"
    old, first, second = (Transport.open(url, None, round_trips=RoundTripCounter()) for _ in "abc")
    try:
        await old.batch(
            [
                (FIRST_RELEASE_POSTS, ()),
                (
                    "INSERT INTO posts (title, content, idempotency_key, request_fingerprint) "
                    "VALUES ('old', 'old', 'old', 'f')",
                    (),
                ),
            ]
        )
        racing = AnotherProcessAltersFirst(second, retrying(first))
        await retrying(racing).create_schema()  # type: ignore[arg-type]
        updated = await retrying(second).update_post(
            1, PostChanges(content="new"), request_key="k", if_version=frozenset({1})
        )
    finally:
        for transport in (old, first, second):
            await transport.close()

    assert racing.raced
    assert isinstance(updated, Post)
    assert (updated.title, updated.content, updated.version) == ("old", "new", 2)
