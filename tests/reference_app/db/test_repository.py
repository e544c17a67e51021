"""The repository over a real file database, with a transport that loses answers on purpose."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from harness.stack import LocalTurso, Sqld, sqld
from reference_app.db.repository import PostsRepository
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Result, Statement, Transport
from reference_app.domain import CreatePost, IdempotencyConflict, Post, PostDraft
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
