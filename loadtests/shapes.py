"""Load shapes (ramp, step, spike, soak, constant) as LoadTestShape subclasses.

Each reads --users, --spawn-rate and --run-time (`use_common_options`), so one set of
flags sizes every shape; `plan` is the pure part: elapsed seconds -> (users, spawn rate).
"""

from __future__ import annotations

from abc import abstractmethod

from locust import LoadTestShape, User

from loadtests import plans
from loadtests.plans import Load, Tick
from loadtests.users import WORKLOADS

# Users, spawn rate and the user classes to run; None stops the run.
WorkloadTick = tuple[int, float, list[type[User]]] | None


class OptionShape(LoadTestShape):
    """A shape sized by the common options; subclasses give `plan`."""

    abstract = True
    use_common_options = True

    @staticmethod
    @abstractmethod
    def plan(elapsed_s: float, load: Load) -> Tick:
        """Users and spawn rate at `elapsed_s`, or None to stop."""

    def tick(self) -> Tick:
        load = Load.from_options(self.runner.environment.parsed_options)
        return self.plan(self.get_run_time(), load)


class ConstantShape(OptionShape):
    """--users from the start (reached at --spawn-rate) until --run-time."""

    plan = staticmethod(plans.constant)


class RampShape(OptionShape):
    """From one user up to --users, linearly over the whole run."""

    plan = staticmethod(plans.ramp)


class StepShape(OptionShape):
    """Four equal steps up to --users, each held for a quarter of the run."""

    plan = staticmethod(plans.step)


class SpikeShape(OptionShape):
    """A quarter of --users, all of them in the run's middle fifth, then a quarter again."""

    plan = staticmethod(plans.spike)


class SoakShape(OptionShape):
    """A gentle ramp to --users, then held for the rest of a long run."""

    plan = staticmethod(plans.soak)


SHAPES: dict[str, type[OptionShape]] = {
    "constant": ConstantShape,
    "ramp": RampShape,
    "step": StepShape,
    "spike": SpikeShape,
    "soak": SoakShape,
}


class SelectedShape(LoadTestShape):
    """The shape --shape names, running the users --workload names: the locustfile's only shape.

    `tick` returns the user classes too (Locust's three-value form), so a workload picked
    in the web UI's form takes effect also with workers: the master dispatches exactly
    these classes, and every worker, keeping all classes, spawns whichever it is sent.
    """

    use_common_options = True

    def tick(self) -> WorkloadTick:
        options = self.runner.environment.parsed_options
        tick = SHAPES[options.shape].plan(self.get_run_time(), Load.from_options(options))
        return None if tick is None else (*tick, WORKLOADS[options.workload])
