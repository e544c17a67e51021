"""Another process on the database file keeps SQLite's write lock: 300 ms of every 400.

A migration or a cron job writing the local SQLite file directly: the server cannot
see that holder, so it waits 100 ms for the lock (`--busy-timeout-ms`) and answers
SQLITE_BUSY. A busy statement did not apply, so the hardened app retries it, even a
write that is not idempotent, within its deadline; past it, 503 with Retry-After.
Local server only: sqld's file is its own.
"""

from chaos.contention import LockHolder
from chaos.scenarios.base import Scenario

BUSY_TIMEOUT_MS = 100
HOLDER = LockHolder(hold_ms=300, pause_ms=100, kind="file")

SCENARIO = Scenario(
    "write_lock_file",
    f"another process holds the database file's write lock {HOLDER.hold_ms:g} ms of every"
    f" {HOLDER.hold_ms + HOLDER.pause_ms:g}; server busy timeout {BUSY_TIMEOUT_MS} ms",
    server_args=("--busy-timeout-ms", str(BUSY_TIMEOUT_MS)),
    lock_holder=HOLDER,
)
