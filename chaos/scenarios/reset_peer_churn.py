"""Connections are recycled every 16 KB and one new connection in five is reset.

A reset on a kept-alive connection is rare once the pool has settled, because
Toxiproxy decides per connection; recycling them, as proxies and load balancers
do, keeps intermittent resets coming for the whole fault window.
"""

from chaos.scenarios.base import Expectation, Fault, Scenario
from harness.toxiproxy import Toxic

RECYCLE_BYTES = 16 * 1024
TOXICITY = 0.2

SCENARIO = Scenario(
    "reset_peer_churn",
    f"database connections recycled every {RECYCLE_BYTES // 1024} KB, {TOXICITY:.0%} of new"
    " ones reset",
    faults=(
        Fault(
            "turso",
            toxics=(
                Toxic("limit_data", "downstream", {"bytes": RECYCLE_BYTES}),
                Toxic("reset_peer", "upstream", {"timeout": 0}, toxicity=TOXICITY),
            ),
        ),
    ),
    expect=Expectation(min_success_rate=0.99),
)
