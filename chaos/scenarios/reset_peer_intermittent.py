"""One database connection in five is reset: the transient fault retries exist for."""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

TOXICITY = 0.2

SCENARIO = Scenario(
    "reset_peer_intermittent",
    f"reset_peer on a random {TOXICITY:.0%} of database connections",
    faults=(
        Fault(
            "turso",
            toxics=(Toxic("reset_peer", "upstream", {"timeout": 0}, toxicity=TOXICITY),),
        ),
    ),
    expect=Expectation(min_success_rate=0.99),
)
