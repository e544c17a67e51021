"""Builds the runtime from Settings: what each mode and each feature switch turns into.

Hardened: one transport (one libsql-client client) for the process, every call under the
resilience pipeline, creates batched, reads cached. Naive: the guide's pattern, a new client
per request with nothing around it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from functools import partial

from reference_app.db.repository import PostsRepository
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Transport
from reference_app.domain import Post
from reference_app.metrics import AppMetrics
from reference_app.resilience.batcher import WriteBatcher
from reference_app.resilience.breaker import CircuitBreaker
from reference_app.resilience.cache import ReadCache
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy
from reference_app.service.broken import BrokenPostsService
from reference_app.service.posts import PostsService, flush_creates
from reference_app.settings import Settings

OpenPosts = Callable[[], AbstractAsyncContextManager[PostsService]]


def _ms(milliseconds: float) -> float:
    return milliseconds / 1000


def build_pipeline(settings: Settings, metrics: AppMetrics) -> Pipeline:
    """The hardened pipeline, with each policy present only if its switch is on."""
    retry = RetryPolicy(
        max_attempts=settings.retry_max_attempts,
        base_delay_s=_ms(settings.retry_base_delay_ms),
        max_delay_s=_ms(settings.retry_max_delay_ms),
        on_retry=metrics.observe_retry,
    )
    breaker = CircuitBreaker(
        failure_threshold=settings.breaker_failure_threshold,
        cooldown_s=_ms(settings.breaker_cooldown_ms),
        on_state_change=metrics.observe_breaker,
    )
    limiter = ConcurrencyLimiter(settings.db_max_concurrency, on_change=metrics.observe_slots)
    return Pipeline(
        retry=retry if settings.retry_enabled else None,
        breaker=breaker if settings.breaker_enabled else None,
        limiter=limiter if settings.limiter_enabled else None,
        attempt_timeout_s=(
            _ms(settings.db_attempt_timeout_ms) if settings.timeouts_enabled else None
        ),
        on_timeout=metrics.observe_attempt_timeout,
    )


def _hardened_service(
    repository: PostsRepository, settings: Settings, metrics: AppMetrics
) -> PostsService:
    batcher = WriteBatcher(
        partial(flush_creates, repository),
        window_s=_ms(settings.batch_window_ms),
        max_size=settings.batch_max_size,
        on_flush=metrics.observe_batch,
    )
    cache: ReadCache[int, Post] = ReadCache(
        max_entries=settings.cache_max_entries,
        ttl_s=_ms(settings.cache_ttl_ms),
        on_lookup=metrics.observe_cache,
    )
    policies = {
        "batching": batcher if settings.batch_enabled else None,
        "cache": cache if settings.cache_enabled else None,
    }
    lose, duplicate = (
        settings.test_only_lose_every_nth_write,
        settings.test_only_duplicate_every_nth_write,
    )
    if lose or duplicate:
        return BrokenPostsService(
            repository, lose_every=lose, duplicate_every=duplicate, **policies
        )
    return PostsService(repository, **policies)


@contextlib.asynccontextmanager
async def hardened_runtime(
    settings: Settings, metrics: AppMetrics, round_trips: RoundTripCounter
) -> AsyncIterator[OpenPosts]:
    """One client for the process: opened here, closed after queued writes are flushed."""
    transport = Transport.open(
        settings.effective_database_url, settings.auth_token, round_trips=round_trips
    )
    try:
        repository = PostsRepository(transport, build_pipeline(settings, metrics))
        # Under the pipeline like any call: a database that blips at start does not stop the app.
        with deadline_scope(Deadline.after(_ms(settings.startup_timeout_ms))):
            await repository.create_schema()
        service = _hardened_service(repository, settings, metrics)
        try:
            yield lambda: contextlib.nullcontext(service)
        finally:
            await service.close()
    finally:
        await transport.close()


def _guide_transport(settings: Settings, round_trips: RoundTripCounter) -> Transport:
    """A client as the guide makes one: its errors reach the routes unconverted."""
    return Transport.open(
        settings.effective_database_url,
        settings.auth_token,
        round_trips=round_trips,
        raw_errors=True,
    )


@contextlib.asynccontextmanager
async def _client_per_request(
    settings: Settings, round_trips: RoundTripCounter
) -> AsyncIterator[PostsService]:
    # The guide never closes its per-request client. We do, after the response, so the process
    # survives long runs; the per-request connection cost, which is the point, stays.
    transport = _guide_transport(settings, round_trips)
    try:
        # The guide's INSERT has no idempotency key: a client's retry stores a second row.
        repository = PostsRepository(transport, Pipeline())
        yield PostsService(repository, honour_idempotency_keys=False)
    finally:
        await transport.close()


@contextlib.asynccontextmanager
async def naive_runtime(
    settings: Settings, round_trips: RoundTripCounter
) -> AsyncIterator[OpenPosts]:
    """The guide's pattern: no deadline, retries, breaker, limiter, batching or cache."""
    transport = _guide_transport(settings, round_trips)
    try:
        await PostsRepository(transport, Pipeline()).create_schema()
    finally:
        await transport.close()
    yield partial(_client_per_request, settings, round_trips)
