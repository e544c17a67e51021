"""PostsService on a real embedded database: batched creates under faults, and the read cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from reference_app.db.repository import PostsRepository
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Result, Statement, Transport
from reference_app.domain import CreatePost, Post, PostChanges, PostDraft
from reference_app.resilience.batcher import WriteBatcher
from reference_app.resilience.cache import ReadCache
from reference_app.resilience.errors import ConstraintViolation, TransientDbError
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy
from reference_app.service.posts import PostsService, flush_creates
from tests.reference_app.fakes import FakeClock, ManualTimer, RecordingSleep, settle


class LosesFirstBatchResponse(Transport):
    """The first batch commits on the server, then its response is lost on the way back."""

    lost = False

    async def batch(self, statements: Sequence[Statement]) -> list[Result]:
        results = await super().batch(statements)
        if not self.lost:
            self.lost = True
            raise TransientDbError("connection reset after the commit")
        return results


@dataclass
class Service:
    """A PostsService with batching (on a manual timer) and retries (on a fake clock)."""

    posts: PostsService
    transport: Transport
    timer: ManualTimer
    round_trips: RoundTripCounter

    async def create_together(self, creates: list[CreatePost]) -> list[Post | BaseException]:
        callers = [asyncio.create_task(self.posts.create(c)) for c in creates]
        await settle()
        self.timer.fire()
        return await asyncio.gather(*callers, return_exceptions=True)

    async def stored_keys(self) -> list[str]:
        result = await self.transport.execute(("SELECT idempotency_key FROM posts", ()))
        return sorted(row["idempotency_key"] for row in result.rows)


async def open_service(
    tmp_path: Path, transport_class: type[Transport] = Transport, *, cached: bool = False
) -> Service:
    round_trips = RoundTripCounter()
    url = f"file:{tmp_path / 'posts.db'}"
    transport = transport_class.open(url, None, round_trips=round_trips)
    repository = PostsRepository(
        transport, Pipeline(retry=RetryPolicy(sleep=RecordingSleep(FakeClock())))
    )
    await repository.create_schema()
    timer = ManualTimer()
    batcher = WriteBatcher(
        partial(flush_creates, repository), window_s=0.002, max_size=64, sleep=timer
    )
    cache = ReadCache[int, Post](max_entries=10, ttl_s=60) if cached else None
    return Service(
        PostsService(repository, batching=batcher, cache=cache), transport, timer, round_trips
    )


def create(key: str, title: str = "title") -> CreatePost:
    return CreatePost(PostDraft(title, f"content of {key}"), key)


async def test_a_batch_retried_after_a_lost_response_duplicates_nothing(tmp_path: Path) -> None:
    service = await open_service(tmp_path, LosesFirstBatchResponse)
    before = service.round_trips.total

    results = await service.create_together([create("a"), create("b"), create("c")])

    posts = [post for post in results if isinstance(post, Post)]
    assert len(posts) == 3, results
    assert [post.content for post in posts] == [f"content of {key}" for key in "abc"]
    assert len({post.id for post in posts}) == 3
    assert await service.stored_keys() == ["a", "b", "c"]
    assert service.round_trips.total - before == 2  # the lost batch and its retry


async def test_a_constraint_failure_fails_only_its_own_caller(tmp_path: Path) -> None:
    service = await open_service(tmp_path)
    too_long = "x" * 500  # past the CHECK constraint, as if validation had been skipped

    first, culprit, last = await service.create_together(
        [create("a"), create("b", too_long), create("c")]
    )

    assert isinstance(culprit, ConstraintViolation)
    assert isinstance(first, Post)
    assert first.content == "content of a"
    assert isinstance(last, Post)
    assert last.content == "content of c"
    assert await service.stored_keys() == ["a", "c"]


async def test_cached_reads_skip_the_database_until_an_update(tmp_path: Path) -> None:
    service = await open_service(tmp_path, cached=True)
    [post] = await service.create_together([create("a")])
    assert isinstance(post, Post)
    before = service.round_trips.total

    await service.posts.get(post.id, with_comments=False)
    await service.posts.get(post.id, with_comments=False)
    assert service.round_trips.total == before + 1

    await service.posts.update(post.id, PostChanges(title="renamed"))
    fresh = await service.posts.get(post.id, with_comments=False)
    assert fresh.title == "renamed"
