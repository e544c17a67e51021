"""Hrana JSON structures: decoding with validation (raising ProtocolError) and encoding results."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from localturso.errors import ProtocolError, args_both_positional_and_named, json_error

SqlValue: TypeAlias = int | float | str | bytes | None
Bindings: TypeAlias = tuple[SqlValue, ...] | dict[str, SqlValue] | None
# A batch condition, already validated: ("ok", step), ("error", step), ("not", cond),
# ("and", [conds]), ("or", [conds]) or ("is_autocommit",).
Cond: TypeAlias = tuple[Any, ...]

HRANA1, HRANA2, HRANA3 = 1, 2, 3
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
# SQLite parameter names carry their marker (":a", "@a", "$a"); the binding map is keyed
# without it, and a name sent without a marker is taken as it is, as sqld guesses.
_PARAM_MARKERS = ":@$"


@dataclass(frozen=True, slots=True)
class Stmt:
    """One SQL statement with its arguments, ready to run."""

    sql: str
    args: Bindings
    want_rows: bool = True


@dataclass(frozen=True, slots=True)
class BatchStep:
    stmt: Stmt
    cond: Cond | None


def expect_object(value: Any, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise json_error(f"{what} must be a JSON object")
    return value


def expect_list(value: Any, what: str) -> list[Any]:
    if type(value) is not list:
        raise json_error(f"{what} must be a JSON array")
    return value


def expect_int32(value: Any, what: str) -> int:
    if type(value) is not int or not INT32_MIN <= value <= INT32_MAX:
        raise json_error(f"{what} must be a 32-bit integer")
    return value


def optional_str(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    value = obj.get(key)
    if value is not None and type(value) is not str:
        raise json_error(f"{what}.{key} must be a string")
    return value


def decode_value(value: Any) -> SqlValue:
    if type(value) is not dict:
        raise json_error("a value must be a JSON object")
    kind = value.get("type")
    if kind == "null":
        return None
    if kind == "integer":
        raw = value.get("value")
        if type(raw) is str and _INTEGER_TEXT.fullmatch(raw):
            number = int(raw)
        elif type(raw) is int:
            number = raw
        else:
            raise json_error("an integer value must be a decimal string")
        if not INT64_MIN <= number <= INT64_MAX:
            raise json_error("an integer value must fit in 64 bits")
        return number
    if kind == "float":
        raw = value.get("value")
        if type(raw) not in (float, int):
            raise json_error("a float value must be a JSON number")
        return float(raw)
    if kind == "text":
        raw = value.get("value")
        if type(raw) is not str:
            raise json_error("a text value must be a string")
        return raw
    if kind == "blob":
        raw = value.get("base64")
        if type(raw) is not str:
            raise json_error("a blob value must carry a base64 string")
        return decode_base64(raw)
    raise ProtocolError("Value type not recognized", "VALUE_TYPE_UNKNOWN")


def decode_base64(text: str) -> bytes:
    """Standard base64, padded or not (sqld sends it unpadded, clients may pad)."""
    stripped = text.rstrip("=")
    try:
        return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise json_error(f"invalid base64 in blob value: {exc}") from None


def _encode_int(value: int) -> dict[str, Any]:
    return {"type": "integer", "value": str(value)}


def _encode_float(value: float) -> dict[str, Any]:
    return {"type": "float", "value": value}


def _encode_text(value: str) -> dict[str, Any]:
    return {"type": "text", "value": value}


def _encode_blob(value: bytes) -> dict[str, Any]:
    return {"type": "blob", "base64": base64.b64encode(value).decode().rstrip("=")}


_NULL: dict[str, Any] = {"type": "null"}
_ENCODERS = {int: _encode_int, float: _encode_float, str: _encode_text, bytes: _encode_blob}


def encode_value(value: SqlValue) -> dict[str, Any]:
    if value is None:
        return _NULL
    return _ENCODERS[type(value)](value)  # type: ignore[operator]


def decode_sql(obj: Mapping[str, Any], sqls: Mapping[int, str], version: int, what: str) -> str:
    """The SQL text of a request, given inline as `sql` or by reference as `sql_id`."""
    sql = optional_str(obj, "sql", what)
    sql_id = obj.get("sql_id")
    if sql_id is not None:
        sql_id = expect_int32(sql_id, f"{what}.sql_id")
        if version < HRANA2:
            raise ProtocolError(
                "`sql_id` is only supported in protocol version hrana2 and higher",
                "NOT_SUPPORTED",
            )
    if sql is not None and sql_id is not None:
        raise ProtocolError("Either `sql` or `sql_id` are required, but not both", "SQL_ID_AND_SQL")
    if sql is not None:
        return sql
    if sql_id is None:
        raise ProtocolError("Either `sql` or `sql_id` are required", "SQL_ID_OR_SQL_MISSING")
    try:
        return sqls[sql_id]
    except KeyError:
        raise ProtocolError(f"SQL text {sql_id} not found", "SQL_NOT_FOUND") from None


def decode_stmt(value: Any, sqls: Mapping[int, str], version: int) -> Stmt:
    obj = expect_object(value, "stmt")
    sql = decode_sql(obj, sqls, version, "stmt")
    raw_args = obj.get("args")
    raw_named = obj.get("named_args")
    args = expect_list(raw_args, "stmt.args") if raw_args is not None else []
    named = expect_list(raw_named, "stmt.named_args") if raw_named is not None else []
    want_rows = obj.get("want_rows")
    if want_rows is not None and type(want_rows) is not bool:
        raise json_error("stmt.want_rows must be a boolean")
    bindings: Bindings = None
    if args:
        bindings = tuple(decode_value(arg) for arg in args)
    if named:
        named_bindings: dict[str, SqlValue] = {}
        for arg in named:
            arg = expect_object(arg, "named argument")
            name = arg.get("name")
            if type(name) is not str:
                raise json_error("a named argument needs a string name")
            key = name[1:] if name[:1] in _PARAM_MARKERS and len(name) > 1 else name
            named_bindings[key] = decode_value(arg.get("value"))
        if bindings:
            # sqld checks this after decoding, as a statement error rather than a protocol one.
            raise args_both_positional_and_named()
        bindings = named_bindings
    # sqld returns the rows even when a client sets want_rows to false.
    return Stmt(sql, bindings)


def decode_cond(value: Any, version: int, step_count: int) -> Cond:
    obj = expect_object(value, "condition")
    kind = obj.get("type")
    if kind in ("ok", "error"):
        step = obj.get("step")
        if type(step) is not int or step < 0:
            raise json_error("condition.step must be a non-negative integer")
        if step >= step_count:
            raise ProtocolError(
                "Invalid reference to step in a batch condition", "BATCH_COND_BAD_STEP"
            )
        return (kind, step)
    if kind == "not":
        return ("not", decode_cond(obj.get("cond"), version, step_count))
    if kind in ("and", "or"):
        conds = expect_list(obj.get("conds"), f"{kind} condition conds")
        return (kind, [decode_cond(c, version, step_count) for c in conds])
    if kind == "is_autocommit":
        if version < HRANA3:
            raise ProtocolError(
                "BatchCond of type `is_autocommit` is only supported in protocol version "
                "hrana3 and higher",
                "NOT_SUPPORTED",
            )
        return ("is_autocommit",)
    raise ProtocolError("BatchCond type not recognized", "BATCH_COND_TYPE_UNKNOWN")


def decode_batch(value: Any, sqls: Mapping[int, str], version: int) -> list[BatchStep]:
    obj = expect_object(value, "batch")
    steps = expect_list(obj.get("steps"), "batch.steps")
    decoded = []
    for index, raw_step in enumerate(steps):
        step = expect_object(raw_step, "batch step")
        stmt = decode_stmt(step.get("stmt"), sqls, version)
        raw_cond = step.get("condition")
        cond = decode_cond(raw_cond, version, index) if raw_cond is not None else None
        decoded.append(BatchStep(stmt, cond))
    return decoded


def request_type(request: Any, what: str) -> str:
    obj = expect_object(request, what)
    kind = obj.get("type")
    if type(kind) is not str:
        raise json_error(f"{what}.type must be a string")
    return kind
