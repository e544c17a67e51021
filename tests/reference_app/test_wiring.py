"""Each feature switch turns exactly its own policy off, so a benchmark can isolate it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.stack import local_turso
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Transport
from reference_app.metrics import AppMetrics
from reference_app.resilience.breaker import BreakerState
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.settings import CacheBackend, Settings
from reference_app.wiring import build_pipeline, cache_backend
from tests.reference_app.conftest import StartApp, database_url

POLICIES = {
    "retry_enabled": "retry",
    "breaker_enabled": "breaker",
    "limiter_enabled": "limiter",
    "timeouts_enabled": "attempt_timeout_s",
}


@pytest.mark.parametrize("switch", POLICIES)
def test_a_switch_removes_only_its_policy(switch: str) -> None:
    pipeline = build_pipeline(Settings(**{switch: False}), AppMetrics())

    present = {name for name, attribute in POLICIES.items() if getattr(pipeline, attribute)}
    assert present == set(POLICIES) - {switch}


@pytest.mark.parametrize(("batch_enabled", "round_trips"), [(True, 1), (False, 16)])
async def test_batching_switch(
    batch_enabled: bool, round_trips: int, tmp_path: Path, start_app: StartApp
) -> None:
    # A window wide enough that all 16 requests surely arrive within it.
    settings = Settings(
        database_url=f"file:{tmp_path / 'w.db'}", batch_enabled=batch_enabled, batch_window_ms=200
    )
    app = await start_app(settings)
    before = app.round_trips

    await asyncio.gather(
        *(app.client.post("/posts", json={"title": f"t{i}", "content": "c"}) for i in range(16))
    )

    assert app.round_trips - before == round_trips


@pytest.mark.parametrize(("cache_enabled", "round_trips"), [(True, 1), (False, 3)])
async def test_cache_switch(
    cache_enabled: bool, round_trips: int, tmp_path: Path, start_app: StartApp
) -> None:
    app = await start_app(
        Settings(database_url=f"file:{tmp_path / 'c.db'}", cache_enabled=cache_enabled, workers=1)
    )
    post = (await app.client.post("/posts", json={"title": "t", "content": "c"})).json()
    before = app.round_trips

    for _ in range(3):
        await app.client.get(f"/posts/{post['id']}")

    assert app.round_trips - before == round_trips


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # A server's own --workers flag never reaches the app: unset is not "alone".
        ({}, None),
        ({"workers": 1}, CacheBackend.PROCESS),
        ({"redis_url": "redis://127.0.0.1:1/0"}, CacheBackend.REDIS),
        ({"workers": 2, "redis_url": "redis://127.0.0.1:1/0"}, CacheBackend.REDIS),
        ({"workers": 2}, None),
        ({"cache_backend": "process"}, CacheBackend.PROCESS),
        ({"workers": 2, "cache_backend": "process"}, CacheBackend.PROCESS),
        ({"cache_enabled": False, "redis_url": "redis://127.0.0.1:1/0"}, None),
    ],
)
def test_the_cache_is_one_that_stays_correct_for_the_worker_count(
    settings: dict[str, object], expected: CacheBackend | None
) -> None:
    assert cache_backend(Settings(**settings)) is expected


def test_several_workers_without_a_shared_cache_say_why_the_cache_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache_backend(Settings(workers=3))

    assert "read cache off: 3 workers and no shared cache (APP_REDIS_URL)" in caplog.text


def test_an_app_not_told_it_runs_alone_says_why_the_cache_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache_backend(Settings())

    assert "read cache off: no shared cache (APP_REDIS_URL), and no APP_WORKERS=1" in caplog.text


def test_a_redis_backend_without_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="APP_REDIS_URL"):
        Settings(cache_backend="redis")


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["http", "ws"])
async def test_new_database_connections_are_counted_per_mode(
    backend: str, tmp_path: Path, start_app: StartApp, request: pytest.FixtureRequest
) -> None:
    """The naive app opens a connection per request; the hardened one reuses its client's."""
    url = database_url(backend, tmp_path, request)
    hardened = await start_app(Settings(database_url=url, cache_enabled=False))
    naive = await start_app(Settings(database_url=url, mode="naive"))
    post = (await hardened.client.post("/posts", json={"title": "t", "content": "c"})).json()
    before = [app.app.state.round_trips.connects for app in (hardened, naive)]

    for app in (hardened, naive):
        for _ in range(5):
            assert (await app.client.get(f"/posts/{post['id']}")).status_code == 200

    hardened_new, naive_new = (
        app.app.state.round_trips.connects - b
        for app, b in zip((hardened, naive), before, strict=True)
    )
    assert hardened_new <= 1
    assert naive_new == 5
    exported = (await naive.client.get("/metrics")).text
    assert "app_db_connections_opened_total" in exported


SILENT_AFTER_S = 1.0


@pytest.mark.integration
async def test_calls_caught_together_on_a_silent_websocket_are_one_fault_for_the_breaker(
    log_dir: Path, tmp_path: Path
) -> None:
    """Six calls in flight when the socket goes half-open all time out at once: the first
    retires the socket, the other five are that same fault, and all six retry on a fresh one
    (counted six times, they had opened the circuit and failed every request for a cool-down).
    """
    settings = Settings(db_attempt_timeout_ms=300, breaker_failure_threshold=3)
    args = ["--ws-silent-after-s", str(SILENT_AFTER_S)]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        pipeline = build_pipeline(settings, AppMetrics(), transport)
        try:
            await transport.execute(("SELECT 1", ()))
            await asyncio.sleep(SILENT_AFTER_S)  # the socket is silent from here on
            with deadline_scope(Deadline.after(3.0)):
                results = await asyncio.gather(
                    *(
                        pipeline.run(
                            lambda i=i: transport.execute((f"SELECT {i} AS n", ())), idempotent=True
                        )
                        for i in range(6)
                    )
                )
        finally:
            await transport.close()

    assert [r.rows for r in results] == [[{"n": i}] for i in range(6)]
    assert pipeline.breaker is not None
    assert pipeline.breaker.state is BreakerState.CLOSED


@pytest.mark.integration
async def test_a_server_that_drops_the_socket_at_its_admission_limit_is_met_below_it(
    log_dir: Path, tmp_path: Path
) -> None:
    """The server admits 2 requests at once and drops the whole WebSocket when a stream would
    pass that (as sqld): 8 callers at once, with the default 32 slots, took every socket down
    with all calls on it. The first drops halve the slots until one call per socket is left
    in flight; every call then succeeds (those lost with a socket retried), the breaker stays
    closed, and few sockets are lost.
    """
    args = ["--max-concurrent-requests", "2"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        counter = RoundTripCounter()
        transport = Transport.open(server.ws_url, None, round_trips=counter)
        pipeline = build_pipeline(Settings(), AppMetrics(), transport)

        async def caller(first: int) -> list[int]:
            seen = []
            for n in range(first, first + 10):
                with deadline_scope(Deadline.after(5.0)):
                    result = await pipeline.run(
                        lambda n=n: transport.execute(("SELECT ? AS n", (n,))), idempotent=True
                    )
                seen.append(result.rows[0]["n"])
            return seen

        try:
            seen = await asyncio.gather(*(caller(10 * i) for i in range(8)))
        finally:
            await transport.close()

    assert sorted(n for ns in seen for n in ns) == list(range(80))
    assert pipeline.breaker is not None
    assert pipeline.breaker.state is BreakerState.CLOSED
    assert pipeline.limiter is not None
    # Lowered and kept low: the slots grow back by one per 250 ms of queueing and are halved
    # by the next drop, so where they end moves with the machine's speed (4 of them once, on
    # a loaded one); the sockets lost say whether the app stayed below the server's limit.
    assert pipeline.limiter.limit < Settings().db_max_concurrency // 4
    assert counter.connects <= 10


@pytest.mark.integration
async def test_a_fresh_socket_that_times_out_too_counts_the_timeouts_set_aside(
    log_dir: Path, tmp_path: Path
) -> None:
    """Every socket silent (a blackhole): the timeouts set aside on the first socket count
    once its replacement has timed out as well, so the breaker opens within one deadline
    (counting one per socket, it needed five dead sockets, one per attempt timeout)."""
    settings = Settings(db_attempt_timeout_ms=300, breaker_failure_threshold=5)
    args = ["--ws-silent-after-s", "0.001"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        pipeline = build_pipeline(settings, AppMetrics(), transport)
        try:
            with deadline_scope(Deadline.after(1.0)):
                outcomes = await asyncio.gather(
                    *(
                        pipeline.run(
                            lambda i=i: transport.execute((f"SELECT {i}", ())), idempotent=True
                        )
                        for i in range(6)
                    ),
                    return_exceptions=True,
                )
        finally:
            await transport.close()

    assert all(isinstance(outcome, Exception) for outcome in outcomes)
    assert pipeline.breaker is not None
    assert pipeline.breaker.state is BreakerState.OPEN
