"""Process faults, as Jepsen's nemeses: kill -9 and restart on the same data, or pause.

`kill` sends SIGKILL (no chance to clean up, as a crash or an OOM kill) and, after the
downtime, starts the same command again: same database file, same port, so the proxy in
front still points at it. `terminate` does the same after a SIGTERM, as a deploy restarts a
server: it closes its open connections on the way out. `pause` sends SIGSTOP and later
SIGCONT: a stalled server that still holds its connections open but answers nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from harness.processes import ManagedProcess

Target = Literal["database", "app"]
Action = Literal["kill", "terminate", "pause"]


@dataclass(frozen=True)
class ProcessFault:
    """One signal to one process of the stack, `start_s` into the fault window."""

    target: Target
    action: Action
    start_s: float
    duration_s: float  # killed: down this long before the restart begins; paused: this long

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


async def apply(fault: ProcessFault, process: ManagedProcess, window_start: float) -> None:
    """Wait for the fault's moment, inflict it, and undo it; cancelled, a pause is undone."""
    await asyncio.sleep(max(0.0, window_start + fault.start_s - time.monotonic()))
    if fault.action == "pause":
        await _paused_for(process, fault.duration_s)
    else:
        await _down_for(process, fault.duration_s, graceful=fault.action == "terminate")


async def _down_for(process: ManagedProcess, seconds: float, *, graceful: bool) -> None:
    await asyncio.to_thread(process.stop if graceful else process.kill)
    # Cancelled here (the run is being stopped), it stays down: the stack goes anyway.
    await asyncio.sleep(seconds)
    # Same command, same data, same port; returns once the process answers again.
    await asyncio.to_thread(process.start)


async def _paused_for(process: ManagedProcess, seconds: float) -> None:
    process.pause()
    try:
        await asyncio.sleep(seconds)
    finally:
        process.resume()
