"""Every database connection is reset (TCP RST) as soon as it carries data."""

from chaos.scenarios.base import Fault, Scenario
from harness.toxiproxy import Toxic

SCENARIO = Scenario(
    "reset_peer",
    "every database connection reset on first data (reset_peer, timeout=0)",
    faults=(Fault("turso", toxics=(Toxic("reset_peer", "upstream", {"timeout": 0}),)),),
)
