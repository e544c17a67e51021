"""CPU per request of the app and the local server: a git revision against the work tree.

Run: `.venv/bin/python -m microbench.app_ab --base REV [--rounds 5] [--duration-s 2]`.
Both variants run at once, each as its own uvicorn app and local Turso server (started from
`git archive REV` for the base), and are measured in alternating rounds (base, work, base,
work, ...), so a neighbour's load drifts over both alike. CPU comes from each process's own
counters over each round; the table gives the median per variant and work / base.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import aiohttp

from harness.cpu import CpuSampler
from harness.processes import ManagedProcess, free_port, http_ready, running
from harness.settings import PROJECT_ROOT
from microbench.app_bench import SEED_POSTS, Request, create_post, get_post, seed
from microbench.driver import closed_loop

LOOPBACK = "127.0.0.1"
PACKAGES = ("reference_app", "localturso")
CLIENTS = 16
MAX_REQUESTS = 200_000


@dataclass(frozen=True)
class Case:
    name: str
    request: Request
    app_env: dict[str, str]


CASES = (
    Case("GET /posts/{id} no cache", get_post, {"APP_CACHE_ENABLED": "false"}),
    Case("POST /posts unbatched", create_post, {"APP_BATCH_ENABLED": "false"}),
    Case("POST /posts batched", create_post, {}),
)


@dataclass
class Variant:
    """One source tree's app and server, and the per-round CPU µs/request of each."""

    label: str
    app_url: str
    sampler: CpuSampler
    rounds: dict[str, list[float]] = field(default_factory=dict)


def export(revision: str, into: Path) -> Path:
    """The packages as they were at `revision`, unpacked under `into`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, *PACKAGES],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _process(
    name: str, argv: list[str], ready: str, tree: Path, logs: Path, env: dict[str, str]
) -> ManagedProcess:
    # cwd first on sys.path for `python -m`: the tree's packages win over the installed ones.
    return ManagedProcess(
        name=name,
        argv=argv,
        ready=http_ready(ready),
        log_path=logs / f"{name}-{tree.name}.log",
        env={"PYTHONPATH": str(tree), **env},
        cwd=tree,
    )


@contextlib.contextmanager
def variant_stack(
    tree: Path, logs: Path, app_env: dict[str, str]
) -> Iterator[tuple[str, dict[str, int]]]:
    """A local server on a fresh database and the app in front of it, both from `tree`."""
    with tempfile.TemporaryDirectory(prefix="ab-db-") as db_dir:
        db_port, app_port = free_port(LOOPBACK), free_port(LOOPBACK)
        db_argv = [
            "localturso",
            "--host",
            LOOPBACK,
            "--port",
            str(db_port),
            "--db",
            f"{db_dir}/x.db",
        ]
        app_argv = ["uvicorn", "--factory", "reference_app.main:create_app", "--no-access-log"]
        db = _process(
            "localturso",
            [sys.executable, "-m", *db_argv],
            f"http://{LOOPBACK}:{db_port}/health",
            tree,
            logs,
            {},
        )
        app = _process(
            "app",
            [sys.executable, "-m", *app_argv, "--host", LOOPBACK, "--port", str(app_port)],
            f"http://{LOOPBACK}:{app_port}/healthz",
            tree,
            logs,
            {"TURSO_DATABASE_URL": f"http://{LOOPBACK}:{db_port}", **app_env},
        )
        with running(db), running(app):
            yield f"http://{LOOPBACK}:{app_port}", {"app": app.pid, "database": db.pid}


async def one_round(variant: Variant, case: Case, duration_s: float) -> None:
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def run(sequence: int) -> None:
            await case.request(session, variant.app_url, sequence)

        before = variant.sampler.sample()
        summary = await closed_loop(
            [run] * CLIENTS, duration_s=duration_s, max_requests=MAX_REQUESTS, warmup_s=0
        )
        after = variant.sampler.sample()
    if summary.errors:
        raise RuntimeError(f"{variant.label} {case.name}: {summary.errors} errors")
    for name in after.cpu_s:
        used_s = after.cpu_s[name] - before.cpu_s[name]
        variant.rounds.setdefault(name, []).append(1e6 * used_s / summary.requests)
    variant.rounds.setdefault("req/s", []).append(summary.rps)
    variant.rounds.setdefault("p50 ms", []).append(summary.p50_ms)


async def compare(variants: list[Variant], case: Case, rounds: int, duration_s: float) -> None:
    for variant in variants:
        async with aiohttp.ClientSession() as session:
            await seed(session, variant.app_url)
        await one_round(variant, case, 0.5)  # warm-up, discarded
        variant.rounds.clear()
    for _ in range(rounds):
        for variant in variants:
            await one_round(variant, case, duration_s)


def format_case(case: Case, base: Variant, work: Variant) -> str:
    lines = [f"{case.name} (c={CLIENTS}, median of {len(base.rounds['app'])} rounds)"]
    for name in ("app", "database", "req/s", "p50 ms"):
        b, w = statistics.median(base.rounds[name]), statistics.median(work.rounds[name])
        unit = " µs/req" if name in ("app", "database") else ""
        # Spread of the rounds within each variant: how steady this figure is on this machine.
        spread = f"cv base {cv(base.rounds[name]):.0%} work {cv(work.rounds[name]):.0%}"
        lines.append(
            f"  {name:<9} base {b:>7.1f}  work {w:>7.1f}{unit:<7}  {w / b:>5.2f}x  {spread}"
        )
    return "\n".join(lines)


def cv(values: list[float]) -> float:
    """Coefficient of variation: standard deviation over mean."""
    return statistics.stdev(values) / statistics.mean(values) if len(values) > 1 else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="HEAD", help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration-s", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--cases", default="", help="comma-separated substrings of case names")
    args = parser.parse_args(argv)
    wanted = [c for c in args.cases.split(",") if c]
    cases = [c for c in CASES if not wanted or any(w in c.name for w in wanted)]
    with tempfile.TemporaryDirectory(prefix="app-ab-") as tmp:
        base_tree = export(args.base, Path(tmp) / "base")
        for case in cases:
            with (
                variant_stack(base_tree, Path(tmp) / "logs", case.app_env) as (base_url, base_pids),
                variant_stack(PROJECT_ROOT, Path(tmp) / "logs", case.app_env) as (work_url, pids),
            ):
                base = Variant("base", base_url, CpuSampler(base_pids))
                work = Variant("work", work_url, CpuSampler(pids))
                asyncio.run(compare([base, work], case, args.rounds, args.duration_s))
            print(format_case(case, base, work), flush=True)
    print(f"base = {args.base}, work = the work tree; {SEED_POSTS} posts seeded per variant")


if __name__ == "__main__":
    main()
