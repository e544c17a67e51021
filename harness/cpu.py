"""CPU time of named processes over a measured window, read from their own kernel counters.

CPU seconds per request vary far less with a noisy neighbour than wall-clock latency: a
process that waits for the cores is not charged for the wait. Sampling and reading live
here; the arithmetic (`cpu_in_window`, `per_request`) is pure and tested on synthetic data.
"""

from __future__ import annotations

import bisect
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psutil

# What each process is called in summaries, tables and reports, in this order.
PROCESS_NAMES = ("app", "database", "toxiproxy", "load generator")


def tree_cpu_s(pid: int, *, children: bool = True) -> float | None:
    """User + system CPU seconds of a process and, unless told not to, its live descendants
    (None once it is gone)."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)] if children else [root]
    except psutil.Error:
        return None
    total = 0.0
    for process in family:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@dataclass(frozen=True)
class Sample:
    """Cumulative CPU seconds per process name at wall-clock time `at_s` (time.time())."""

    at_s: float
    cpu_s: Mapping[str, float]


@dataclass
class CpuSampler:
    """Reads the CPU counters of named process trees on demand; keeps every reading.

    `alone` names processes counted without their children: a load generator that also
    started the stack would otherwise be charged for the app and the database.
    """

    pids: Mapping[str, int]
    alone: Mapping[str, int] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def sample(self) -> Sample:
        """Read every counter now; a process that has exited keeps its last reading."""
        last = self.samples[-1].cpu_s if self.samples else {}
        cpu_s: dict[str, float] = {}
        tracked = [(n, p, True) for n, p in self.pids.items()]
        tracked += [(n, p, False) for n, p in self.alone.items()]
        for name, pid, children in tracked:
            now = tree_cpu_s(pid, children=children)
            cpu_s[name] = now if now is not None else last.get(name, 0.0)
        reading = Sample(time.time(), cpu_s)
        self.samples.append(reading)
        return reading


def _at(samples: Sequence[Sample], name: str, at_s: float) -> float:
    """A process's cumulative CPU at `at_s`, linear between the two samples around it."""
    times = [s.at_s for s in samples]
    i = bisect.bisect_left(times, at_s)
    if i == 0:
        return samples[0].cpu_s.get(name, 0.0)
    if i == len(samples):
        return samples[-1].cpu_s.get(name, 0.0)
    before, after = samples[i - 1], samples[i]
    low, high = before.cpu_s.get(name, 0.0), after.cpu_s.get(name, 0.0)
    span = after.at_s - before.at_s
    share = (at_s - before.at_s) / span if span > 0 else 1.0
    return low + (high - low) * share


def cpu_in_window(samples: Sequence[Sample], start_s: float, stop_s: float) -> dict[str, float]:
    """CPU seconds each process spent between `start_s` and `stop_s` (clamped to the samples)."""
    if not samples:
        return {}
    names = {name for s in samples for name in s.cpu_s}
    return {
        name: max(_at(samples, name, stop_s) - _at(samples, name, start_s), 0.0) for name in names
    }


def per_request(cpu_s: Mapping[str, float], requests: int) -> dict[str, dict[str, float]]:
    """Per process: CPU seconds in the window and CPU microseconds per request, in name order."""
    order = [n for n in PROCESS_NAMES if n in cpu_s] + sorted(set(cpu_s) - set(PROCESS_NAMES))
    return {
        name: {
            "cpu_s": cpu_s[name],
            "us_per_request": 1e6 * cpu_s[name] / requests if requests else float("nan"),
        }
        for name in order
    }


def format_cpu_line(table: Mapping[str, Mapping[str, float]], requests: int) -> str:
    """One line for a terminal summary: CPU µs per request by process."""
    parts = [f"{name} {row['us_per_request']:.0f}" for name, row in table.items()]
    return f"CPU µs/request over {requests} requests: " + ", ".join(parts)
