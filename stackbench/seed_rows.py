"""The seed itself, through the reference app's hardened service: whichever checkout's
`reference_app` is imported (stackbench.seeding decides which) writes its schema and rows."""

from __future__ import annotations

import asyncio

from loadtests.ids import IdSpace
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.domain import CreatePost, PostDraft
from reference_app.metrics import AppMetrics
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.service.posts import PostsService
from reference_app.settings import AppMode, Settings
from reference_app.wiring import hardened_runtime

# Posts per round trip: small enough that a schema that makes each insert costly (a
# candidate's expression index, ~20 ms a post under load) stays well inside one attempt's
# timeout; 500 at once timed out, and the retry left the two sides' ids different.
SEED_BATCH = 100
COMMENTS_PER_POST = 3
# sqld answers some concurrent writers on separate connections with SQLITE_BUSY at once
# (not after a busy timeout): few writers at a time, and patient retries.
SEED_CONCURRENCY = 4
SEED_RETRY_ATTEMPTS = 10
SEED_RETRY_MAX_DELAY_MS = 1000
# Generous: seeding is not measured, and a loaded machine must not fail it.
SEED_CALL_DEADLINE_S = 30.0
SEED_ATTEMPT_TIMEOUT_MS = 10_000


async def seed_rows(posts: int, commented: int) -> IdSpace:
    """`posts` posts, then three comments on each of the first `commented`; their ids."""
    # The database URL and token come from TURSO_DATABASE_URL / TURSO_AUTH_TOKEN, as the app's.
    settings = Settings(
        mode=AppMode.HARDENED,
        db_attempt_timeout_ms=SEED_ATTEMPT_TIMEOUT_MS,
        retry_max_attempts=SEED_RETRY_ATTEMPTS,
        retry_max_delay_ms=SEED_RETRY_MAX_DELAY_MS,
        # A burst of SQLITE_BUSY must be retried through, not fail fast.
        breaker_enabled=False,
    )
    async with (
        hardened_runtime(settings, AppMetrics(), RoundTripCounter()) as open_posts,
        open_posts() as service,
    ):
        ids = await _seed_posts(service, posts)
        targets = sorted(ids)[:commented]
        slots = asyncio.Semaphore(SEED_CONCURRENCY)

        async def comment(post_id: int, n: int) -> None:
            async with slots:
                with deadline_scope(Deadline.after(SEED_CALL_DEADLINE_S)):
                    await service.add_comment(post_id, f"c{n}")

        await asyncio.gather(*(comment(p, n) for p in targets for n in range(COMMENTS_PER_POST)))
    return IdSpace(min(ids), max(ids), len(targets))


async def _seed_posts(service: PostsService, posts: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, posts, SEED_BATCH):
        creates = [
            CreatePost(PostDraft(f"seed-{i}", "s" * 200), f"seed-{i}")
            for i in range(start, min(start + SEED_BATCH, posts))
        ]
        with deadline_scope(Deadline.after(SEED_CALL_DEADLINE_S)):
            ids += [post.id for post in await service.create_many(creates)]
    return ids
