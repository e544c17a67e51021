"""Seeds a fresh stack's database before measuring, the same way whatever app mode is measured.

The seed goes through the reference app's own hardened path (its repository, retries on
transient faults, idempotent post batches) but in this process and straight to the database,
around every proxy: a naive app under test, which turns any database hiccup into a 500, can no
longer abort a run before it starts. `python -m stackbench.seeding POSTS COMMENTED` does the same
from a shell for TURSO_DATABASE_URL (compose.yaml's `seed` service) and prints the ids.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from harness.cli import OneLineParser, non_negative_int, positive_int
from harness.stack import Stack
from loadtests.ids import IdSpace
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.domain import CreatePost, PostDraft
from reference_app.metrics import AppMetrics
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.service.posts import PostsService
from reference_app.settings import AppMode, Settings
from reference_app.wiring import hardened_runtime

SEED_BATCH = 500  # the app's largest batch: one round trip per 500 posts
COMMENTS_PER_POST = 3
# sqld answers some concurrent writers on separate connections with SQLITE_BUSY at once
# (not after a busy timeout): few writers at a time, and patient retries.
SEED_CONCURRENCY = 4
SEED_RETRY_ATTEMPTS = 10
SEED_RETRY_MAX_DELAY_MS = 1000
# Generous: seeding is not measured, and a loaded machine must not fail it.
SEED_CALL_DEADLINE_S = 30.0
SEED_ATTEMPT_TIMEOUT_MS = 10_000
SEED_TIMEOUT_S = 300.0


class SeedError(RuntimeError):
    """Seeding failed; the message is one line fit to print as it is."""


def seed(live: Stack, posts: int, commented: int) -> IdSpace:
    """`posts` posts, then three comments on each of the first `commented`; their ids.

    Runs as a child process (`python -m stackbench.seeding`) so that it trusts the local server's
    certificate through SSL_CERT_FILE exactly as the app does; aiohttp reads it at import.
    """
    env = {**os.environ, "TURSO_DATABASE_URL": live.db_url}
    env.pop("TURSO_AUTH_TOKEN", None)
    if live.db_auth_token:
        env["TURSO_AUTH_TOKEN"] = live.db_auth_token
    if live.turso and live.turso.tls:
        env["SSL_CERT_FILE"] = str(live.turso.tls.cert)
    argv = [sys.executable, "-m", "stackbench.seeding", str(posts), str(commented)]
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=SEED_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise SeedError(f"seeding {live.database.server} took over {SEED_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise SeedError(f"seeding {live.database.server} failed: {detail}")
    return IdSpace(**json.loads(done.stdout))


def parse_args(argv: list[str]) -> tuple[int, int]:
    parser = OneLineParser(
        prog="python -m stackbench.seeding",
        description="Seed TURSO_DATABASE_URL (and TURSO_AUTH_TOKEN) and print the ids as JSON.",
    )
    parser.add_argument("posts", type=positive_int)
    parser.add_argument("commented", type=non_negative_int, help="posts with three comments")
    args = parser.parse_args(argv)
    if args.commented > args.posts:
        parser.error(f"{args.commented} commented posts out of {args.posts} posts")
    return args.posts, args.commented


def main(argv: list[str]) -> int:
    """`python -m stackbench.seeding POSTS COMMENTED`: seed TURSO_DATABASE_URL, print the ids."""
    posts, commented = parse_args(argv)
    try:
        ids = asyncio.run(_seed(posts, commented))
    except Exception as error:
        # The app's error tree carries the database's own message; one line of it.
        print(" ".join(str(error).split()) or type(error).__name__, file=sys.stderr)
        return 1
    print(json.dumps(vars(ids)))
    return 0


async def _seed(posts: int, commented: int) -> IdSpace:
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
