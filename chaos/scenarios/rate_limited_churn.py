"""429s from a full database server while the app's connections keep being recycled.

The server admits few requests at once (as in rate_limited) and, during the fault
window, every database connection is closed after 16 KB, so the app reconnects again
and again while being refused: a pool that does not survive churn shows it here.
"""

from chaos.scenarios.base import Fault, Scenario
from chaos.scenarios.rate_limited import MAX_CONCURRENT_REQUESTS
from harness.toxiproxy import Toxic

RECYCLE_BYTES = 16 * 1024

SCENARIO = Scenario(
    "rate_limited_churn",
    f"database server admits {MAX_CONCURRENT_REQUESTS} requests at once; connections"
    f" recycled every {RECYCLE_BYTES // 1024} KB",
    faults=(Fault("turso", toxics=(Toxic("limit_data", "downstream", {"bytes": RECYCLE_BYTES}),)),),
    server_args=("--max-concurrent-requests", str(MAX_CONCURRENT_REQUESTS)),
    sqld_args=("--max-concurrent-requests", str(MAX_CONCURRENT_REQUESTS)),
)
