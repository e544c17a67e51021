"""Names of the workloads and shapes, for command lines that must not import Locust.

Importing Locust monkey-patches the standard library with gevent, so the bench runner
(which starts servers and uses asyncio) reads these names instead of the class tables;
a test keeps them equal to `loadtests.users.WORKLOADS` and `loadtests.shapes.SHAPES`.
"""

from __future__ import annotations

WORKLOAD_NAMES = (
    "readers",
    "writers",
    "batch",
    "comments",
    "ycsb-a",
    "ycsb-b",
    "ycsb-c",
    "ycsb-d",
    "ycsb-e",
    "ycsb-f",
    "mixed",
    "open-readers",
    "gate",
)
SHAPE_NAMES = ("constant", "ramp", "step", "spike", "soak")
