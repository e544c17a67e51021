"""Seeds a fresh stack's database before measuring, the same way whatever app mode is measured,
and with the code of the app that stack runs: each side of the A/B gate gets its own schema.

The seed goes through the reference app's own hardened path (its repository, retries on
transient faults, idempotent post batches) but in this process and straight to the database,
around every proxy: a naive app under test, which turns any database hiccup into a 500, can no
longer abort a run before it starts. `python -m stackbench.seeding POSTS COMMENTED` does the same
from a shell for TURSO_DATABASE_URL (compose.yaml's `seed` service) and prints the ids;
`--app-code DIR` takes the `reference_app` package from the checkout DIR instead of this one.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from types import ModuleType

from harness.cli import OneLineParser, non_negative_int, positive_int
from harness.settings import PROJECT_ROOT
from harness.stack import Stack
from loadtests.ids import IdSpace

SEED_TIMEOUT_S = 300.0
APP_PACKAGE = "reference_app"


class SeedError(RuntimeError):
    """Seeding failed; the message is one line fit to print as it is."""


def seed(live: Stack, posts: int, commented: int) -> IdSpace:
    """`posts` posts, then three comments on each of the first `commented`; their ids.

    Seeded by the code of the app `live` runs (live.app.code_dir), so a baseline checkout's
    database gets the baseline's schema, not this tree's (whose new index would otherwise
    land on both sides of a comparison). The seeding driver itself is this tree's, the same
    for both sides. Runs as a child process (`python -m stackbench.seeding`) so that it
    trusts the local server's certificate through SSL_CERT_FILE exactly as the app does;
    aiohttp reads it at import.
    """
    env = {**os.environ, "TURSO_DATABASE_URL": live.db_url}
    env.pop("TURSO_AUTH_TOKEN", None)
    if live.db_auth_token:
        env["TURSO_AUTH_TOKEN"] = live.db_auth_token
    if live.turso and live.turso.tls:
        env["SSL_CERT_FILE"] = str(live.turso.tls.cert)
    argv = [sys.executable, "-m", "stackbench.seeding", str(posts), str(commented)]
    if live.app.code_dir:
        argv += ["--app-code", str(live.app.code_dir)]
    try:
        done = subprocess.run(
            argv,
            cwd=PROJECT_ROOT,  # this tree's driver, whatever directory the caller is in
            env=env,
            capture_output=True,
            text=True,
            timeout=SEED_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SeedError(f"seeding {live.database.server} took over {SEED_TIMEOUT_S:.0f}s") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise SeedError(f"seeding {live.database.server} failed: {detail}")
    return IdSpace(**json.loads(done.stdout))


def parse_args(argv: list[str]) -> tuple[int, int, Path | None]:
    parser = OneLineParser(
        prog="python -m stackbench.seeding",
        description="Seed TURSO_DATABASE_URL (and TURSO_AUTH_TOKEN) and print the ids as JSON.",
    )
    parser.add_argument("posts", type=positive_int)
    parser.add_argument("commented", type=non_negative_int, help="posts with three comments")
    parser.add_argument(
        "--app-code", type=Path, help=f"the checkout whose {APP_PACKAGE} package seeds"
    )
    args = parser.parse_args(argv)
    if args.commented > args.posts:
        parser.error(f"{args.commented} commented posts out of {args.posts} posts")
    if args.app_code and not (args.app_code / APP_PACKAGE / "__init__.py").is_file():
        parser.error(f"--app-code {args.app_code}: no {APP_PACKAGE} package there")
    return args.posts, args.commented, args.app_code


class _AppPackageFrom(importlib.abc.MetaPathFinder):
    """Finds reference_app and its modules in one checkout and nowhere else: the project's
    editable install would otherwise fill a module that checkout lacks from another tree."""

    def __init__(self, code_dir: Path) -> None:
        self.code_dir = code_dir

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != APP_PACKAGE and not name.startswith(f"{APP_PACKAGE}."):
            return None
        spec = PathFinder.find_spec(name, [str(self.code_dir)] if path is None else path)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return spec


def use_app_package_from(code_dir: Path) -> None:
    """Every later `import reference_app...` loads that checkout's package (and only it:
    harness, loadtests and this driver stay this tree's)."""
    sys.meta_path.insert(0, _AppPackageFrom(code_dir))


def main(argv: list[str]) -> int:
    """`python -m stackbench.seeding POSTS COMMENTED`: seed TURSO_DATABASE_URL, print the ids."""
    posts, commented, app_code = parse_args(argv)
    try:
        if app_code:
            use_app_package_from(app_code)
        # Imported here, after the choice of checkout: it imports the app's package.
        from stackbench.seed_rows import seed_rows

        ids = asyncio.run(seed_rows(posts, commented))
    except Exception as error:
        # The app's error tree carries the database's own message; one line of it. A checkout
        # too old for this driver fails here too (an import or a call it lacks), named.
        where = f"{APP_PACKAGE} of {app_code}: " if app_code else ""
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{where}{message}", file=sys.stderr)
        return 1
    print(json.dumps(vars(ids)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
