"""The app is killed with SIGKILL mid-load and restarted on the same port."""

from chaos.process_faults import ProcessFault
from chaos.scenarios.base import Expectation, Scenario

DOWN_S = 1.0

SCENARIO = Scenario(
    "kill_app",
    f"app kill -9, restarted after {DOWN_S:g} s",
    process_faults=(ProcessFault("app", "kill", start_s=0.5, duration_s=DOWN_S),),
    # Requests in flight when it dies, and sent while it is down, get no answer at all.
    # The naive app ignores If-Match: once it is back, an editor's update made while it
    # was down is sent again over the other editor's acknowledged one (a lost update).
    expect=Expectation(unanswered_allowed=True),
)
