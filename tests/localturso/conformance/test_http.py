"""Hrana over HTTP, differentially: v1 execute/batch, v2/v3 pipelines, v3 cursor, probes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.auth import JwtAuth
from tests.localturso.conformance.compare import Answer, assert_same
from tests.localturso.conformance.conftest import Pair

pytestmark = pytest.mark.integration


def ex(sql: str, *args: dict[str, Any], **stmt: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sql": sql, **stmt}
    if args:
        body["args"] = list(args)
    return {"type": "execute", "stmt": body}


def integer(n: int) -> dict[str, str]:
    return {"type": "integer", "value": str(n)}


CLOSE = {"type": "close"}
VALUES = [
    {"type": "null"},
    integer(0),
    integer(-9223372036854775808),
    integer(9223372036854775807),
    {"type": "float", "value": 1.5},
    {"type": "float", "value": -0.0},
    {"type": "float", "value": 1e300},
    {"type": "text", "value": ""},
    {"type": "text", "value": "ünï€ 😀 \n\t\"'"},
    {"type": "blob", "base64": "AAEC/w"},
    {"type": "blob", "base64": ""},
]

PIPELINES: dict[str, list[dict[str, Any]]] = {
    "every value type as argument": [ex("SELECT ?, typeof(?1)", value) for value in VALUES],
    "literals": [ex("SELECT 1, 'a', 2.5, x'00ff', NULL, -9223372036854775808, 0.1, 1e-10, ''")],
    "want_rows false": [ex("SELECT 1", want_rows=False)],
    "positional and named": [
        ex("SELECT ?2, ?1", integer(1), integer(2)),
        {
            "type": "execute",
            "stmt": {
                "sql": "SELECT :a, @b, $c",
                "named_args": [
                    {"name": ":a", "value": integer(1)},
                    {"name": "@b", "value": {"type": "text", "value": "b"}},
                    {"name": "$c", "value": {"type": "null"}},
                ],
            },
        },
    ],
    "argument errors": [
        {
            "type": "execute",
            "stmt": {
                "sql": "SELECT ?",
                "args": [integer(1)],
                "named_args": [{"name": ":a", "value": {"type": "null"}}],
            },
        },
        ex("SELECT :a"),
        ex("SELECT ?, ?", integer(1)),
        ex("SELECT 1", integer(1)),
    ],
    "statement errors": [
        ex("SELEC 1"),
        ex("SELECT * FROM no_such_table"),
        ex(""),
        ex("  -- only a comment\n"),
        ex("SELECT 1; SELECT 2"),
        ex("SELECT 1;  -- trailing"),
        ex("SELECT abs(-9223372036854775808)"),
    ],
    "constraint error": [
        ex("CREATE TABLE {t} (a INTEGER PRIMARY KEY, b TEXT NOT NULL)"),
        ex("INSERT INTO {t} VALUES (1, 'x')"),
        ex("INSERT INTO {t} VALUES (1, 'y')"),
        ex("INSERT INTO {t} VALUES (2, NULL)"),
    ],
    "counts and rowids": [
        ex("CREATE TABLE {t} (a INTEGER PRIMARY KEY, b)"),
        ex("INSERT INTO {t} (b) VALUES (1), (2), (3)"),
        ex("INSERT OR IGNORE INTO {t} (a, b) VALUES (1, 'dup')"),
        ex("INSERT INTO {t} (b) VALUES (4) RETURNING a, b"),
        ex("REPLACE INTO {t} (a, b) VALUES (2, 'x')"),
        ex("insert into {t} (b) select b from {t}"),
        ex("WITH x AS (SELECT 9) INSERT INTO {t} (b) SELECT * FROM x"),
        ex("INSERT INTO {t} (a, b) VALUES (2, 'y') ON CONFLICT (a) DO UPDATE SET b = 'z'"),
        ex("UPDATE {t} SET b = 0 WHERE a > 5"),
        ex("UPDATE {t} SET b = 0 WHERE a > 100"),
        ex("DELETE FROM {t} WHERE a = 1"),
        ex("SELECT count(*) FROM {t}"),
        ex("DROP TABLE {t}"),
    ],
    "ignored insert on a fresh stream": [
        ex("CREATE TABLE {t} (a INTEGER PRIMARY KEY)"),
        ex("INSERT INTO {t} VALUES (7)"),
        CLOSE,
    ],
    "schema change on one connection": [
        ex("CREATE TABLE {t} (a)"),
        ex("INSERT INTO {t} VALUES (1)"),
        ex("SELECT * FROM {t}"),
        ex("ALTER TABLE {t} ADD COLUMN b TEXT"),
        ex("SELECT * FROM {t}"),
        ex("SELECT * FROM {t} WHERE 0"),
        ex("ALTER TABLE {t} RENAME COLUMN a TO c"),
        ex("SELECT * FROM {t}"),
    ],
    "transaction statements": [
        ex("BEGIN"),
        ex("BEGIN"),
        ex("ROLLBACK"),
        ex("COMMIT"),
        ex("BEGIN IMMEDIATE"),
        ex("CREATE TABLE {t} (a)"),
        ex("SAVEPOINT s"),
        ex("INSERT INTO {t} VALUES (1)"),
        ex("ROLLBACK TO s"),
        ex("RELEASE s"),
        ex("COMMIT"),
        ex("SELECT count(*) FROM {t}"),
    ],
}

V3_PIPELINES: dict[str, list[dict[str, Any]]] = {
    "describe": [
        {"type": "describe", "sql": "SELECT 1 AS one, ? AS two, :three"},
        {"type": "describe", "sql": "EXPLAIN SELECT 1"},
        {"type": "describe", "sql": "CREATE TABLE {t} (a)"},
        {"type": "describe", "sql": "SELEC"},
        {"type": "describe", "sql": "SELECT * FROM no_such_table"},
    ],
    "sequence": [
        {"type": "sequence", "sql": "CREATE TABLE {t} (a); INSERT INTO {t} VALUES (1);"},
        {"type": "sequence", "sql": "INSERT INTO {t} VALUES (2); SELEC 1; SELECT 1"},
        {"type": "sequence", "sql": "INSERT INTO {t} VALUES (3); SELECT * FROM nope"},
        {"type": "sequence", "sql": ""},
        ex("SELECT a FROM {t} ORDER BY a"),
    ],
    "stored sql": [
        {"type": "store_sql", "sql_id": 1, "sql": "SELECT 42"},
        ex_stored := {"type": "execute", "stmt": {"sql_id": 1}},
        {"type": "close_sql", "sql_id": 1},
        {"type": "store_sql", "sql_id": 1, "sql": "SELECT 43"},
        ex_stored,
    ],
    "autocommit": [
        {"type": "get_autocommit"},
        ex("BEGIN"),
        {"type": "get_autocommit"},
        ex("ROLLBACK"),
        {"type": "get_autocommit"},
    ],
    "batch with conditions": [
        {
            "type": "batch",
            "batch": {
                "steps": [
                    {"stmt": {"sql": "SELECT 1"}},
                    {"stmt": {"sql": "SELECT * FROM nope"}},
                    {"stmt": {"sql": "SELECT 2"}, "condition": {"type": "error", "step": 1}},
                    {
                        "stmt": {"sql": "SELECT 3"},
                        "condition": {"type": "not", "cond": {"type": "ok", "step": 1}},
                    },
                    {
                        "stmt": {"sql": "SELECT 4"},
                        "condition": {
                            "type": "and",
                            "conds": [{"type": "ok", "step": 0}, {"type": "is_autocommit"}],
                        },
                    },
                    {
                        "stmt": {"sql": "SELECT 5"},
                        "condition": {"type": "or", "conds": [{"type": "ok", "step": 1}]},
                    },
                ]
            },
        }
    ],
}

PROTOCOL_ERRORS: dict[str, tuple[str, bytes]] = {
    "not json": ("/v2/pipeline", b"not json"),
    "unknown request type": ("/v2/pipeline", b'{"requests":[{"type":"nope"}]}'),
    "bad integer": (
        "/v1/execute",
        b'{"stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"abc"}]}}',
    ),
    "forged baton": ("/v2/pipeline", b'{"baton":"bogus","requests":[]}'),
    "get_autocommit on v2": ("/v2/pipeline", b'{"requests":[{"type":"get_autocommit"}]}'),
    "unknown sql id": ("/v3/pipeline", b'{"requests":[{"type":"execute","stmt":{"sql_id":9}}]}'),
}


def fill(requests: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    return json.loads(json.dumps(requests).replace("{t}", table))


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline(pair: Pair, table: str, name: str, version: int) -> None:
    requests = [*fill(PIPELINES[name], f"{table}_v{version}"), CLOSE]
    pair.same("POST", f"/v{version}/pipeline", {"baton": None, "requests": requests})


@pytest.mark.parametrize("name", sorted(V3_PIPELINES))
def test_v3_pipeline(pair: Pair, table: str, name: str) -> None:
    requests = [*fill(V3_PIPELINES[name], table), CLOSE]
    pair.same("POST", "/v3/pipeline", {"baton": None, "requests": requests})


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_v1_execute_each_statement(pair: Pair, table: str, name: str) -> None:
    for request in fill(PIPELINES[name], f"{table}_v1"):
        if request["type"] == "execute":
            pair.same("POST", "/v1/execute", {"stmt": request["stmt"]})


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_v1_batch(pair: Pair, table: str, name: str) -> None:
    steps = [{"stmt": r["stmt"]} for r in fill(PIPELINES[name], table) if r["type"] == "execute"]
    pair.same("POST", "/v1/batch", {"batch": {"steps": steps}})


@pytest.mark.parametrize("name", ["counts and rowids", "every value type as argument"])
def test_v3_cursor(pair: Pair, table: str, name: str) -> None:
    steps = [{"stmt": r["stmt"]} for r in fill(PIPELINES[name], table) if r["type"] == "execute"]
    pair.same("POST", "/v3/cursor", {"baton": None, "batch": {"steps": steps}})


def test_v3_cursor_with_a_syntax_error(pair: Pair) -> None:
    steps = [{"stmt": {"sql": "SELECT 1"}}, {"stmt": {"sql": "SELEC"}}]
    pair.same("POST", "/v3/cursor", {"baton": None, "batch": {"steps": steps}})


@pytest.mark.parametrize("name", sorted(PROTOCOL_ERRORS))
def test_protocol_errors(pair: Pair, name: str) -> None:
    path, raw = PROTOCOL_ERRORS[name]
    pair.same("POST", path, raw=raw, headers={"content-type": "application/json"})


@pytest.mark.parametrize("path", ["/v1", "/v2", "/v3", "/health"])
def test_probes(pair: Pair, path: str) -> None:
    pair.same("GET", path)


def test_version_names_each_server(pair: Pair) -> None:
    sqld_answer, local_answer = pair.request("GET", "/version")
    assert (sqld_answer.status, local_answer.status) == (200, 200)
    assert str(sqld_answer.body).startswith("sqld ")
    assert str(local_answer.body).startswith("localturso ")


@pytest.mark.parametrize(
    "token", [None, "not-a-jwt", "other-key"], ids=["missing", "garbage", "other-key"]
)
@pytest.mark.parametrize("path", ["/v1/execute", "/v2/pipeline", "/v3/pipeline", "/v3/cursor"])
def test_auth_failures(pair: Pair, token: str | None, path: str) -> None:
    if token == "other-key":
        token = JwtAuth.generate().token
    pair.same("POST", path, {"requests": []}, token=token)


def test_expired_jwt(pair: Pair) -> None:
    pair.same("POST", "/v2/pipeline", {"requests": []}, token=pair.auth.sign({"exp": 1}))


def test_baton_continues_a_stream_and_is_single_use(pair: Pair, table: str) -> None:
    opened = [
        pair.http.post(
            f"{server.http_url}/v3/pipeline",
            json={"baton": None, "requests": [ex(f"CREATE TABLE {table} (a)"), ex("BEGIN")]},
            headers=pair.headers(),
        ).json()["baton"]
        for server in pair.both
    ]
    body = {"requests": [ex(f"INSERT INTO {table} VALUES (1)"), {"type": "get_autocommit"}]}
    for _attempt in ("continue", "reuse"):
        answers = [
            pair.http.post(
                f"{server.http_url}/v3/pipeline",
                json={**body, "baton": baton},
                headers=pair.headers(),
            )
            for server, baton in zip(pair.both, opened, strict=True)
        ]
        assert_same(Answer.of(answers[0]), Answer.of(answers[1]))
