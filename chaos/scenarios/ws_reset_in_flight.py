"""The database socket is reset mid-request while other requests are in flight on it.

Each connection, the established WebSocket included, is reset 200 ms after it next carries
data: the upstream stalls (so requests pile up on the socket), then the connection is cut
with a TCP RST, failing every call in flight at once. New connections meet the same fate, so
the fault is total for its window (no success rate is asked of it): the app must answer each
request within its deadline and reconnect once it is gone. Over http the same toxic resets
each kept-alive connection with its requests in flight.
"""

from chaos.scenarios.base import Fault, Scenario
from harness.toxiproxy import Toxic

RESET_AFTER_MS = 200

SCENARIO = Scenario(
    "ws_reset_in_flight",
    f"each database connection reset {RESET_AFTER_MS} ms after it next carries data, with"
    " requests in flight (reset_peer, timeout)",
    faults=(
        Fault("turso", toxics=(Toxic("reset_peer", "upstream", {"timeout": RESET_AFTER_MS}),)),
    ),
)
