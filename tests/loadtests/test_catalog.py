"""The Locust-free name lists match the class tables the locustfile uses."""

from __future__ import annotations

import json
import subprocess
import sys

from harness.settings import PROJECT_ROOT
from loadtests.catalog import SHAPE_NAMES, WORKLOAD_NAMES

# Run apart: importing Locust monkey-patches this process's standard library.
LIST_TABLES = (
    "import json; from loadtests.users import WORKLOADS; from loadtests.shapes import SHAPES;"
    "print(json.dumps([list(WORKLOADS), list(SHAPES)]))"
)


def test_names_match_the_tables() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LIST_TABLES],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    workloads, shapes = json.loads(result.stdout)

    assert sorted(workloads) == sorted(WORKLOAD_NAMES)
    assert sorted(shapes) == sorted(SHAPE_NAMES)
