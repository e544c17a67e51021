"""The database server admits few requests at once and refuses the rest with 429.

Turso's free tier limits connections and request rates (the guide's gotcha 2); here
the local server's `--max-concurrent-requests` is set low for the whole run, so the
app meets 429s from the start. Over ws there is no 429: a stream opened beyond the limit
makes the server (sqld and the local one) drop the whole socket, failing every call in
flight on it. The hardened app halves its DB slots on either sign (once for calls in flight
together), retries the refused calls, and so settles just below the server's limit; a call
still refused at its deadline ends as 503 with Retry-After, never as a 500.
"""

from chaos.scenarios.base import Expectation, Scenario

MAX_CONCURRENT_REQUESTS = 2

SCENARIO = Scenario(
    "rate_limited",
    f"database server admits {MAX_CONCURRENT_REQUESTS} requests at once, 429 for the rest",
    server_args=("--max-concurrent-requests", str(MAX_CONCURRENT_REQUESTS)),
    sqld_args=("--max-concurrent-requests", str(MAX_CONCURRENT_REQUESTS)),
    # The limit holds for the whole run and leaves the app room for one call at a time: that
    # is enough for this load, so nearly every request must succeed, over http and ws alike.
    expect=Expectation(min_success_rate=0.99),
)
