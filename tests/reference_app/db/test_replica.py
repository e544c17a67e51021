"""Reads from an embedded replica synced from the real sqld (skipped without SQLD_BIN)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import Sqld, sqld
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.domain import CreatePost, Post, PostDraft, PostNotFound
from reference_app.metrics import AppMetrics
from reference_app.service.posts import PostsService
from reference_app.settings import Settings
from reference_app.wiring import hardened_runtime

pytestmark = pytest.mark.integration


@pytest.fixture
def server(sqld_bin: Path, tmp_path: Path, log_dir: Path) -> Iterator[Sqld]:
    """The real sqld (the local server has no replication protocol); skipped without it."""
    with sqld(sqld_bin, tmp_path / "sqld", log_dir) as running:
        yield running


async def test_point_reads_come_from_the_replica_once_it_has_synced(
    server: Sqld, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=server.http_url,
        replica_path=str(tmp_path / "replica.db"),
        replica_sync_interval_ms=20,
        cache_enabled=False,
    )
    round_trips = RoundTripCounter()
    async with (
        hardened_runtime(settings, AppMetrics(), round_trips) as open_posts,
        open_posts() as posts,
    ):
        created = await posts.create(CreatePost(PostDraft("replicated", "local"), "replica-1"))
        sent = round_trips.total
        async with asyncio.timeout(10):  # a later sync brings it
            found = await read_once_synced(posts, created.id)

    assert found.content == "local"
    assert round_trips.total == sent  # no read went to the primary


async def read_once_synced(posts: PostsService, post_id: int) -> Post:
    while True:
        try:
            found = await posts.get(post_id, with_comments=False)
        except PostNotFound:
            await asyncio.sleep(0.01)  # the replica has not synced the write yet
            continue
        assert isinstance(found, Post)
        return found
