"""No fault: the reference every other scenario is read against."""

from chaos.scenarios.base import Scenario

SCENARIO = Scenario("baseline", "no fault")
