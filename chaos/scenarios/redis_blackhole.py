"""The shared cache goes silent (timeout toxic, timeout 0): every cache call hangs.

Each one is cut off at APP_REDIS_TIMEOUT_MS and the request goes to the database, so
the fault costs latency within the deadline, never an error or a stale read.
"""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

SCENARIO = Scenario(
    "redis_blackhole",
    "app -> Redis link drops all data without closing (timeout toxic, timeout=0)",
    faults=(Fault("redis", toxics=(Toxic("timeout", "upstream", {"timeout": 0}),)),),
    expect=Expectation(naive_passes=True),
)
