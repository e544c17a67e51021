"""A full database server that says when to come back (Retry-After: 1 on its 429s).

The hardened app does not retry sooner than it was told: with a 1 s request deadline
a refused call is answered at once with 503 and the server's Retry-After, instead of
retrying into a server that asked for a pause. Over ws a refusal is a dropped socket,
which carries no Retry-After: there the scenario is rate_limited again.
"""

from chaos.scenarios.base import Scenario
from chaos.scenarios.rate_limited import MAX_CONCURRENT_REQUESTS

RETRY_AFTER_S = 1

SCENARIO = Scenario(
    "rate_limited_retry_after",
    f"database server admits {MAX_CONCURRENT_REQUESTS} requests at once; 429 with"
    f" Retry-After: {RETRY_AFTER_S}",
    server_args=(
        "--max-concurrent-requests",
        str(MAX_CONCURRENT_REQUESTS),
        "--retry-after-s",
        str(RETRY_AFTER_S),
    ),
)
