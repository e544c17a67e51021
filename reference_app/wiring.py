"""Builds the runtime from Settings: what each mode and each feature switch turns into.

Hardened: one transport (one libsql-client client) for the process, every call under the
resilience pipeline, creates batched, reads cached. Naive: the guide's pattern, a new client
per request with nothing around it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from functools import partial

import orjson

from reference_app.db.replica import EmbeddedReplica
from reference_app.db.repository import PostsRepository
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.token import TokenFile
from reference_app.db.transport import Transport
from reference_app.domain import Post
from reference_app.metrics import AppMetrics
from reference_app.resilience import shared_cache
from reference_app.resilience.batcher import WriteBatcher
from reference_app.resilience.breaker import CircuitBreaker
from reference_app.resilience.cache import PostCache, ReadCache
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy
from reference_app.service.posts import PostsService, flush_creates
from reference_app.settings import CacheBackend, Settings

logger = logging.getLogger(__name__)

OpenPosts = Callable[[], AbstractAsyncContextManager[PostsService]]


def _ms(milliseconds: float) -> float:
    return milliseconds / 1000


def token_file(settings: Settings) -> TokenFile | None:
    return TokenFile(settings.auth_token_file) if settings.auth_token_file else None


def auth_token(settings: Settings, tokens: TokenFile | None) -> str | None:
    """The token to start with: the file's (TURSO_AUTH_TOKEN_FILE) if set, else TURSO_AUTH_TOKEN."""
    if tokens is None:
        return settings.auth_token
    try:
        return tokens.read()
    except OSError as error:
        raise RuntimeError(f"TURSO_AUTH_TOKEN_FILE: cannot read {tokens.path}: {error}") from None


def build_pipeline(
    settings: Settings, metrics: AppMetrics, transport: Transport | None = None
) -> Pipeline:
    """The hardened pipeline, with each policy present only if its switch is on.

    An attempt that times out retires `transport`'s WebSocket connection, so that the retry
    goes out on a fresh one rather than on a socket that may be half-open.
    """
    attempt_timeout_s = _ms(settings.db_attempt_timeout_ms)

    def on_timeout() -> int:
        metrics.observe_attempt_timeout()
        if transport is None:
            return 1
        return transport.retire_unanswered_connection(grace_s=attempt_timeout_s)

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
    limiter = ConcurrencyLimiter(
        settings.db_max_concurrency,
        on_change=metrics.observe_slots,
        on_limit=metrics.observe_slots_limit,
    )
    if settings.limiter_enabled:  # no limiter, no bound: the gauge stays 0
        metrics.observe_slots_limit(settings.db_max_concurrency)
    return Pipeline(
        retry=retry if settings.retry_enabled else None,
        breaker=breaker if settings.breaker_enabled else None,
        limiter=limiter if settings.limiter_enabled else None,
        attempt_timeout_s=attempt_timeout_s if settings.timeouts_enabled else None,
        on_timeout=on_timeout,
    )


def cache_backend(settings: Settings) -> CacheBackend | None:
    """The cache that stays correct however many processes serve the app; None: no cache."""
    if not settings.cache_enabled:
        return None
    backend = settings.cache_backend
    if backend is CacheBackend.AUTO:
        return _auto_backend(settings)
    if backend is CacheBackend.PROCESS and (settings.workers or 1) > 1:
        logger.warning(
            "per-process read cache with %d workers (APP_CACHE_BACKEND=process):"
            " reads after a write on another worker may be stale",
            settings.workers,
        )
    return backend


def _auto_backend(settings: Settings) -> CacheBackend | None:
    """Redis if there is one; per process only when told the app runs alone (APP_WORKERS=1),
    since the app cannot see a server's `--workers` flag, nor other replicas; else none,
    and why is logged."""
    if settings.redis_url:
        return CacheBackend.REDIS
    if settings.workers == 1:
        return CacheBackend.PROCESS
    why = (
        f"{settings.workers} workers and no shared cache (APP_REDIS_URL)"
        if settings.workers
        else "no shared cache (APP_REDIS_URL), and no APP_WORKERS=1 saying this process"
        " serves alone"
    )
    logger.warning(
        "read cache off: %s; a per-process cache would serve one worker's stale rows"
        " after another worker's write",
        why,
    )
    return None


def _encode_post(post: Post) -> bytes:
    return orjson.dumps(asdict(post))


def _decode_post(payload: bytes) -> Post:
    return Post(**orjson.loads(payload))


def build_cache(settings: Settings, metrics: AppMetrics) -> PostCache[Post] | None:
    backend = cache_backend(settings)
    if backend is CacheBackend.REDIS:
        assert settings.redis_url is not None  # checked by Settings
        timeout_s = _ms(settings.redis_timeout_ms)
        return shared_cache.SharedReadCache(
            shared_cache.connect(settings.redis_url, timeout_s),
            ttl_s=_ms(settings.cache_ttl_ms),
            timeout_s=timeout_s,
            encode=_encode_post,
            decode=_decode_post,
            on_lookup=metrics.observe_cache,
            on_fault=metrics.observe_cache_fault,
        )
    if backend is CacheBackend.PROCESS:
        return ReadCache(
            max_entries=settings.cache_max_entries,
            ttl_s=_ms(settings.cache_ttl_ms),
            on_lookup=metrics.observe_cache,
        )
    return None


def _hardened_service(
    repository: PostsRepository, settings: Settings, metrics: AppMetrics
) -> PostsService:
    batcher = WriteBatcher(
        partial(flush_creates, repository),
        window_s=_ms(settings.batch_window_ms),
        max_size=settings.batch_max_size,
        on_flush=metrics.observe_batch,
    )
    policies = {
        "batching": batcher if settings.batch_enabled else None,
        "cache": build_cache(settings, metrics),
    }
    return PostsService(repository, **policies)


@contextlib.asynccontextmanager
async def hardened_runtime(
    settings: Settings, metrics: AppMetrics, round_trips: RoundTripCounter
) -> AsyncIterator[OpenPosts]:
    """One client for the process: opened here, closed after queued writes are flushed."""
    tokens = token_file(settings)
    transport = Transport.open(
        settings.effective_database_url,
        auth_token(settings, tokens),
        round_trips=round_trips,
        token_file=tokens,
    )
    async with contextlib.AsyncExitStack() as resources:
        resources.push_async_callback(transport.close)
        pipeline = build_pipeline(settings, metrics, transport)
        # Under the pipeline like any call: a database that blips at start does not stop the app.
        with deadline_scope(Deadline.after(_ms(settings.startup_timeout_ms))):
            await PostsRepository(transport, pipeline).create_schema()
        replica = None
        if settings.replica_path:  # opened after the schema exists, so its first sync has it
            replica = await _open_replica(settings, metrics)
            resources.push_async_callback(replica.close)
        service = _hardened_service(
            PostsRepository(transport, pipeline, replica), settings, metrics
        )
        resources.push_async_callback(service.close)
        yield lambda: contextlib.nullcontext(service)


async def _open_replica(settings: Settings, metrics: AppMetrics) -> EmbeddedReplica:
    assert settings.replica_path is not None
    replica = EmbeddedReplica(
        settings.replica_path,
        settings.effective_database_url,
        auth_token(settings, token_file(settings)),
        sync_interval_s=_ms(settings.replica_sync_interval_ms),
        on_sync=metrics.observe_replica_sync,
    )
    await replica.open()
    return replica


def _guide_transport(
    settings: Settings, token: str | None, round_trips: RoundTripCounter
) -> Transport:
    """A client as the guide makes one: its errors reach the routes unconverted."""
    return Transport.open(
        settings.effective_database_url,
        token,
        round_trips=round_trips,
        raw_errors=True,
    )


@contextlib.asynccontextmanager
async def _client_per_request(
    settings: Settings, token: str | None, round_trips: RoundTripCounter
) -> AsyncIterator[PostsService]:
    # The guide never closes its per-request client. We do, after the response, so the process
    # survives long runs; the per-request connection cost, which is the point, stays.
    transport = _guide_transport(settings, token, round_trips)
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
    """The guide's pattern: no deadline, retries, breaker, limiter, batching or cache.

    The token is read once, at start, as the guide reads its environment.
    """
    token = auth_token(settings, token_file(settings))
    transport = _guide_transport(settings, token, round_trips)
    try:
        await PostsRepository(transport, Pipeline()).create_schema()
    finally:
        await transport.close()
    yield partial(_client_per_request, settings, token, round_trips)
