"""The database link flaps: five 0.5 s outages, 0.5 s apart."""

from chaos.scenarios.base import Fault, Outage, Scenario

FLAPS = 5
DOWN_S = 0.5
UP_S = 0.5

SCENARIO = Scenario(
    "flapping",
    f"{FLAPS} database outages of {DOWN_S:g} s, {UP_S:g} s apart",
    faults=(
        Fault(
            "turso",
            outages=tuple(Outage(i * (DOWN_S + UP_S), DOWN_S) for i in range(FLAPS)),
        ),
    ),
)
