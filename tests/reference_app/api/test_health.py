"""Liveness, readiness and the Prometheus metrics a run is judged by."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.reference_app.conftest import InProcessApp, StartApp, functional_settings


@pytest.fixture
async def app(tmp_path: Path, start_app: StartApp) -> InProcessApp:
    return await start_app(functional_settings(database_url=f"file:{tmp_path / 'h.db'}"))


async def test_healthz_and_readyz_answer_when_the_database_does(app: InProcessApp) -> None:
    assert (await app.client.get("/healthz")).json() == {"status": "ok"}
    assert (await app.client.get("/readyz")).json() == {"status": "ready"}


async def test_metrics_cover_requests_db_calls_batches_cache_and_breaker(
    app: InProcessApp,
) -> None:
    post = (await app.client.post("/posts", json={"title": "t", "content": "c"})).json()
    await app.client.get(f"/posts/{post['id']}")
    await app.client.get(f"/posts/{post['id']}")

    response = await app.client.get("/metrics")

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    route = (("method", "GET"), ("route", "/posts/{post_id}"), ("status", "200"))
    assert samples[("app_http_request_duration_seconds_count", route)] == 2
    assert samples[("app_db_write_batch_size_count", ())] == 1
    assert samples[("app_post_cache_lookups_total", (("result", "hit"),))] == 1
    assert samples[("app_post_cache_lookups_total", (("result", "miss"),))] == 1
    assert samples[("app_db_breaker_state", ())] == 0
    assert samples[("app_db_retries_total", ())] == 0
    assert samples[("app_db_attempt_timeouts_total", ())] == 0
    db_calls = [
        v for (name, _), v in samples.items() if name == "app_db_call_duration_seconds_count"
    ]
    assert sum(db_calls) == app.round_trips
