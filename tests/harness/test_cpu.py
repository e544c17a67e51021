"""CPU per request: cutting sampled counters to a window, and reading real counters."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from harness.cpu import CpuSampler, Sample, cpu_in_window, format_cpu_line, per_request, tree_cpu_s


def samples() -> list[Sample]:
    # The app burns 1 CPU second per wall second; the database starts late and burns half that.
    return [
        Sample(100.0, {"app": 0.0}),
        Sample(102.0, {"app": 2.0, "database": 0.0}),
        Sample(104.0, {"app": 4.0, "database": 1.0}),
    ]


def test_window_interpolates_between_samples() -> None:
    cpu = cpu_in_window(samples(), 101.0, 103.0)

    assert cpu["app"] == pytest.approx(2.0)
    assert cpu["database"] == pytest.approx(0.5)


def test_window_outside_the_samples_is_clamped() -> None:
    assert cpu_in_window(samples(), 90.0, 200.0)["app"] == pytest.approx(4.0)
    assert cpu_in_window([], 0.0, 1.0) == {}


def test_per_request_in_microseconds_in_process_order() -> None:
    table = per_request({"load generator": 0.5, "app": 1.0, "toxiproxy": 0.25}, requests=1000)

    assert list(table) == ["app", "toxiproxy", "load generator"]
    assert table["app"]["us_per_request"] == pytest.approx(1000.0)
    assert math.isnan(per_request({"app": 1.0}, requests=0)["app"]["us_per_request"])
    assert format_cpu_line(table, 1000) == (
        "CPU µs/request over 1000 requests: app 1000, toxiproxy 250, load generator 500"
    )


def test_sampler_reads_trees_or_processes_alone_and_keeps_a_last_reading() -> None:
    # Burns 0.3 s of CPU, says so, then waits for its stdin to close.
    busy = (
        "import sys, time\nend = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\nprint('burnt', flush=True)\nsys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", busy], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        me = os.getpid()
        sampler = CpuSampler({"busy": child.pid, "my tree": me}, alone={"me": me})
        assert child.stdout is not None
        assert child.stdout.readline() == "burnt\n"
        reading = sampler.sample().cpu_s
        while_running = reading["busy"]
        child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()

    assert while_running >= 0.3
    # The tree includes the busy child; the process alone does not.
    assert reading["my tree"] >= reading["me"] + 0.3
    assert tree_cpu_s(child.pid) is None
    assert sampler.sample().cpu_s["busy"] == while_running
    assert sampler.samples[-1].cpu_s["me"] > 0.0
