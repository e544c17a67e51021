"""Runs one benchmark: a fresh stack per app mode, seeded, under a profile, driven by Locust."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from harness.cpu import CpuSampler, Sample
from harness.processes import free_port, watched
from harness.settings import PROJECT_ROOT, HarnessSettings
from harness.stack import LOOPBACK, Stack, TlsFiles, stack
from loadtests.ids import IdSpace
from loadtests.route_blocks import DEFAULT_BLOCK_S, DEFAULT_CYCLES, format_block_s

LOCUSTFILE = PROJECT_ROOT / "loadtests" / "locustfile.py"
# On an interrupt Locust gets SIGINT and this long to stop its workers and write its CSVs
# and report (about 0.4 s alone, 1.8 s with workers); the stack stops after, all within 3 s.
LOCUST_STOP_S = 2.0
LOCUST_GRACE_S = 60.0  # start-up and shutdown on top of --run-time, before we give up on it
CPU_SAMPLE_S = 0.25
STOP_TIMEOUT_S = 5  # users finish their current request at the end instead of being cut off


@dataclass(frozen=True)
class LoadConfig:
    workload: str = "mixed"
    shape: str = "constant"
    users: int = 20
    spawn_rate: float = 10.0
    duration_s: int = 30
    workers: int = 0
    think_ms: float = 50.0
    arrival_rate: float = 50.0
    seed_posts: int = 1000
    commented_posts: int = 200
    route_block_s: tuple[float, ...] = (DEFAULT_BLOCK_S,)  # the gate workload: each route's turn
    route_cycles: int = DEFAULT_CYCLES  # ... and how many rounds through them


@dataclass
class LocustRun:
    """Where a Locust run wrote its files, and what it cost the machine."""

    out_dir: Path
    exit_code: int
    wall_s: float
    cpu_s: float
    exact: dict[str, Any] = field(default_factory=dict)
    # Cumulative CPU of every stack process and of Locust, sampled through the run.
    cpu_samples: list[Sample] = field(default_factory=list)


def app_env(mode: str) -> dict[str, str]:
    return {"APP_MODE": mode}


def locust_common_argv(
    config: LoadConfig, host: str, ids: IdSpace, out_dir: Path, ab_host: str = ""
) -> list[str]:
    """Locust on our locustfile with the load's options; headless or web UI is the caller's.

    `ab_host`: a second app; users alternate requests between `host` (A) and it (B).
    """
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    argv += ["--host", host, "-u", str(config.users), "-r", str(config.spawn_rate)]
    argv += ["--stop-timeout", str(STOP_TIMEOUT_S)]
    argv += ["--workload", config.workload, "--shape", config.shape]
    argv += ["--first-id", str(ids.first_id), "--last-id", str(ids.last_id)]
    argv += ["--commented-posts", str(ids.commented_posts), "--think-ms", str(config.think_ms)]
    argv += ["--arrival-rate", str(config.arrival_rate)]
    argv += ["--route-block-s", format_block_s(config.route_block_s)]
    argv += ["--route-cycles", str(config.route_cycles)]
    # Locust's own CSVs for the record; reports plot exact.json's per-interval histograms.
    argv += ["--csv", str(out_dir / "locust")]
    argv += ["--exact-out", str(out_dir / "exact.json")]
    if ab_host:
        argv += ["--ab-host", ab_host]
    # We judge errors from the results; Locust's own exit code would say 1 for any failure.
    argv += ["--exit-code-on-error", "0"]
    if config.workers:
        # Locust's master listens on port 5557 of every interface by default: two runs on one
        # machine would fight over it, and it need not be reachable from elsewhere.
        master_port = str(free_port(LOOPBACK))
        argv += ["--processes", str(config.workers), "--master-bind-host", LOOPBACK]
        argv += ["--master-bind-port", master_port, "--master-port", master_port]
    return argv


def locust_argv(
    config: LoadConfig, host: str, ids: IdSpace, out_dir: Path, ab_host: str = ""
) -> list[str]:
    argv = locust_common_argv(config, host, ids, out_dir, ab_host)
    argv += ["--headless", "-t", f"{config.duration_s}s", "--only-summary"]
    argv += ["--html", str(out_dir / "report.html"), "--loglevel", "WARNING"]
    return argv


def run_locust(
    config: LoadConfig,
    host: str,
    ids: IdSpace,
    out_dir: Path,
    stack_pids: Mapping[str, int] | None = None,
    ab_host: str = "",
    cpu_sample_s: float = CPU_SAMPLE_S,
) -> LocustRun:
    """Locust headless, bounded by --run-time and a hard timeout; its and `stack_pids`' CPU
    sampled every `cpu_sample_s`. `ab_host`: users alternate requests between `host` and it
    (the A/B gate)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    deadline = started + config.duration_s + LOCUST_GRACE_S
    with (out_dir / "locust.log").open("wb") as log:
        popen = subprocess.Popen(
            locust_argv(config, host, ids, out_dir, ab_host),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            start_new_session=True,  # stopped as a group with its workers, never orphaned
        )
        sampler = CpuSampler({**(stack_pids or {}), "load generator": popen.pid})
        with watched(popen, grace_s=LOCUST_STOP_S):
            cpu_by_pid = _sample_cpu_until_exit(popen, deadline, sampler, cpu_sample_s)
        sampler.sample()  # the stack's counters just after Locust's last request
    wall_s = time.perf_counter() - started
    exact_path = out_dir / "exact.json"
    exact = json.loads(exact_path.read_text()) if exact_path.exists() else {}
    return LocustRun(
        out_dir, popen.returncode, wall_s, sum(cpu_by_pid.values()), exact, sampler.samples
    )


def _sample_cpu_until_exit(
    popen: subprocess.Popen[bytes], deadline: float, sampler: CpuSampler, interval_s: float
) -> dict[int, float]:
    """CPU seconds of Locust and its worker processes, read every `interval_s` until it exits.

    Sampling the process tree counts workers the master never reaps; the last interval of
    each process is missed, an undercount of at most `interval_s` per process.
    """
    cpu_by_pid: dict[int, float] = {}
    root = psutil.Process(popen.pid)
    while popen.poll() is None:
        if time.perf_counter() > deadline:
            popen.kill()
            popen.wait()
            raise TimeoutError(f"Locust did not finish by itself (pid {popen.pid}); killed")
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                cpu_by_pid[process.pid] = times.user + times.system
        sampler.sample()
        time.sleep(interval_s)
    return cpu_by_pid


@contextlib.contextmanager
def bench_stack(
    log_dir: Path,
    mode: str,
    settings: HarnessSettings,
    tls: TlsFiles | None,
    *,
    env: Mapping[str, str] | None = None,
    app_code: Path | None = None,
    server_code: Path | None = None,
) -> Iterator[Stack]:
    """A fresh stack (and empty database) for one app mode with `env` on top (feature
    switches); `*_code`: another checkout's."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-db-") as db_dir,
        stack(
            log_dir,
            db=Path(db_dir) / "bench.db",
            app_env={**app_env(mode), **(env or {})},
            settings=settings,
            tls=tls,
            app_code=app_code,
            server_code=server_code,
        ) as live,
    ):
        yield live
