"""Child processes that are waited for by asking them, and are always stopped."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.lifecycle import interrupt_load, release_group, watch_group

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
READY_POLL_MAX_S = 0.05


class ProcessStartError(RuntimeError):
    """A child process exited or never became ready; the message carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@functools.cache
def default_tls() -> ssl.SSLContext:
    """httpx's default certificate check, built once per process. Given `verify=True`, every
    `httpx.get` builds it again (the CA bundle read, ~60 ms of CPU): a readiness probe polled
    while a server starts, and a read of the app's /metrics per chaos scenario, paid it each
    time, on the cores the servers being measured need."""
    return httpx.create_ssl_context()


def http_ready(
    url: str, headers: dict[str, str] | None = None, verify: ssl.SSLContext | None = None
) -> Callable[[], bool]:
    """A readiness probe: true once `url` answers with a 2xx (`verify`: the https trust,
    default httpx's own)."""

    def probe() -> bool:
        try:
            tls = verify or default_tls()
            return httpx.get(url, headers=headers, timeout=1.0, verify=tls).is_success
        except httpx.HTTPError:
            return False

    return probe


@dataclass
class ManagedProcess:
    """One server process with its log file; `start` returns only once it is ready."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    _popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        if self.running:
            raise ProcessStartError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                # Its own group (shared by its workers): a terminal's Ctrl-C reaches us, not
                # the children, and the whole group is stopped, or killed if we die.
                start_new_session=True,
            )
        watch_group(self._popen.pid)
        self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        delay_s = 0.01
        while time.monotonic() < deadline:
            if not self.running:
                raise ProcessStartError(f"{self.name} exited during start:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(delay_s)
            # A probe costs ~1 ms: polling every 50 ms finds a server ready sooner than every
            # 200 ms did, which chaos pays once per process per stack.
            delay_s = min(delay_s * 2, READY_POLL_MAX_S)
        self.stop()
        raise ProcessStartError(f"{self.name} not ready after {timeout_s}s:\n{self.log_tail()}")

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM to its process group, then SIGKILL to what is left; returns the exit code.

        The whole group, so a server's own children (uvicorn's workers) go with it.
        """
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            self._signal_group(signal.SIGCONT)  # a paused process acts on SIGTERM only then
            self._wait_unreaped(timeout_s)
        self._end_group()
        return self._popen.returncode

    def kill(self) -> None:
        """SIGKILL to the whole group with no chance to clean up, as a crash would."""
        if self._popen is not None:
            self._end_group()

    def pause(self) -> None:
        """SIGSTOP: the group keeps its sockets but runs no more until `resume`."""
        if self._popen is not None and self._popen.poll() is None:
            self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._signal_group(signal.SIGCONT)

    def _signal_group(self, signum: int) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)  # start_new_session: group id == pid

    def _wait_unreaped(self, timeout_s: float) -> None:
        """Wait for the leader to exit but leave it a zombie, so its group id stays reserved."""
        assert self._popen is not None
        deadline = time.monotonic() + timeout_s
        delay_s = 0.01
        while time.monotonic() < deadline:
            try:
                exited = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:  # already reaped
                return
            if exited is not None:
                return
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.1)

    def _end_group(self) -> None:
        """SIGKILL anything left in the group (orphaned workers), reap the leader, and let
        the watchdog forget the group."""
        assert self._popen is not None
        if self._popen.returncode is None:
            self._signal_group(signal.SIGKILL)
        self._popen.wait()
        release_group(self._popen.pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@contextlib.contextmanager
def running(process: ManagedProcess) -> Iterator[ManagedProcess]:
    """Start `process` and stop it on the way out, whatever happened inside."""
    try:
        process.start()
        yield process
    finally:
        process.stop()


@contextlib.contextmanager
def watched(
    popen: subprocess.Popen[bytes], grace_s: float, stop: signal.Signals = signal.SIGINT
) -> Iterator[subprocess.Popen[bytes]]:
    """A load generator (Locust) started with `start_new_session=True`, stopped with its
    group on exit, and on a signal before the stack it loads (`watch_group`'s `load_stop`).

    If it is still running on the way out (an interrupt, say), its leader gets one `stop`
    signal and `grace_s` to stop its workers and write its results, then the group gets
    SIGKILL; and if this program dies first, the watchdog kills the group.
    """
    watch_group(popen.pid, load_stop=stop)
    try:
        yield popen
    finally:
        if popen.poll() is None:
            interrupt_load(popen.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)  # its workers, should any be left
        popen.wait()
        release_group(popen.pid)
