"""A forked worker of the harness's programs dies with them, kill -9 included; a signal stops
the load before the stack, also when it comes twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

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


# A program that loads a "stack" with a "load generator" as the harness does: the load takes
# a second to write its results after its SIGINT; each child notes when it stopped.
LOADED_PROGRAM = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    from harness.lifecycle import stop_on_signals, watch_group
    from harness.processes import watched

    CHILD = '''
    import signal, sys, time
    def stop(*_):
        time.sleep(float(sys.argv[2]))
        open(sys.argv[1], "w").write(repr(time.monotonic()))
        sys.exit(0)
    signal.signal(signal.SIGINT if sys.argv[3] == "INT" else signal.SIGTERM, stop)
    while True:
        time.sleep(0.05)
    '''
    notes = sys.argv[1]
    with stop_on_signals():
        stack = subprocess.Popen(
            [sys.executable, "-c", CHILD, f"{notes}/stack", "0", "TERM"], start_new_session=True
        )
        watch_group(stack.pid)
        try:
            load = subprocess.Popen(
                [sys.executable, "-c", CHILD, f"{notes}/load", "1.0", "INT"],
                start_new_session=True,
            )
            with watched(load, grace_s=5.0):
                time.sleep(0.5)  # both children have set their handlers
                print("ready", flush=True)
                time.sleep(60)
        finally:  # as the stack's own context manager stops it on the way out
            stack.terminate()
            stack.wait()
    """
)


def test_a_second_ctrl_c_does_not_stop_the_stack_before_the_load(tmp_path: Path) -> None:
    program = subprocess.Popen(
        [sys.executable, "-c", LOADED_PROGRAM, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert program.stdout is not None
        assert program.stdout.readline().strip() == "ready"
        program.send_signal(signal.SIGINT)
        time.sleep(0.3)  # the user's second press, while the load writes its results
        program.send_signal(signal.SIGINT)
        program.wait(timeout=15)
        load_done = float((tmp_path / "load").read_text())
        stack_stopped = float((tmp_path / "stack").read_text())
        assert load_done < stack_stopped
    finally:
        program.kill()
