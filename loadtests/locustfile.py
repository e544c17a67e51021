"""The one locustfile: `--workload` picks the users and `--shape` the load shape.

Run through `python -m stackbench` (which seeds posts and passes --first-id/--last-id), or by
hand: `locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 --workload ycsb-b`.
"""

from __future__ import annotations

import logging
from typing import Any

from locust import events
from locust.env import Environment

from chaos.panel import plugin as chaos_panel
from loadtests import options, recorder
from loadtests.shapes import SelectedShape
from loadtests.users import WORKLOADS
from loadtests.users.batch import BatchWriter
from loadtests.users.comments import PageWithCommentsReader
from loadtests.users.every_route import EveryRoute
from loadtests.users.open_reader import OpenReader
from loadtests.users.readers import Reader
from loadtests.users.writers import Writer
from loadtests.users.ycsb import YcsbA, YcsbB, YcsbC, YcsbD, YcsbE, YcsbF

# Locust finds users and shapes by scanning this module; name them so it sees every one.
__all__ = [
    "BatchWriter",
    "EveryRoute",
    "OpenReader",
    "PageWithCommentsReader",
    "Reader",
    "SelectedShape",
    "Writer",
    "YcsbA",
    "YcsbB",
    "YcsbC",
    "YcsbD",
    "YcsbE",
    "YcsbF",
    "chaos_panel",
    "options",
    "recorder",
]


class NoBrowserPrompt(logging.Filter):
    """Locust's banner says "press enter to open your default browser"; `make locust-ui`
    gives Locust no keyboard, so the banner keeps only where the UI is."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = record.msg.replace(", press enter to open your default browser", "")
        return True


logging.getLogger("locust.main").addFilter(NoBrowserPrompt())


class UnknownWorkloadError(ValueError):
    """--workload names no entry of WORKLOADS."""


@events.init.add_listener
@events.test_start.add_listener
def check_workload(environment: Environment, **_: Any) -> None:
    """Refuse a --workload that names no workload, at start and at each test start.

    The classes themselves come from SelectedShape's tick; user_classes keeps every class,
    so a worker can spawn whatever the master dispatches.
    """
    name = environment.parsed_options.workload if environment.parsed_options else "mixed"
    if name not in WORKLOADS:
        raise UnknownWorkloadError(f"unknown --workload {name!r}; one of {', '.join(WORKLOADS)}")
