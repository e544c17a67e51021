"""The custom Locust arguments, registered once so they show in the web UI's form as well."""

from __future__ import annotations

from locust import events
from locust.argument_parser import LocustArgumentParser

from loadtests.catalog import SHAPE_NAMES, WORKLOAD_NAMES
from loadtests.route_blocks import DEFAULT_BLOCK_S, DEFAULT_CYCLES, parse_block_s

DEFAULT_WORKLOAD = "mixed"
DEFAULT_SHAPE = "constant"


@events.init_command_line_parser.add_listener
def add_arguments(parser: LocustArgumentParser) -> None:
    # choices make the web UI's start form offer them as a drop-down.
    parser.add_argument(
        "--workload", default=DEFAULT_WORKLOAD, choices=WORKLOAD_NAMES, help="which users to run"
    )
    parser.add_argument("--shape", default=DEFAULT_SHAPE, choices=SHAPE_NAMES, help="load shape")
    parser.add_argument("--first-id", type=int, default=1, help="lowest seeded post id")
    parser.add_argument("--last-id", type=int, default=1000, help="highest seeded post id")
    parser.add_argument(
        "--commented-posts", type=int, default=200, help="posts with seeded comments"
    )
    parser.add_argument("--think-ms", type=float, default=50.0, help="closed-model wait per task")
    parser.add_argument(
        "--route-block-s",
        type=parse_block_s,
        default=(DEFAULT_BLOCK_S,),
        help="gate workload: seconds each route gets in turn (one for all, or one per route)",
    )
    parser.add_argument(
        "--route-cycles",
        type=int,
        default=DEFAULT_CYCLES,
        help="gate workload: rounds through every route",
    )
    parser.add_argument("--arrival-rate", type=float, default=50.0, help="open model: requests/s")
    parser.add_argument(
        "--ab-host",
        default="",
        help="a second app: users alternate requests between --host (A) and it (B)",
        include_in_web_ui=False,
    )
    parser.add_argument(
        "--exact-out", default="", help="exact percentiles JSON", include_in_web_ui=False
    )
