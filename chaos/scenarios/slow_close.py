"""Database connections linger 2 s before closing: a peer slow to release sockets."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

DELAY_MS = 2000

SCENARIO = Scenario(
    "slow_close",
    f"database connections close {DELAY_MS} ms late",
    faults=(Fault("turso", toxics=(Toxic("slow_close", "downstream", {"delay": DELAY_MS}),)),),
    expect=Expectation(naive_passes=True),
)
