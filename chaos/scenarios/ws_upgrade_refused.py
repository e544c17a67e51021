"""The database server closes each WebSocket after 2 s and refuses the reconnect for 1 s.

The refused upgrade is a 503 with Retry-After: 2, as a server shedding a reconnect storm
answers. The hardened app honours it over ws as over http: never sooner, and with the
request's 1 s deadline shorter than the wait it answers 503 at once, passing on the server's
Retry-After. The naive app opens a client per request, so no socket of its lives 2 s to be
closed, and it is never refused: it passes.
"""

from chaos.scenarios.base import Expectation, Scenario

CLOSE_AFTER_S = 2
REFUSE_S = 1
RETRY_AFTER_S = 2

SCENARIO = Scenario(
    "ws_upgrade_refused",
    f"database WebSockets closed after {CLOSE_AFTER_S} s, reconnects refused for {REFUSE_S} s"
    f" (503, Retry-After: {RETRY_AFTER_S})",
    server_args=(
        "--ws-close-after-s",
        str(CLOSE_AFTER_S),
        "--ws-refuse-after-close-s",
        str(REFUSE_S),
        "--retry-after-s",
        str(RETRY_AFTER_S),
    ),
    expect=Expectation(naive_passes=True),
    ws_only=True,
)
