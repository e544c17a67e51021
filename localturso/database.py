"""The SQLite database file and its pool of connections, each driven by its own thread."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import apsw

from localturso.engine import SqlConnection
from localturso.errors import overloaded
from localturso.protocol import Stmt
from localturso.settings import MEMORY_DB
from localturso.writelock import WriteLockRegistry

log = logging.getLogger(__name__)
T = TypeVar("T")

# Idle connections kept for reuse; more than this are closed when handed back.
MAX_IDLE_CONNECTIONS = 64
# A read on the event loop's thread gets this many SQLite VM steps (well under a millisecond)
# before it is interrupted and run again on a worker, so a long scan never stalls the loop.
INLINE_READ_STEPS = 20_000


class Worker:
    """One SQLite connection and the one thread that uses it, so its jobs run in submission order.

    A thread per connection (rather than a shared pool) means a stream waiting on SQLite's
    busy timeout can never starve the stream that holds the lock of a thread to commit on.
    A job that cannot wait (a short read, a reset) runs at once on the event loop's thread
    instead when nothing is queued: the hand-off to the thread and back costs more CPU than
    such a job, and with nothing queued the order is the same either way.
    """

    def __init__(self, path: str, busy_timeout_ms: int, write_lock: WriteLockRegistry) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localturso-sql")
        self._connection: SqlConnection | None = None
        # Jobs submitted and not yet seen done on the event loop; only the loop changes it.
        self._queued = 0
        self._executor.submit(self._open, path, busy_timeout_ms, write_lock)

    def _open(self, path: str, busy_timeout_ms: int, write_lock: WriteLockRegistry) -> None:
        self._connection = SqlConnection(path, busy_timeout_ms, write_lock)

    def _call(self, job: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._connection is None:
            raise RuntimeError("the SQLite connection failed to open")
        return self._connection.run(job, *args)

    def submit(self, job: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `job(connection, *args)` on this worker's thread after every job submitted before."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._call, job, args)
        self._queued += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: asyncio.Future[Any]) -> None:
        self._queued -= 1

    @property
    def _nothing_queued(self) -> bool:
        # A connection still None is being opened by the thread (its first, uncounted job).
        return self._queued == 0 and self._connection is not None

    def run_now(self, job: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`submit` for a job that never waits for a lock: run here when nothing is queued."""
        if not self._nothing_queued:
            return self.submit(job, *args)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        try:
            future.set_result(self._call(job, args))
        except Exception as exc:  # the caller sees it as it would from the thread
            future.set_exception(exc)
        return future

    def try_read(self, stmt: Stmt) -> dict[str, Any] | None:
        """`stmt` executed here if nothing is queued and it is a short read; else None."""
        if not self._nothing_queued:
            return None
        return self._call(SqlConnection.try_read, (stmt, INLINE_READ_STEPS))

    def retire(self) -> ThreadPoolExecutor:
        """Close the connection after the queued jobs; returns the executor to wait on."""
        self._executor.submit(self._close)
        self._executor.shutdown(wait=False)
        return self._executor

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _reset(connection: SqlConnection) -> None:
    try:
        connection.reset()
    except apsw.Error:
        log.exception("could not roll back a connection being returned to the pool")


def _run_then_reset(connection: SqlConnection, job: Callable[..., T], *args: Any) -> T:
    try:
        return job(connection, *args)
    finally:
        _reset(connection)


class InlineReader:
    """Short single reads on the event loop's own thread, on a connection that never waits.

    Handing a point read to a worker thread and back costs more CPU than the read itself.
    `try_execute` runs a statement here only when it writes nothing, never waits for a lock
    and finishes within INLINE_READ_STEPS; otherwise it returns None and the caller runs it
    on a worker as before. Re-running is safe: nothing was written.
    """

    def __init__(self, path: str) -> None:
        self._connection = SqlConnection(path, busy_timeout_ms=0)

    def try_execute(self, stmt: Stmt) -> dict[str, Any] | None:
        try:
            return self._connection.try_read(stmt, INLINE_READ_STEPS)
        finally:
            _reset(self._connection)

    def close(self) -> None:
        self._connection.close()


class Database:
    """Opens the file in WAL mode once and lends connections (workers) to requests and streams."""

    def __init__(self, db: str, busy_timeout_ms: int, max_connections: int) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if db == MEMORY_DB:
            # Separate SQLite connections to ":memory:" would each see their own empty
            # database; a private temporary file gives every stream the same one, with WAL.
            self._tempdir = tempfile.TemporaryDirectory(prefix="localturso-")
            db = str(Path(self._tempdir.name) / "memory.db")
        self.path = db
        self._busy_timeout_ms = busy_timeout_ms
        self._max_connections = max_connections
        self._idle: list[Worker] = []
        self._in_use = 0
        self._write_lock = WriteLockRegistry()
        setup = apsw.Connection(self.path)
        try:
            setup.execute("PRAGMA journal_mode=WAL")
        finally:
            setup.close()
        self._reader = InlineReader(self.path)

    def acquire(self) -> Worker:
        """A connection for one stream or request; raises the overload error past the limit."""
        if self._idle:
            worker = self._idle.pop()
        elif self._in_use >= self._max_connections:
            raise overloaded()
        else:
            worker = Worker(self.path, self._busy_timeout_ms, self._write_lock)
        self._in_use += 1
        return worker

    def release(self, worker: Worker) -> asyncio.Future[None]:
        """Take a connection back; anything its last user left open is rolled back first."""
        done = worker.run_now(_reset)
        self._give_back(worker)
        return done

    def _give_back(self, worker: Worker) -> None:
        self._in_use -= 1
        if len(self._idle) < MAX_IDLE_CONNECTIONS:
            # Jobs of the next user queue behind the reset on the same thread.
            self._idle.append(worker)
        else:
            # Its thread finishes the queued jobs, closes the connection and exits.
            worker.retire()

    async def run(self, job: Callable[..., T], *args: Any) -> T:
        """Run one stateless job on a pooled connection, as if on a fresh stream."""
        worker = self.acquire()
        try:
            return await worker.submit(_run_then_reset, job, *args)
        finally:
            self._give_back(worker)

    async def execute(self, stmt: Stmt) -> dict[str, Any]:
        """One stateless statement: a short read inline, anything else on a pooled worker."""
        result = self._reader.try_execute(stmt)
        if result is not None:
            return result
        return await self.run(SqlConnection.execute, stmt)

    async def close(self) -> None:
        self._reader.close()
        executors = [worker.retire() for worker in self._idle]
        self._idle.clear()
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, True)
        if self._tempdir is not None:
            self._tempdir.cleanup()
