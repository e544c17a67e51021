"""Who holds the database's write lock, and taking it from an idle holder as sqld does.

sqld lets a write transaction hold the lock for at most TXN_TIMEOUT_S: a writer that waits
longer rolls the holder back and proceeds, and the holder's next statement fails with
TRANSACTION_TIMEOUT. Without this, one client that leaves an interactive transaction open
stalls every other writer until their busy timeout and then fails them with SQLITE_BUSY.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

# sqld's TXN_TIMEOUT.
TXN_TIMEOUT_S = 5.0


class Holder(Protocol):
    def force_rollback(self) -> bool:
        """Roll back now if idle; False when it is running a statement and cannot be stopped."""
        ...


class WriteLockRegistry:
    """Shared by every connection to one database file; all methods are thread-safe."""

    def __init__(self, txn_timeout_s: float = TXN_TIMEOUT_S) -> None:
        self._mutex = threading.Lock()
        self._holder: Holder | None = None
        self._since = 0.0
        self.txn_timeout_s = txn_timeout_s

    def note(self, connection: Holder, holds: bool) -> None:
        """After each job: does `connection` hold a write transaction now?"""
        with self._mutex:
            if holds and self._holder is not connection:
                self._holder, self._since = connection, time.monotonic()
            elif not holds and self._holder is connection:
                self._holder = None

    def held_by_other(self, connection: Holder) -> bool:
        with self._mutex:
            return self._holder is not None and self._holder is not connection

    def steal_if_expired(self, waiter: Holder) -> bool:
        """Called by a writer waiting on the lock: True once it rolled an expired holder back."""
        with self._mutex:
            holder = self._holder
            if holder is None or holder is waiter:
                return False
            if time.monotonic() - self._since < self.txn_timeout_s:
                return False
            if not holder.force_rollback():
                return False
            self._holder = None
            return True
