"""Clients are 100 ms (+-20 ms) from the app: the load -> app link is slow, not the DB."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

LATENCY_MS = 100
JITTER_MS = 20

SCENARIO = Scenario(
    "api_latency",
    f"{LATENCY_MS} ms +- {JITTER_MS} ms between the load and the app",
    faults=(
        Fault(
            "api",
            toxics=(Toxic("latency", "downstream", {"latency": LATENCY_MS, "jitter": JITTER_MS}),),
        ),
    ),
    # The client's clock includes the injected latency, which the app cannot shorten.
    expect=Expectation(latency_allowance_ms=LATENCY_MS + JITTER_MS, naive_passes=True),
)
