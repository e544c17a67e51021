"""The database server is stopped (SIGTERM) and restarted on the same data under open sockets.

A graceful stop, as a deploy does: the server closes its open WebSockets (or HTTP
connections) on the way out, then is down for 1 s. Every call in flight on the old socket
fails; the app must reconnect once the server is back.
"""

from chaos.process_faults import ProcessFault
from chaos.scenarios.base import Scenario

DOWN_S = 1.0

SCENARIO = Scenario(
    "restart_database",
    f"database server SIGTERM under open connections, restarted after {DOWN_S:g} s",
    process_faults=(ProcessFault("database", "terminate", start_s=0.5, duration_s=DOWN_S),),
)
