"""The pieces each optimisation touched, one at a time (BURST calls per round)."""

from __future__ import annotations

import uvloop

from microbench.micro.conftest import BURST
from reference_app.api.routes import _json
from reference_app.domain import Post
from reference_app.metrics import AppMetrics
from reference_app.resilience.breaker import CircuitBreaker
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy

POST = Post(7, "title 7", "c" * 200, "2026-11-27T00:00:00.000Z")


def _hardened_pipeline() -> Pipeline:
    return Pipeline(
        retry=RetryPolicy(),
        breaker=CircuitBreaker(failure_threshold=5, cooldown_s=1.0),
        limiter=ConcurrencyLimiter(32),
        attempt_timeout_s=0.5,
    )


def _run_bursts(benchmark, coroutine_factory) -> None:
    loop = uvloop.new_event_loop()
    try:
        benchmark(lambda: loop.run_until_complete(coroutine_factory()))
    finally:
        loop.close()


async def _answer() -> Post:
    return POST


def test_pipeline_call_that_succeeds(benchmark) -> None:
    """Retry (first attempt bare), breaker, limiter (free slot, no timer) and attempt timeout."""
    pipeline = _hardened_pipeline()

    async def burst() -> None:
        with deadline_scope(Deadline.after(2.0)):
            for _ in range(BURST):
                await pipeline.run(_answer, idempotent=True)

    _run_bursts(benchmark, burst)


def test_limiter_free_slot(benchmark) -> None:
    limiter = ConcurrencyLimiter(32)
    deadline = Deadline.after(60.0)

    async def burst() -> None:
        for _ in range(BURST):
            async with limiter.slot(deadline):
                pass

    _run_bursts(benchmark, burst)


def test_retry_policy_success(benchmark) -> None:
    policy = RetryPolicy()
    deadline = Deadline.after(60.0)

    async def burst() -> None:
        for _ in range(BURST):
            await policy.call(_answer, deadline, idempotent=True)

    _run_bursts(benchmark, burst)


def test_response_body(benchmark) -> None:
    benchmark(lambda: [_json(POST) for _ in range(BURST)])


def test_metrics_per_request(benchmark) -> None:
    """What the metrics middleware and the transport record for one request."""
    metrics = AppMetrics()

    def burst() -> None:
        for _ in range(BURST):
            metrics.observe_request("GET", "/posts/{post_id}", 200, 0.001)
            metrics.observe_db_call("execute", 0.0005, "ok")

    benchmark(burst)
