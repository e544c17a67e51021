"""The database server expires idle streams after 100 ms instead of 10 s.

libsql-client opens a fresh stream per call and closes it in the same burst of messages over
WebSocket, and over http uses the stateless /v1 endpoints, so neither app holds a stream idle:
both must pass. The scenario guards that, should the app ever keep a stream (a transaction)
open across awaits. (Neither sqld nor the local server expires WebSocket streams.)
"""

from chaos.scenarios.base import Expectation, Scenario

EXPIRY_S = 0.1

SCENARIO = Scenario(
    "stream_expiry",
    f"database server expires streams idle for {EXPIRY_S * 1000:g} ms",
    server_args=("--stream-expiry-s", str(EXPIRY_S)),
    expect=Expectation(naive_passes=True),
)
