"""Writers meeting a write lock held by another client, on the local server and on sqld.

Run: `.venv/bin/python -m microbench.write_lock_bench [--duration-s 3] [--json PATH]`
(`SQLD_BIN` adds the real sqld). Another client holds SQLite's write lock
(BEGIN IMMEDIATE, chaos.contention) 300 ms of every 400, over Hrana or on the database
file itself, while WRITERS clients insert rows with libsql-client over HTTP, straight
to the server: how long a write waits, and when the server answers SQLITE_BUSY.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import libsql_client

from chaos.contention import LockHolder, contending
from harness.settings import HarnessSettings
from harness.stack import local_turso, sqld
from harness.stats import LatencySummary, format_table, summaries_as_dict
from microbench.driver import Operation, closed_loop

HOLD_MS, PAUSE_MS = 300, 100
OVER_HRANA = LockHolder(HOLD_MS, PAUSE_MS)
ON_FILE = LockHolder(HOLD_MS, PAUSE_MS, kind="file")
BUSY_TIMEOUT_MS = 100
WRITERS = 4
MAX_REQUESTS = 100_000


@dataclass(frozen=True)
class Case:
    url: str
    holder: LockHolder
    db_file: str | None = None


@contextmanager
def cases(tmp: Path, settings: HarnessSettings) -> Iterator[dict[str, Case]]:
    """Each server and holder under test by name, with the server running."""
    found: dict[str, Case] = {}
    with ExitStack() as stack:
        args = ["--busy-timeout-ms", str(BUSY_TIMEOUT_MS)]
        local = stack.enter_context(local_turso(tmp / "local.db", tmp / "logs", extra_args=args))
        found["localturso, holder over Hrana"] = Case(local.http_url, OVER_HRANA)
        found[f"localturso, holder on the file (busy {BUSY_TIMEOUT_MS} ms)"] = Case(
            local.http_url, ON_FILE, local.db
        )
        if settings.sqld_bin is not None and settings.sqld_bin.exists():
            real = stack.enter_context(sqld(settings.sqld_bin, tmp / "sqld", tmp / "logs"))
            found["sqld, holder over Hrana"] = Case(real.http_url, OVER_HRANA)
        else:
            print("write_lock_bench: no SQLD_BIN, sqld skipped", file=sys.stderr)
        yield found


def _insert(client: libsql_client.Client, errors: Counter[str]) -> Operation:
    async def run(sequence: int) -> object:
        try:
            return await client.execute("INSERT INTO t (v) VALUES (?)", [sequence])
        except libsql_client.LibsqlError as error:
            errors[error.code] += 1
            raise

    return run


async def run_case(case: Case, duration_s: float) -> tuple[LatencySummary, Counter[str]]:
    errors: Counter[str] = Counter()
    clients = [libsql_client.create_client(case.url) for _ in range(WRITERS)]
    try:
        await clients[0].execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v)")
        async with contending(case.url, None, case.holder, case.db_file):
            summary = await closed_loop(
                [_insert(client, errors) for client in clients],
                duration_s=duration_s,
                max_requests=MAX_REQUESTS,
                warmup_s=0.2,
            )
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return summary, errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=3.0, help="measured seconds per case")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    rows: dict[str, LatencySummary] = {}
    codes: dict[str, dict[str, int]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="write-lock-bench-") as tmp_dir,
        cases(Path(tmp_dir), HarnessSettings()) as found,
    ):
        for name, case in found.items():
            rows[name], errors = asyncio.run(run_case(case, args.duration_s))
            codes[name] = dict(errors)
    print(format_table(rows))
    for name, errors in codes.items():
        print(f"{name}: errors {errors or 'none'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"latency": summaries_as_dict(rows), "errors": codes}))


if __name__ == "__main__":
    main()
