"""No process outlives the program that started it, and a signal stops them all at once.

Every child the harness starts leads its own process group, which its own children
(uvicorn's or Locust's workers) share, and is registered with one watchdog process per
program. The watchdog reads a pipe whose write end only the program holds: when the
program dies, however it dies (kill -9 included), the pipe reads end-of-file and the
watchdog SIGKILLs every group still registered. `stop_on_signals` turns SIGTERM and SIGHUP
into KeyboardInterrupt, as Ctrl-C is, after stopping the load first: the load generators
get one SIGINT each, and every other watched group (the stack they load) gets SIGTERM at
once when the last of them has exited, so the programs' `finally` blocks stop everything
quickly, write what they have, and no request meets a server that is already stopping.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from types import FrameType

# Runs in the watchdog: ignores the signals meant for the program, then waits for the pipe
# to close (the program exited or died) and kills the groups still registered.
_WATCHDOG_CODE = """
import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
"""
PR_SET_PDEATHSIG = 1
INTERRUPTED_EXIT_CODE = 130  # what a shell reports for Ctrl-C


class _Watchdog:
    """The one watchdog of this program, started with the first group it must watch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[str] | None = None
        self._owner_pid = 0
        self.groups: set[int] = set()

    def watch(self, pgid: int) -> None:
        with self._lock:
            self._send(f"+{pgid}")
            self.groups.add(pgid)

    def release(self, pgid: int) -> None:
        with self._lock:
            if pgid in self.groups:
                self.groups.discard(pgid)
                self._send(f"-{pgid}")

    def _send(self, line: str) -> None:
        if self._popen is None or self._owner_pid != os.getpid() or self._popen.poll() is not None:
            self._start()
        stdin = self._popen.stdin if self._popen else None
        assert stdin is not None
        stdin.write(line + "\n")
        stdin.flush()

    def _start(self) -> None:
        # Its own session: a terminal's Ctrl-C or make's SIGTERM never reaches it.
        popen = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG_CODE],
            stdin=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert popen.stdin is not None
        for pgid in self.groups:  # a watchdog that died, or a fork: tell the new one
            popen.stdin.write(f"+{pgid}\n")
        self._popen, self._owner_pid = popen, os.getpid()


_watchdog = _Watchdog()
# Watched groups that are load generators, with the signal that stops each gracefully, and
# those of them already sent it.
_load: dict[int, signal.Signals] = {}
_interrupted_load: set[int] = set()
_stopping = False  # a signal arrived: the other groups follow the last load generator out


def watch_group(pgid: int, *, load_stop: signal.Signals | None = None) -> None:
    """Kill this process group if the program dies before `release_group`.

    `load_stop`: the group is a load generator (Locust), stopped before every other group
    on a signal, with this one signal to its leader: Locust's master then stops its users
    and workers and writes its results, all against a stack still serving.
    """
    _watchdog.watch(pgid)
    if load_stop is not None:
        _load[pgid] = load_stop


def release_group(pgid: int) -> None:
    was_load = _load.pop(pgid, None) is not None
    _interrupted_load.discard(pgid)
    _watchdog.release(pgid)
    if _stopping and was_load and not _load:
        terminate_watched_groups()  # the load is gone: the stack may stop now


def interrupt_load(pgid: int) -> None:
    """Its stop signal to a load generator's leader, once; never a second, which would cut
    short Locust's writing of its results."""
    if pgid in _interrupted_load or pgid not in _load:
        return
    _interrupted_load.add(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pgid, _load[pgid])


def terminate_watched_groups() -> None:
    """SIGTERM to every watched group but the load generators, at once, so stopping them in
    turn waits only once."""
    for pgid in list(_watchdog.groups - _load.keys()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    global _stopping
    if _stopping and _load:
        # A second Ctrl-C while the load writes its results: raised in the middle of that
        # wait, it would skip the wait and stop the stack under the load. Its grace bounds it.
        return
    _stopping = True
    for pgid in list(_load):
        interrupt_load(pgid)
    if not _load:
        terminate_watched_groups()
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """For a program's `main`: SIGINT, SIGTERM, SIGHUP and its parent's death all stop it.

    Each signal first stops the load (see `watch_group`), or, with none running, sends
    SIGTERM to every watched group, then raises KeyboardInterrupt where the program is, so
    its `finally` blocks run (stack stopped, partial results written); another signal while
    the load is still stopping changes nothing (`watched`'s grace bounds it). The parent's death
    (make killed with -9, say) arrives as SIGTERM through Linux's parent-death signal.
    Handlers are restored on the way out.
    """
    global _stopping
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, _interrupt) for sig in handled}
    _set_parent_death_signal(signal.SIGTERM)
    try:
        yield
    finally:
        _stopping = False
        _set_parent_death_signal(0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def die_with_parent(parent_pid: int) -> None:
    """For a forked worker (a process pool's initializer): killed when `parent_pid` dies.

    A fork keeps neither the parent-death signal nor a reason for the program's handlers,
    which would stop the parent's stacks from a worker; a parent already gone ends it now.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def _set_parent_death_signal(sig: int) -> None:
    if sys.platform != "linux":
        return  # elsewhere only the watchdog guards against orphans
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
