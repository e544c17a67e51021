"""The app's WebSocket goes half-open: the server answers nothing and never closes it.

As when a NAT or load balancer forgets a connection: no reset, no close, no answer, while a
new connection works. The local server makes each socket go silent 2 s after its upgrade.
libsql-client replaces a connection only once it has failed, so without the app's own help
every later call waits on the dead socket. The hardened app retires a connection whose call
timed out and retries on a fresh one. The naive app opens a client per request, so none of
its sockets lives long enough to go silent: it passes, at the price of a connect per request.

A toxic cannot do this: Toxiproxy's timeout toxic also holds every new connection, and on
removal closes the ones it held, so `blackhole` ends in a close that libsql-client notices.
"""

from chaos.scenarios.base import Expectation, Scenario

SILENT_AFTER_S = 2

SCENARIO = Scenario(
    "ws_half_open",
    f"each database WebSocket goes silent (half-open) {SILENT_AFTER_S} s after its upgrade",
    server_args=("--ws-silent-after-s", str(SILENT_AFTER_S)),
    expect=Expectation(min_success_rate=0.9, naive_passes=True),
    ws_only=True,
)
