"""The database link carries only 16 KB/s each way: a congested or throttled path."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

RATE_KB_PER_S = 16

SCENARIO = Scenario(
    "bandwidth",
    f"database link capped at {RATE_KB_PER_S} KB/s per connection and direction",
    faults=(
        Fault(
            "turso",
            toxics=(
                Toxic("bandwidth", "downstream", {"rate": RATE_KB_PER_S}),
                Toxic("bandwidth", "upstream", {"rate": RATE_KB_PER_S}),
            ),
        ),
    ),
    expect=Expectation(naive_passes=True),
)
