"""The open-loop driver: requests keep coming whether or not earlier ones were answered."""

from __future__ import annotations

import asyncio

from microbench.driver import open_loop


async def test_a_fast_server_answers_every_request_at_the_offered_rate() -> None:
    async def answer(_sequence: int) -> None:
        await asyncio.sleep(0)

    summary = await open_loop(
        answer, rate_per_s=200.0, duration_s=0.5, max_in_flight=10, drain_s=1.0
    )

    assert (summary.requests, summary.errors) == (100, 0)
    assert 0 < summary.rps <= 200.0 * 1.01  # over the whole 0.5 s, however fast the answers


async def test_requests_due_while_the_bound_is_out_are_shed_and_counted() -> None:
    release = asyncio.Event()

    async def stuck(_sequence: int) -> None:
        await release.wait()

    summary = await open_loop(
        stuck, rate_per_s=200.0, duration_s=0.25, max_in_flight=5, drain_s=0.0
    )

    # 50 were due: 5 went out and were never answered, 45 were shed; none succeeded.
    assert (summary.requests, summary.errors, summary.rps) == (50, 50, 0.0)


async def test_latency_runs_from_the_due_time_so_a_queue_shows() -> None:
    one_at_a_time = asyncio.Lock()

    async def serial(_sequence: int) -> None:
        async with one_at_a_time:
            await asyncio.sleep(0.01)

    summary = await open_loop(
        serial, rate_per_s=200.0, duration_s=0.25, max_in_flight=100, drain_s=5.0
    )

    # 50 arrive in 0.25 s, 100 per second are served: the last waits about 0.25 s more.
    assert summary.errors == 0
    assert summary.max_ms > 200
    assert summary.rps < 110
