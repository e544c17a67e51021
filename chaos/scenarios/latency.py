"""The database answers 50 ms (+-10 ms) late: an edge region far from the app."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

LATENCY_MS = 50
JITTER_MS = 10

SCENARIO = Scenario(
    "latency",
    f"{LATENCY_MS} ms +- {JITTER_MS} ms on every database response",
    faults=(
        Fault(
            "turso",
            toxics=(Toxic("latency", "downstream", {"latency": LATENCY_MS, "jitter": JITTER_MS}),),
        ),
    ),
    expect=Expectation(naive_passes=True),
)
