"""The repository over a real file database, with a transport that loses answers on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from reference_app.db.repository import PostsRepository
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Result, Statement, Transport
from reference_app.domain import CreatePost, Post, PostDraft
from reference_app.resilience.errors import TransientDbError
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy
from tests.reference_app.fakes import FakeClock, RecordingSleep


class LosesTheFirstAnswer:
    """The first batch is applied by the database, but its answer never arrives (a reset)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.lost = 0

    async def execute(self, statement: Statement) -> Result:
        return await self._transport.execute(statement)

    async def batch(self, statements: Sequence[Statement]) -> list[Result]:
        results = await self._transport.batch(statements)
        if self.lost == 0:
            self.lost += 1
            raise TransientDbError("connection reset after the write", maybe_applied=True)
        return results


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
