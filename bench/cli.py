"""Shared by the bench command lines: one-line errors (bad flags, failed set-up), checks."""

from __future__ import annotations

import argparse
from typing import NoReturn

from bench.seeding import SeedError
from harness.processes import ProcessStartError
from harness.toxiproxy import ToxiproxyNotFoundError

# What can go wrong before anything is measured: a server that does not start, a missing
# tool, a seed that fails. Each becomes one line, not a traceback.
SETUP_ERRORS = (ProcessStartError, ToxiproxyNotFoundError, SeedError, FileNotFoundError)


class OneLineParser(argparse.ArgumentParser):
    """Bad input gets one line on stderr and exit status 2, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative integer")
    return int(text)


def one_line(error: BaseException) -> str:
    """The first line of a set-up error; a server that died during start adds its log tail
    after it, and that log stays in the run's directory."""
    return (str(error).splitlines() or [type(error).__name__])[0]
