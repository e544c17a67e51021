"""Load plans (pure): elapsed seconds and the common options -> (users, spawn rate) or stop."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Tick = tuple[int, float] | None

STEPS = 4
SPIKE_BASE_FRACTION = 0.25  # users outside the spike, as a share of --users
SPIKE_START, SPIKE_END = 0.4, 0.6  # the spike's window, as shares of --run-time
SOAK_RAMP_S = 30.0  # soak runs are long; reach full load gently, then hold


@dataclass(frozen=True)
class Load:
    users: int
    spawn_rate: float
    run_time_s: float  # inf: until stopped (the web UI without a run time)

    @classmethod
    def from_options(cls, options: Any) -> Load:
        return cls(
            users=int(options.num_users or 1),
            spawn_rate=float(options.spawn_rate or 1),
            run_time_s=float(options.run_time or math.inf),
        )


def constant(elapsed_s: float, load: Load) -> Tick:
    """--users from the start (reached at --spawn-rate) until --run-time."""
    return (load.users, load.spawn_rate) if elapsed_s < load.run_time_s else None


def ramp(elapsed_s: float, load: Load) -> Tick:
    """From one user up to --users, linearly over the whole run."""
    if elapsed_s >= load.run_time_s:
        return None
    users = max(1, math.ceil(load.users * elapsed_s / load.run_time_s))
    return users, load.spawn_rate


def step(elapsed_s: float, load: Load) -> Tick:
    """Four equal steps up to --users, each held for a quarter of the run."""
    if elapsed_s >= load.run_time_s:
        return None
    step = min(STEPS, 1 + int(elapsed_s / (load.run_time_s / STEPS)))
    return max(1, math.ceil(load.users * step / STEPS)), load.spawn_rate


def spike(elapsed_s: float, load: Load) -> Tick:
    """A quarter of --users, all of them in the run's middle fifth, then a quarter again."""
    if elapsed_s >= load.run_time_s:
        return None
    in_spike = SPIKE_START <= elapsed_s / load.run_time_s < SPIKE_END
    users = load.users if in_spike else max(1, math.ceil(load.users * SPIKE_BASE_FRACTION))
    # The spike arrives at once: spawn everyone in one second.
    return users, float(load.users) if in_spike else load.spawn_rate


def soak(elapsed_s: float, load: Load) -> Tick:
    """A gentle ramp to --users, then held for the rest of a long run."""
    if elapsed_s >= load.run_time_s:
        return None
    ramp = min(1.0, elapsed_s / SOAK_RAMP_S)
    return max(1, math.ceil(load.users * ramp)), load.spawn_rate
