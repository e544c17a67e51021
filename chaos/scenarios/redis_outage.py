"""The shared cache is unreachable for 3 s (proxy disabled): requests must not notice.

Writes that could not invalidate are retried once Redis is back, and every worker
reconnects, which retires whatever was cached before, so reads stay the clients' own.
"""

from chaos.scenarios.base import Expectation, Fault, Outage, Scenario

OUTAGE_S = 3.0

SCENARIO = Scenario(
    "redis_outage",
    f"app -> Redis link down for {OUTAGE_S:g} s",
    faults=(Fault("redis", outages=(Outage(0.0, OUTAGE_S),)),),
    expect=Expectation(naive_passes=True),
)
