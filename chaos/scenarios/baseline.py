"""No fault: the reference every other scenario is read against."""

from chaos.scenarios.base import Expectation, Scenario

SCENARIO = Scenario("baseline", "no fault", expect=Expectation(naive_passes=True))
