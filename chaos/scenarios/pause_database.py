"""The database server is frozen with SIGSTOP, then thawed with SIGCONT: a stalled server."""

from chaos.process_faults import ProcessFault
from chaos.scenarios.base import Scenario

PAUSED_S = 2.0

SCENARIO = Scenario(
    "pause_database",
    f"database server SIGSTOP for {PAUSED_S:g} s, then SIGCONT",
    process_faults=(ProcessFault("database", "pause", start_s=0.5, duration_s=PAUSED_S),),
)
