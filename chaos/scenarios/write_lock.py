"""Another client keeps SQLite's single write lock: 300 ms held, 100 ms free, for 3 s.

The guide's gotcha 3. The database server waits 100 ms for the lock
(`--busy-timeout-ms`), then answers SQLITE_BUSY. A busy statement did not apply, so
the hardened app retries it, even a write that is not idempotent, within its
deadline; past it, 503 with Retry-After. Batching creates means fewer write
transactions, each of them one more wait for the lock (`APP_BATCH_ENABLED=false`
to compare).
"""

from chaos.contention import LockHolder
from chaos.scenarios.base import Scenario

BUSY_TIMEOUT_MS = 100
HOLDER = LockHolder(hold_ms=300, pause_ms=100)

SCENARIO = Scenario(
    "write_lock",
    f"another client holds the write lock {HOLDER.hold_ms:g} ms of every"
    f" {HOLDER.hold_ms + HOLDER.pause_ms:g}; server busy timeout {BUSY_TIMEOUT_MS} ms",
    server_args=("--busy-timeout-ms", str(BUSY_TIMEOUT_MS)),
    sqld_args=(),
    lock_holder=HOLDER,
)
