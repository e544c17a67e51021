"""The database server is killed with SIGKILL and restarted on the same data and port."""

from chaos.process_faults import ProcessFault
from chaos.scenarios.base import Scenario

DOWN_S = 1.0

SCENARIO = Scenario(
    "kill_database",
    f"database server kill -9, restarted on the same data after {DOWN_S:g} s",
    process_faults=(ProcessFault("database", "kill", start_s=0.5, duration_s=DOWN_S),),
)
