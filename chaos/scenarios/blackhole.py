"""The database goes silent: data is dropped and connections hang open (timeout 0)."""

from chaos.scenarios.base import Fault, Scenario
from harness.toxiproxy import Toxic

SCENARIO = Scenario(
    "blackhole",
    "database link drops all data without closing (timeout toxic, timeout=0)",
    faults=(Fault("turso", toxics=(Toxic("timeout", "upstream", {"timeout": 0}),)),),
)
