"""A forked worker of the harness's programs dies with them, kill -9 included."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psutil
import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux's")

# A program with a forked pool, as reports draws its figures: prints a worker's pid, then waits.
PROGRAM = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from harness.lifecycle import die_with_parent

    pool = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=die_with_parent if sys.argv[1] == "yes" else None,
        initargs=(os.getpid(),) if sys.argv[1] == "yes" else (),
    )
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(60)
    """
)


def worker_outlives_a_killed_program(die_with_parent: bool) -> bool:
    argv = [sys.executable, "-c", PROGRAM, "yes" if die_with_parent else "no"]
    program = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert program.stdout is not None
        worker = psutil.Process(int(program.stdout.readline()))
        program.kill()
        program.wait()
        _, alive = psutil.wait_procs([worker], timeout=5)
        for process in alive:
            process.kill()
        return bool(alive)
    finally:
        program.kill()


def test_a_forked_worker_dies_with_its_program() -> None:
    assert not worker_outlives_a_killed_program(die_with_parent=True)


def test_without_it_the_worker_would_outlive_the_program() -> None:
    assert worker_outlives_a_killed_program(die_with_parent=False)
