"""Each database connection is closed after 2 KB: a middlebox cutting long-lived flows.

2 KB, not 4: a batch create's answer (ids only, since the batch key is recorded) fits in
4 KB, so the naive app's one connection per request was never cut after its write landed.
"""

from chaos.scenarios.base import Fault, Scenario
from harness.toxiproxy import Toxic

LIMIT_BYTES = 2048

SCENARIO = Scenario(
    "limit_data",
    f"database connections closed after {LIMIT_BYTES} bytes downstream",
    faults=(Fault("turso", toxics=(Toxic("limit_data", "downstream", {"bytes": LIMIT_BYTES}),)),),
    # No availability bound: a response larger than the limit is cut on every connection,
    # so no retry can save it; the app must answer 503, which the errors invariant checks.
)
