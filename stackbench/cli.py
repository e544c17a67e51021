"""What the bench command lines share: what can go wrong before anything is measured (a
server that does not start, a seed that fails), each one line naming the logs; the parser
and checks come from harness.cli, where a user's own mistakes are UserError, exit 2."""

from __future__ import annotations

from harness.cli import (
    OneLineParser,
    non_negative_int,
    non_negative_number,
    positive_int,
    positive_number,
)
from harness.cli import first_line as one_line
from harness.processes import ProcessStartError
from stackbench.seeding import SeedError

SETUP_ERRORS = (ProcessStartError, SeedError)
__all__ = [
    "SETUP_ERRORS",
    "OneLineParser",
    "non_negative_int",
    "non_negative_number",
    "one_line",
    "positive_int",
    "positive_number",
]
