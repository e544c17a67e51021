"""The database is unreachable for 3 s (proxy disabled), then comes back."""

from chaos.scenarios.base import Fault, Outage, Scenario

OUTAGE_S = 3.0

SCENARIO = Scenario(
    "outage",
    f"database link down for {OUTAGE_S:g} s",
    faults=(Fault("turso", outages=(Outage(0.0, OUTAGE_S),)),),
)
