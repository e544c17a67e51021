"""Transactions across connections, stream expiry and limits, differentially."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from harness.stack import DatabaseServer
from tests.localturso.conformance.compare import normalize
from tests.localturso.conformance.conftest import Pair

pytestmark = pytest.mark.integration

# sqld's defaults, which the local server shares: a write transaction may sit idle this long
# before a waiting writer takes the lock, and an HTTP stream expires after this long idle.
TXN_TIMEOUT_S = 5.0
STREAM_EXPIRY_S = 10.0


def pipeline(
    server: DatabaseServer, token: str, requests: list[dict[str, Any]], baton: str | None = None
) -> dict[str, Any]:
    response = httpx.post(
        f"{server.http_url}/v3/pipeline",
        json={"baton": baton, "requests": requests},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def ex(sql: str) -> dict[str, Any]:
    return {"type": "execute", "stmt": {"sql": sql}}


def on_both(pair: Pair, scenario: Any) -> tuple[Any, Any]:
    """Run `scenario(server)` on both servers at once (their waits overlap)."""
    with ThreadPoolExecutor(2) as pool:
        real, local = pool.map(scenario, pair.both)
    return real, local


def test_an_idle_write_transaction_yields_to_a_waiting_writer(pair: Pair, table: str) -> None:
    def scenario(server: DatabaseServer) -> dict[str, Any]:
        token = pair.auth.token
        pipeline(server, token, [ex(f"CREATE TABLE {table} (v)"), {"type": "close"}])
        holder = pipeline(server, token, [ex("BEGIN"), ex(f"INSERT INTO {table} VALUES ('a')")])
        started = time.monotonic()
        waiter = pipeline(
            server, token, [ex(f"INSERT INTO {table} VALUES ('b')"), {"type": "close"}]
        )
        waited_s = time.monotonic() - started
        after = pipeline(
            server,
            token,
            [ex("SELECT 1"), ex(f"INSERT INTO {table} VALUES ('c')"), ex("COMMIT")],
            holder["baton"],
        )
        rows = pipeline(server, token, [ex(f"SELECT v FROM {table} ORDER BY v"), {"type": "close"}])
        return {
            "waited_long": waited_s >= TXN_TIMEOUT_S * 0.8,
            "waiter": normalize(waiter["results"]),
            "holder_after": normalize(after["results"]),
            "rows": normalize(rows["results"]),
        }

    real, local = on_both(pair, scenario)
    assert local == real
    assert real["waited_long"]
    assert real["holder_after"][0]["error"]["code"] == "TRANSACTION_TIMEOUT"


def test_concurrent_writers_all_succeed(pair: Pair, table: str) -> None:
    writers, inserts = 8, 15

    async def scenario(server: DatabaseServer) -> list[Any]:
        headers = {"Authorization": f"Bearer {pair.auth.token}"}
        async with httpx.AsyncClient(base_url=server.http_url, headers=headers, timeout=60) as c:
            await c.post("/v2/pipeline", json={"requests": [ex(f"CREATE TABLE {table} (w, n)")]})

            async def writer(w: int) -> list[str]:
                codes = []
                for n in range(inserts):
                    sql = f"INSERT INTO {table} VALUES ({w}, {n})"
                    body = {"requests": [ex("BEGIN"), ex(sql), ex("COMMIT"), {"type": "close"}]}
                    results = (await c.post("/v2/pipeline", json=body)).json()["results"]
                    codes += [r["type"] for r in results]
                return codes

            outcomes = await asyncio.gather(*(writer(w) for w in range(writers)))
            count = await c.post(
                "/v1/execute", json={"stmt": {"sql": f"SELECT count(*) FROM {table}"}}
            )
            return [outcomes, count.json()["result"]["rows"]]

    real, local = on_both(pair, lambda server: asyncio.run(scenario(server)))
    assert local == real
    assert real[1] == [[{"type": "integer", "value": str(writers * inserts)}]]


def test_an_idle_stream_expires(pair: Pair, table: str) -> None:
    def scenario(server: DatabaseServer) -> list[Any]:
        token = pair.auth.token
        opened = pipeline(server, token, [ex(f"CREATE TABLE {table} (v)"), ex("BEGIN")])
        # Nothing to ask while the stream idles: expiry is a duration by definition.
        time.sleep(STREAM_EXPIRY_S + 2.0)
        response = httpx.post(
            f"{server.http_url}/v3/pipeline",
            json={"baton": opened["baton"], "requests": [ex("SELECT 1")]},
            headers={"Authorization": f"Bearer {token}"},
        )
        fresh = pipeline(server, token, [ex(f"SELECT count(*) FROM {table}"), {"type": "close"}])
        return [response.status_code, response.text, normalize(fresh["results"])]

    real, local = on_both(pair, scenario)
    assert local == real, f"sqld: {real[:2]}, local: {local[:2]}"


def test_body_size_limit_is_a_known_difference(pair: Pair) -> None:
    """docs/guides/local-server.md, known differences: the local server refuses bodies over
    10 MiB (413); sqld reads an 11 MiB body and runs the statement (here failing it as too
    big)."""
    sql = "SELECT length('" + "x" * (11 * 1024 * 1024) + "')"
    real, local = pair.request("POST", "/v1/execute", {"stmt": {"sql": sql}})
    assert local.status == 413
    assert real.status != 413
    assert real.status == 200 or "too big" in str(real.body)
