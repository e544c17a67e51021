"""What every command line shares: one line per user error (exit 2), naming the make
variable the user typed beside the flag, and no traceback unless HARNESS_DEBUG=1.

Standard library only, so it still answers when run with a Python that lacks the
project's packages (`run make setup`).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

DEBUG_ENV = "HARNESS_DEBUG"  # read before any settings object can exist: a failing one
USAGE_ERROR = 2
INTERRUPTED = 130
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
MAX_PORT = 65535
SETUP_HINT = "run `make setup`, then use .venv/bin/python (or `source .venv/bin/activate`)"


class UserError(Exception):
    """Something the user can fix; the message says what to do, in one line."""


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false", "no")


def with_make_names(message: str, make_variables: Mapping[str, str]) -> str:
    """argparse's "argument --duration: ..." as "DURATION (--duration): ...", so a user who
    typed `make bench DURATION=soon` sees the name they typed."""
    message = message.removeprefix("argument ")

    def name(match: re.Match[str]) -> str:
        flag = match.group(1)
        variable = make_variables.get(flag)
        return f"{variable} ({flag})" if variable else flag

    return FLAG.sub(name, message, count=0)


class OneLineParser(argparse.ArgumentParser):
    """Bad input gets one line on stderr and exit status 2, not a usage dump.

    `make_variables` maps flags to the Makefile variables that set them (--duration:
    DURATION); errors name both.
    """

    def __init__(self, *args: Any, make_variables: Mapping[str, str] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.make_variables = dict(make_variables or {})

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {with_make_names(message, self.make_variables)}\n")


def make_names(*flags: str) -> dict[str, str]:
    """--spawn-rate -> SPAWN_RATE, for flags the Makefile passes under that name."""
    return {flag: flag.removeprefix("--").replace("-", "_").upper() for flag in flags}


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative integer")
    return int(text)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def positive_number(text: str) -> float:
    """A rate such as Locust's spawn rate: Locust itself takes 0 and then never starts."""
    if _number(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return float(text)


def non_negative_number(text: str) -> float:
    if _number(text) < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative number")
    return float(text)


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-{MAX_PORT})")
    return int(text)


def cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port right now ("Address already in use"), or
    None. With SO_REUSEADDR, as servers bind, so a port in TIME_WAIT is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return None


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _settings_error(error: Exception) -> str | None:
    """A pydantic ValidationError (a bad environment variable) as "NAME: what is wrong"."""
    errors = getattr(error, "errors", None)
    if type(error).__name__ != "ValidationError" or not callable(errors):
        return None
    first = errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())).upper()
    return f"{where}={first.get('input')!r}: {first.get('msg')}"


def run(prog: str, main: Callable[[], int], *, fast_exit: bool = False) -> NoReturn:
    """Run a command's main and exit: user errors as one line with status 2, Ctrl-C as 130,
    anything else as one line with status 1; HARNESS_DEBUG=1 lets the traceback through.

    `fast_exit` skips the interpreter's teardown (about a second on a busy machine once
    matplotlib is loaded) for a command that has written and closed everything by then.
    """
    try:
        code = main()
    except KeyboardInterrupt:
        code = INTERRUPTED
    except UserError as error:
        if debugging():
            raise
        print(f"{prog}: {error}", file=sys.stderr)
        code = USAGE_ERROR
    except ModuleNotFoundError as error:
        if debugging():
            raise
        print(f"{prog}: no module named {error.name!r}: {SETUP_HINT}", file=sys.stderr)
        code = USAGE_ERROR
    except Exception as error:
        if debugging():
            raise
        settings = _settings_error(error)
        if settings:
            print(f"{prog}: {settings}", file=sys.stderr)
            code = USAGE_ERROR
        else:
            print(
                f"{prog}: {type(error).__name__}: {first_line(error)}"
                f" ({DEBUG_ENV}=1 shows the traceback)",
                file=sys.stderr,
            )
            code = 1
    if fast_exit:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
