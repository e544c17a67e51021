"""Raw Hrana-over-HTTP v2/v3: batons across requests, reuse, expiry, cursor, stream requests."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest

from harness.stack import LocalTurso

pytestmark = pytest.mark.integration


def execute(sql: str, *args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "execute", "stmt": {"sql": sql, "args": list(args)}}


def pipeline(
    server: LocalTurso, requests: list[dict[str, Any]], baton: str | None = None, version: int = 3
) -> httpx.Response:
    body = {"baton": baton, "requests": requests}
    return httpx.post(f"{server.http_url}/v{version}/pipeline", json=body, timeout=10)


def ok_results(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(r["type"] == "ok" for r in results), results
    return [r["response"] for r in results]


def count(server: LocalTurso, table: str) -> int:
    response = pipeline(server, [execute(f"SELECT count(*) FROM {table}"), {"type": "close"}])
    return int(ok_results(response)[0]["result"]["rows"][0][0]["value"])


@pytest.mark.parametrize("version", [2, 3])
def test_transaction_spans_requests_via_baton(server: LocalTurso, table: str, version: int) -> None:
    ok_results(pipeline(server, [execute(f"CREATE TABLE {table} (v INTEGER)"), {"type": "close"}]))
    first = pipeline(
        server, [execute("BEGIN"), execute(f"INSERT INTO {table} VALUES (1)")], None, version
    )
    ok_results(first)
    baton = first.json()["baton"]
    assert baton
    assert count(server, table) == 0  # not committed yet, and readers are not blocked
    second = pipeline(server, [execute("COMMIT"), {"type": "close"}], baton, version)
    ok_results(second)
    assert second.json()["baton"] is None
    assert count(server, table) == 1


def test_each_baton_is_usable_once(server: LocalTurso) -> None:
    first = pipeline(server, [execute("SELECT 1")])
    baton = first.json()["baton"]
    second = pipeline(server, [execute("SELECT 2")], baton)
    ok_results(second)
    reused = pipeline(server, [execute("SELECT 3")], baton)
    assert reused.status_code == 400
    assert reused.text == "Received a baton that has already been used"
    pipeline(server, [{"type": "close"}], second.json()["baton"])


@pytest.mark.parametrize("baton", ["not-a-baton", "A" * 64, ""])
def test_unknown_or_forged_batons_are_refused(server: LocalTurso, baton: str) -> None:
    response = pipeline(server, [execute("SELECT 1")], baton)
    assert response.status_code == 400
    assert response.text == "Received an invalid baton"


def test_closed_stream_baton_is_unknown(server: LocalTurso) -> None:
    first = pipeline(server, [execute("SELECT 1")])
    baton = first.json()["baton"]
    assert pipeline(server, [{"type": "close"}], baton).json()["baton"] is None
    assert pipeline(server, [execute("SELECT 1")], baton).text == "Received an invalid baton"


def test_idle_stream_expires_and_rolls_back(expiring_server: LocalTurso, table: str) -> None:
    server = expiring_server
    ok_results(pipeline(server, [execute(f"CREATE TABLE {table} (v INTEGER)"), {"type": "close"}]))
    first = pipeline(server, [execute("BEGIN"), execute(f"INSERT INTO {table} VALUES (1)")])
    baton = first.json()["baton"]
    # The server runs with a 0.5 s expiry: poll with fresh streams until the idle one is gone.
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        probe = pipeline(server, [execute(f"INSERT INTO {table} VALUES (2)"), {"type": "close"}])
        if probe.json()["results"][0]["type"] == "ok":
            break  # the writer lock was released: the stream expired and rolled back
    expired = pipeline(server, [execute("COMMIT")], baton)
    assert expired.status_code == 400
    assert expired.json() == {
        "message": "The stream has expired due to inactivity",
        "code": "STREAM_EXPIRED",
    }
    assert count(server, table) == 1


def test_statement_errors_are_per_request(server: LocalTurso) -> None:
    response = pipeline(server, [execute("SELEC 1"), execute("SELECT 1"), {"type": "close"}])
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0] == {
        "type": "error",
        "error": {
            "message": 'SQL string could not be parsed: near "SELEC": syntax error',
            "code": "SQL_PARSE_ERROR",
        },
    }
    assert results[1]["type"] == "ok"


def test_stream_requests(server: LocalTurso, table: str) -> None:
    batch = {
        "steps": [
            {"stmt": {"sql": f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)"}},
            {
                "stmt": {"sql_id": 7, "args": [{"type": "text", "value": "x"}]},
                "condition": {"type": "ok", "step": 0},
            },
            {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "is_autocommit"}},
        ]
    }
    responses = ok_results(
        pipeline(
            server,
            [
                {"type": "store_sql", "sql_id": 7, "sql": f"INSERT INTO {table} (v) VALUES (?)"},
                {"type": "batch", "batch": batch},
                {"type": "sequence", "sql": f"INSERT INTO {table} (v) VALUES ('y'); SELECT 1;"},
                {"type": "describe", "sql": f"SELECT id, v FROM {table} WHERE id = :id"},
                {"type": "close_sql", "sql_id": 7},
                {"type": "get_autocommit"},
                {"type": "close"},
            ],
        )
    )
    batch_result = responses[1]["result"]
    assert batch_result["step_errors"] == [None, None, None]
    assert batch_result["step_results"][1]["last_insert_rowid"] == "1"
    assert responses[3]["result"]["params"] == [{"name": ":id"}]
    assert responses[3]["result"]["cols"][1] == {"name": "v", "decltype": "TEXT"}
    assert responses[5] == {"type": "get_autocommit", "is_autocommit": True}
    assert count(server, table) == 2


def test_get_autocommit_needs_v3(server: LocalTurso) -> None:
    response = pipeline(server, [{"type": "get_autocommit"}], version=2)
    assert response.status_code == 400
    assert response.text == (
        "The `get_autocommit` request is only supported in protocol version hrana3 and higher"
    )


def test_cursor_streams_batch_entries(server: LocalTurso, table: str) -> None:
    batch = {
        "steps": [
            {"stmt": {"sql": f"CREATE TABLE {table} (v INTEGER)"}},
            {"stmt": {"sql": f"INSERT INTO {table} VALUES (1), (2)"}},
            {"stmt": {"sql": f"SELECT v FROM {table} ORDER BY v"}},
            {"stmt": {"sql": f"INSERT INTO {table} VALUES ('x', 'y')"}},
            {"stmt": {"sql": "SELECT 0"}, "condition": {"type": "ok", "step": 3}},
        ]
    }
    response = httpx.post(f"{server.http_url}/v3/cursor", json={"baton": None, "batch": batch})
    assert response.status_code == 200
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    head, entries = lines[0], lines[1:]
    assert head["baton"]
    kinds = [entry["type"] for entry in entries]
    assert kinds == [
        "step_begin",
        "step_end",
        "step_begin",
        "step_end",
        "step_begin",
        "row",
        "row",
        "step_end",
        "step_error",
        "replication_index",
    ]
    assert entries[5]["row"] == [{"type": "integer", "value": "1"}]
    assert entries[8]["step"] == 3
    # The cursor's baton continues the stream like a pipeline baton does.
    follow = pipeline(
        server, [execute(f"SELECT count(*) FROM {table}"), {"type": "close"}], head["baton"]
    )
    assert ok_results(follow)[0]["result"]["rows"] == [[{"type": "integer", "value": "2"}]]


def test_version_probes(server: LocalTurso) -> None:
    for path in ("/v1", "/v2", "/v3", "/version", "/health"):
        assert httpx.get(f"{server.http_url}{path}").status_code == 200
