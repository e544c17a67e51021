"""Another client of the database keeps SQLite's single write lock: 300 ms of every 400.

The guide's gotcha 3. The holder is another Hrana client (BEGIN IMMEDIATE ... COMMIT),
so sqld and the local server alike make the app's writers wait for it: the fault costs
latency within the deadline. Batching creates means fewer write transactions, each of
them one more wait for the lock (`APP_BATCH_ENABLED=false` to compare).
"""

from chaos.contention import LockHolder
from chaos.scenarios.base import Expectation, Scenario

HOLDER = LockHolder(hold_ms=300, pause_ms=100)

SCENARIO = Scenario(
    "write_lock",
    f"another database client holds the write lock {HOLDER.hold_ms:g} ms of every"
    f" {HOLDER.hold_ms + HOLDER.pause_ms:g}",
    lock_holder=HOLDER,
    expect=Expectation(naive_passes=True),
)
