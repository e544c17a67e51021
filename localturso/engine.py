"""Runs Hrana statements, batches, sequences and describes on one SQLite connection (blocking)."""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import apsw

from localturso.errors import (
    StmtError,
    args_invalid,
    is_parse_error,
    many_statements,
    no_statement,
    stmt_error_from_sqlite,
)
from localturso.protocol import BatchStep, Cond, Stmt, encode_value
from localturso.writelock import WriteLockRegistry

T = TypeVar("T")

# Text that is only whitespace, semicolons and comments: not a statement.
_TRIVIA = re.compile(r"(?:\s|;|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*(?:\*/|$))*")
# Binding only what was given: apsw's own "no bindings" marker for statements we only prepare.
_NO_BINDINGS: Any = apsw._null_bindings
# sqld reports last_insert_rowid for INSERT and REPLACE statements only (even one that inserted
# nothing: then it is the connection's previous value), and null for every other statement.
_INSERT = re.compile(
    r"^(?:\s|--[^\n]*\n|/\*.*?\*/)*(?:insert|replace)\b"
    r"|^(?:\s|--[^\n]*\n|/\*.*?\*/)*with\b.*\)\s*(?:insert|replace)\b",
    re.IGNORECASE | re.DOTALL,
)
# A query (not BEGIN/COMMIT, which SQLite also calls read-only): what `try_read` may run.
_QUERY = re.compile(
    r"^(?:\s|--[^\n]*\n|/\*.*?\*/)*(?:select|with|values)\b", re.IGNORECASE | re.DOTALL
)
# What makes `try_read` give a statement back: a lock it would wait for, or its step budget.
_HAND_OVER_CODES = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_INTERRUPT"})
_TXN_WRITE = apsw.mapping_txn_state["SQLITE_TXN_WRITE"]
_BUSY_SLEEP_MAX_S = 0.01
# A commit counter shared by every connection of the process: results carry it as
# replication_index (sqld: the WAL frame number), a string that only ever grows.
_commits = itertools.count(1)
_last_commit = [0]


def _on_commit() -> bool:
    _last_commit[0] = next(_commits)
    return False  # let the commit go through


def _as_int(text: str | None) -> int | None:
    return int(text) if text is not None else None


def replication_index() -> str | None:
    return str(_last_commit[0]) if _last_commit[0] else None


def transaction_timed_out() -> StmtError:
    return StmtError("Transaction timed out", "TRANSACTION_TIMEOUT")


def is_trivia(sql: str) -> bool:
    return _TRIVIA.fullmatch(sql) is not None


class _FirstStatement:
    """An exec tracer that records the first statement and refuses SQL holding more than one."""

    __slots__ = (
        "cols",
        "full_sql",
        "is_explain",
        "is_readonly",
        "many",
        "param_names",
        "prepare_only",
        "traced",
    )

    def __init__(self, full_sql: str, prepare_only: bool = False) -> None:
        self.full_sql = full_sql
        self.prepare_only = prepare_only
        self.traced = False
        self.cols: list[dict[str, Any]] = []
        self.is_readonly = True
        self.is_explain = False
        self.many = False
        self.param_names: tuple[str | None, ...] = ()

    def __call__(self, cursor: apsw.Cursor, sql: str, _bindings: Any) -> bool:
        if self.traced:
            # A later "statement" apsw found in trailing comments or semicolons.
            return True
        self.traced = True
        self.cols = [{"name": d[0], "decltype": d[1]} for d in cursor.description]
        self.is_readonly = cursor.is_readonly
        self.is_explain = cursor.is_explain != 0
        self.param_names = cursor.bindings_names
        if len(sql) < len(self.full_sql) and not is_trivia(self.full_sql[len(sql) :]):
            self.many = True
            return False
        # Returning False makes apsw stop before the statement runs.
        return not self.prepare_only


class SqlConnection:
    """One SQLite connection; every method blocks and must run on the connection's own thread."""

    def __init__(
        self, path: str, busy_timeout_ms: int, write_lock: WriteLockRegistry | None = None
    ) -> None:
        # No statement cache: a cached statement keeps describing the columns it had when it
        # was prepared, so `SELECT *` after `ALTER TABLE ... ADD COLUMN` would name the old
        # ones (sqld names the new ones). Preparing costs no measurable time here.
        self._db = apsw.Connection(path, statementcachesize=0)
        self._busy_timeout_s = busy_timeout_ms / 1000
        self._busy_started = 0.0
        self._write_lock = write_lock or WriteLockRegistry()
        self._db.set_busy_handler(self._on_busy)
        self._db.set_commit_hook(_on_commit)
        # Held while a job runs, so another thread rolls this connection back only when idle.
        self._job_lock = threading.Lock()
        self._timed_out = False
        # Set while `try_read` runs: the busy handler then gives up at once instead of waiting.
        self._no_wait = False
        # WAL is a property of the database file, set once by Database; synchronous is
        # per connection. NORMAL in WAL mode writes every commit to the WAL with write(2)
        # before returning, so an acknowledged write survives kill -9 of this process (the
        # requirement); only a power loss or OS crash could lose the last commits, and
        # FULL would cost an fsync per commit for a guarantee we do not need here.
        self._db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        self._write_lock.note(self, holds=False)
        self._db.close()

    def run(self, job: Callable[..., T], *args: Any) -> T:
        """Run `job(self, *args)`; afterwards the registry knows whether we hold the lock."""
        with self._job_lock:
            try:
                return job(self, *args)
            finally:
                self._write_lock.note(self, self._db.txn_state() == _TXN_WRITE)

    def force_rollback(self) -> bool:
        """From a waiting writer's thread: give up our write transaction if we are idle."""
        if not self._job_lock.acquire(blocking=False):
            return False
        try:
            if self._db.txn_state() == _TXN_WRITE:
                self._db.execute("ROLLBACK")
                self._timed_out = True
            return True
        except apsw.Error:
            return False
        finally:
            self._job_lock.release()

    def _on_busy(self, count: int) -> bool:
        """SQLite's busy handler: wait, take the lock from an expired idle holder, or give up."""
        if self._no_wait:
            return False
        now = time.monotonic()
        if count == 0:
            self._busy_started = now
        if self._write_lock.steal_if_expired(self):
            return True
        limit_s = self._busy_timeout_s
        if self._write_lock.held_by_other(self):
            # The holder expires within txn_timeout_s of our start at the latest.
            limit_s = max(limit_s, self._write_lock.txn_timeout_s + 1.0)
        if now - self._busy_started >= limit_s:
            return False
        time.sleep(min(0.0005 * (count + 1), _BUSY_SLEEP_MAX_S))
        return True

    def _take_timeout(self) -> bool:
        timed_out, self._timed_out = self._timed_out, False
        return timed_out

    @property
    def is_autocommit(self) -> bool:
        return bool(self._db.get_autocommit())

    def reset(self) -> None:
        """Hand the connection to its next user in autocommit state, as a fresh one would be."""
        self._timed_out = False
        if not self._db.get_autocommit():
            self._db.execute("ROLLBACK")
        # A fresh sqld connection reports 0 for an INSERT that inserted nothing.
        self._db.set_last_insert_rowid(0)

    def execute(self, stmt: Stmt) -> dict[str, Any]:
        sql = stmt.sql
        if is_trivia(sql):
            raise no_statement()
        if self._take_timeout():
            raise transaction_timed_out()
        cursor = self._db.cursor()
        probe = _FirstStatement(sql)
        cursor.exec_trace = probe
        changes_before = self._db.total_changes()
        started = time.perf_counter()
        stepped = 0
        try:
            cursor.execute(sql, stmt.args)
            if stmt.want_rows:
                rows = [[encode_value(v) for v in row] for row in cursor]
                stepped = len(rows)
            else:
                rows = []
                for _ in cursor:
                    stepped += 1
        except apsw.BindingsError:
            raise self._args_error(stmt) from None
        except apsw.ExecTraceAbort:
            raise many_statements() from None
        except (apsw.Error, KeyError, TypeError, OverflowError) as exc:
            if probe.many:
                raise many_statements() from None
            raise stmt_error_from_sqlite(exc) from None
        duration_ms = (time.perf_counter() - started) * 1000
        changed = self._db.total_changes() != changes_before
        affected = self._db.changes() if changed else 0
        return {
            "cols": probe.cols,
            "rows": rows,
            "affected_row_count": affected,
            "last_insert_rowid": (
                str(self._db.last_insert_rowid()) if _INSERT.match(sql) else None
            ),
            "replication_index": replication_index(),
            # Estimates: sqld counts the rows its B-tree cursors visit with libSQL's own
            # statement counters, which stock SQLite does not have.
            "rows_read": stepped,
            "rows_written": affected,
            "query_duration_ms": round(duration_ms, 3),
        }

    def _args_error(self, stmt: Stmt) -> StmtError:
        """What sqld says about arguments that do not fit: the first parameter without a
        value, or how many were given for how many parameters."""
        names = self._prepare(stmt.sql).param_names
        given = stmt.args
        if isinstance(given, dict):
            missing = next((n for n in names if n is None or n not in given), None)
            label = _param_name(stmt.sql, missing) if missing else None
            return args_invalid(f"value for parameter {label or '?'} not found")
        count = len(given or ())
        if count > len(names):
            return args_invalid(f"too many parameters, expected {len(names)} found {count}")
        for index, name in enumerate(names, start=1):
            if name is not None and not name.isdigit():
                return args_invalid(f"value for parameter {_param_name(stmt.sql, name)} not found")
            if index > count:
                return args_invalid(f"value for parameter {index} not found")
        return args_invalid("arguments do not match the statement's parameters")

    def reads_only(self, sql: str) -> bool:
        """Whether `sql` is one statement that writes nothing (False for anything invalid).

        A statement on sqlite_schema first makes SQLite check the schema cookie and reload a
        schema another connection changed, so `sql` is prepared, and its columns described,
        on the current one (PRAGMA schema_version reads the cookie without reloading).
        """
        try:
            self._db.execute("SELECT 1 FROM sqlite_schema LIMIT 0").fetchall()
            probe = self._prepare(sql)
        except apsw.Error:
            return False
        return probe.traced and not probe.many and probe.is_readonly

    def try_read(self, stmt: Stmt, max_steps: int) -> dict[str, Any] | None:
        """Execute `stmt` if it is one query that writes nothing and finishes without waiting
        for a lock within about `max_steps` SQLite VM steps; otherwise None, and the caller
        runs it the normal way. Running it again is safe: an interrupted or refused query
        wrote nothing, and SQLite rolls back no transaction for an interrupted read.
        """
        if not _QUERY.match(stmt.sql) or not self.reads_only(stmt.sql):
            return None
        self._no_wait = True
        self._db.set_progress_handler(lambda: True, max_steps)
        try:
            return self.execute(stmt)
        except StmtError as error:
            if error.code in _HAND_OVER_CODES:
                return None
            raise
        finally:
            self._no_wait = False
            self._db.set_progress_handler(None)

    def check(self, sql: str) -> None:
        """What sqld rejects before running anything: no statement, several, or a syntax error."""
        if is_trivia(sql):
            raise no_statement()
        try:
            probe = self._prepare(sql)
        except apsw.Error as exc:
            # Names that do not resolve yet may be created by an earlier step; only syntax
            # is known up front.
            if is_parse_error(exc):
                raise stmt_error_from_sqlite(exc) from None
            return
        if probe.many:
            raise many_statements()

    def _prepare(self, sql: str) -> _FirstStatement:
        """Prepare the first statement without running it; what it learned comes back."""
        cursor = self._db.cursor()
        probe = _FirstStatement(sql, prepare_only=True)
        cursor.exec_trace = probe
        # The probe aborts once the statement is prepared: that is the normal way out.
        with contextlib.suppress(apsw.ExecTraceAbort):
            cursor.execute(sql, _NO_BINDINGS)
        return probe

    def batch(self, steps: list[BatchStep]) -> dict[str, Any]:
        for step in steps:
            self.check(step.stmt.sql)
        results: list[dict[str, Any] | None] = [None] * len(steps)
        errors: list[dict[str, str] | None] = [None] * len(steps)
        if self._take_timeout():
            # As sqld: after a forced rollback every step of the next program fails.
            return {
                "step_results": results,
                "step_errors": [transaction_timed_out().to_proto()] * len(steps),
                "replication_index": replication_index(),
            }
        for index, step in enumerate(steps):
            if step.cond is not None and not self._holds(step.cond, results, errors):
                continue
            try:
                results[index] = {**self.execute(step.stmt), "replication_index": None}
            except StmtError as exc:
                errors[index] = exc.to_proto()
        # As sqld: steps carry no replication index, the batch as a whole does.
        return {
            "step_results": results,
            "step_errors": errors,
            "replication_index": replication_index(),
        }

    def cursor_entries(self, steps: list[BatchStep]) -> list[dict[str, Any]]:
        """The batch as Hrana 3 cursor entries (step_begin, row..., step_end | step_error)."""
        outcome = self.batch(steps)
        entries: list[dict[str, Any]] = []
        for index, (result, error) in enumerate(
            zip(outcome["step_results"], outcome["step_errors"], strict=True)
        ):
            if error is not None:
                entries.append({"type": "step_error", "step": index, "error": error})
            elif result is not None:
                entries.append({"type": "step_begin", "step": index, "cols": result["cols"]})
                entries.extend({"type": "row", "row": row} for row in result["rows"])
                entries.append(
                    {
                        "type": "step_end",
                        "affected_row_count": result["affected_row_count"],
                        # sqld sends this one as a number, unlike everywhere else.
                        "last_insert_rowid": _as_int(result["last_insert_rowid"]),
                    }
                )
        index = outcome["replication_index"]
        entries.append(
            {"type": "replication_index", "replication_index": int(index) if index else None}
        )
        return entries

    def _holds(
        self,
        cond: Cond,
        results: list[dict[str, Any] | None],
        errors: list[dict[str, str] | None],
    ) -> bool:
        kind = cond[0]
        if kind == "ok":
            return results[cond[1]] is not None
        if kind == "error":
            return errors[cond[1]] is not None
        if kind == "not":
            return not self._holds(cond[1], results, errors)
        if kind == "and":
            return all(self._holds(c, results, errors) for c in cond[1])
        if kind == "or":
            return any(self._holds(c, results, errors) for c in cond[1])
        return self.is_autocommit

    def sequence(self, sql: str) -> None:
        statements = split_statements(sql)
        for statement in statements:
            self.check(statement)
        for statement in statements:
            self.execute(Stmt(statement, None, want_rows=False))

    def describe(self, sql: str) -> dict[str, Any]:
        """SQLite's own view of the first statement: sqld's parser is not asked, so empty or
        several statements are fine and a syntax error is SQLite's SQL_INPUT_ERROR."""
        try:
            probe = self._prepare(sql)
        except apsw.Error as exc:
            raise stmt_error_from_sqlite(exc, sqld_parses=False) from None
        return {
            "params": [{"name": _param_name(sql, name)} for name in probe.param_names],
            "cols": probe.cols,
            "is_explain": probe.is_explain,
            "is_readonly": probe.is_readonly,
        }


def _param_name(sql: str, name: str | None) -> str | None:
    """apsw drops the marker from parameter names; Hrana reports them with it (":a", "?2")."""
    if name is None:
        return None
    if name.isdigit():
        return f"?{name}"
    match = re.search(rf"([:@$]){re.escape(name)}(?![\w$])", sql)
    return f"{match.group(1) if match else ':'}{name}"


def split_statements(sql: str) -> list[str]:
    """Split SQL text into complete statements, honouring quotes, comments and triggers."""
    statements = []
    start = 0
    for index, char in enumerate(sql):
        if char == ";" and apsw.complete(sql[start : index + 1]):
            piece = sql[start : index + 1]
            if not is_trivia(piece):
                statements.append(piece)
            start = index + 1
    if not is_trivia(sql[start:]):
        statements.append(sql[start:])
    return statements
