"""Value, statement and batch decoding/encoding, and the engine's sqld error codes (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localturso.engine import SqlConnection, split_statements
from localturso.errors import ProtocolError, StmtError
from localturso.protocol import (
    HRANA1,
    HRANA2,
    HRANA3,
    Stmt,
    decode_batch,
    decode_stmt,
    decode_value,
    encode_value,
)


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        -1,
        2**63 - 1,
        -(2**63),
        1.5,
        -0.0,
        1e308,
        "",
        "héllo ✓ 𝄞",
        b"",
        b"\x00\xff\x10",
        bytes(range(256)),
    ],
)
def test_values_round_trip(value: object) -> None:
    decoded = decode_value(encode_value(value))  # type: ignore[arg-type]
    assert decoded == value
    assert type(decoded) is type(value)


def test_integers_are_decimal_strings() -> None:
    assert encode_value(2**63 - 1) == {"type": "integer", "value": "9223372036854775807"}


@pytest.mark.parametrize("encoded", ["AP8", "AP8=", "AP8=="])
def test_blobs_accept_padded_and_unpadded_base64(encoded: str) -> None:
    assert decode_value({"type": "blob", "base64": encoded}) == b"\x00\xff"


def test_blobs_are_sent_unpadded_like_sqld() -> None:
    assert encode_value(b"\x00\xff") == {"type": "blob", "base64": "AP8"}


@pytest.mark.parametrize(
    "value",
    [
        {"type": "integer", "value": "12a"},
        {"type": "integer", "value": str(2**63)},
        {"type": "integer", "value": 1.5},
        {"type": "integer", "value": True},
        {"type": "float", "value": "1.5"},
        {"type": "text", "value": 3},
        {"type": "blob", "base64": "!!!"},
        {"type": "blob"},
        {"type": "bogus"},
        {"value": "1"},
        "1",
        None,
    ],
)
def test_malformed_values_are_protocol_errors(value: object) -> None:
    with pytest.raises(ProtocolError):
        decode_value(value)


def test_stmt_named_args_drop_the_marker() -> None:
    stmt = decode_stmt(
        {"sql": "SELECT :a, @b", "named_args": [{"name": ":a", "value": {"type": "null"}}]},
        {},
        HRANA2,
    )
    assert stmt == Stmt("SELECT :a, @b", {"a": None}, True)


def test_stmt_with_both_kinds_of_args_is_a_statement_error() -> None:
    with pytest.raises(StmtError) as caught:
        decode_stmt(
            {
                "sql": "SELECT ?",
                "args": [{"type": "null"}],
                "named_args": [{"name": "a", "value": {"type": "null"}}],
            },
            {},
            HRANA2,
        )
    assert caught.value.code == "ARGS_BOTH_POSITIONAL_AND_NAMED"
    assert caught.value.http_status == 501


def test_sql_id_needs_hrana2_and_a_stored_text() -> None:
    with pytest.raises(ProtocolError, match="hrana2"):
        decode_stmt({"sql_id": 1}, {1: "SELECT 1"}, HRANA1)
    with pytest.raises(ProtocolError, match="not found"):
        decode_stmt({"sql_id": 2}, {1: "SELECT 1"}, HRANA2)
    assert decode_stmt({"sql_id": 1}, {1: "SELECT 1"}, HRANA2).sql == "SELECT 1"
    with pytest.raises(ProtocolError):
        decode_stmt({"sql": "SELECT 1", "sql_id": 1}, {1: "SELECT 1"}, HRANA2)


def test_batch_conditions_may_only_look_back() -> None:
    steps = [{"stmt": {"sql": "SELECT 1"}}, {"stmt": {"sql": "SELECT 2"}}]
    steps[1]["condition"] = {"type": "ok", "step": 1}
    with pytest.raises(ProtocolError, match="Invalid reference"):
        decode_batch({"steps": steps}, {}, HRANA3)


def test_is_autocommit_condition_needs_hrana3() -> None:
    batch = {"steps": [{"stmt": {"sql": "SELECT 1"}, "condition": {"type": "is_autocommit"}}]}
    with pytest.raises(ProtocolError, match="hrana3"):
        decode_batch(batch, {}, HRANA2)
    assert decode_batch(batch, {}, HRANA3)[0].cond == ("is_autocommit",)


@pytest.fixture
def connection(tmp_path: Path) -> SqlConnection:
    conn = SqlConnection(str(tmp_path / "unit.db"), busy_timeout_ms=100)
    conn.execute(Stmt("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", None))
    return conn


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELEC 1", "SQL_PARSE_ERROR"),
        ("SELECT 1; SELECT 2", "SQL_MANY_STATEMENTS"),
        ("  -- only a comment", "SQL_NO_STATEMENT"),
        ("", "SQL_NO_STATEMENT"),
        ("SELECT * FROM missing_table", "SQLITE_UNKNOWN"),
        ("SELECT ?", "ARGS_INVALID"),
        ("INSERT INTO t (id) VALUES (NULL), (1), (1)", "SQLITE_CONSTRAINT"),
    ],
)
def test_statement_errors_carry_sqld_codes(connection: SqlConnection, sql: str, code: str) -> None:
    with pytest.raises(StmtError) as caught:
        connection.execute(Stmt(sql, None))
    assert caught.value.code == code


def test_many_statements_run_nothing(connection: SqlConnection) -> None:
    with pytest.raises(StmtError):
        connection.execute(Stmt("INSERT INTO t (v) VALUES ('x'); SELECT 1", None))
    assert connection.execute(Stmt("SELECT count(*) FROM t", None))["rows"] == [
        [{"type": "integer", "value": "0"}]
    ]


def test_batch_conditions_and_rollback(connection: SqlConnection) -> None:
    raw = {
        "steps": [
            {"stmt": {"sql": "BEGIN"}},
            {
                "stmt": {"sql": "INSERT INTO t (id) VALUES (1)"},
                "condition": {"type": "ok", "step": 0},
            },
            {
                "stmt": {"sql": "INSERT INTO t (id) VALUES (1)"},
                "condition": {"type": "ok", "step": 1},
            },
            {"stmt": {"sql": "COMMIT"}, "condition": {"type": "ok", "step": 2}},
            {
                "stmt": {"sql": "ROLLBACK"},
                "condition": {"type": "not", "cond": {"type": "ok", "step": 3}},
            },
            {
                "stmt": {"sql": "SELECT 1"},
                "condition": {
                    "type": "and",
                    "conds": [{"type": "error", "step": 2}, {"type": "is_autocommit"}],
                },
            },
            {
                "stmt": {"sql": "SELECT 2"},
                "condition": {"type": "or", "conds": [{"type": "ok", "step": 3}]},
            },
        ]
    }
    result = connection.batch(decode_batch(raw, {}, HRANA3))
    oks = [r is not None for r in result["step_results"]]
    errs = [e is not None for e in result["step_errors"]]
    assert oks == [True, True, False, False, True, True, False]
    assert errs == [False, False, True, False, False, False, False]
    assert result["step_errors"][2]["code"] == "SQLITE_CONSTRAINT"
    assert connection.is_autocommit


def test_describe_reports_params_columns_and_kind(connection: SqlConnection) -> None:
    described = connection.describe("SELECT id, v AS value, :name FROM t WHERE id = ?2")
    assert described["params"] == [{"name": ":name"}, {"name": "?2"}]
    assert described["cols"][0] == {"name": "id", "decltype": "INTEGER"}
    assert described["is_readonly"] is True
    assert described["is_explain"] is False
    assert connection.describe("INSERT INTO t (v) VALUES (1)")["is_readonly"] is False


def test_sequence_splits_on_complete_statements(connection: SqlConnection) -> None:
    sql = "INSERT INTO t (v) VALUES ('a;b'); /* ; */ INSERT INTO t (v) VALUES ('c');"
    assert len(split_statements(sql)) == 2
    connection.sequence(sql)
    rows = connection.execute(Stmt("SELECT v FROM t ORDER BY id", None))["rows"]
    assert rows == [[{"type": "text", "value": "a;b"}], [{"type": "text", "value": "c"}]]


def test_sequence_with_a_syntax_error_runs_nothing(connection: SqlConnection) -> None:
    with pytest.raises(StmtError) as caught:
        connection.sequence("INSERT INTO t (v) VALUES ('a'); INSERT INTO")
    assert caught.value.code == "SQL_PARSE_ERROR"
    assert connection.execute(Stmt("SELECT count(*) FROM t", None))["rows"][0][0]["value"] == "0"
