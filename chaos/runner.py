"""Runs scenarios against a live stack and turns each history into verdicts."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import libsql_client

from chaos import checker
from chaos.contention import contending
from chaos.faults import fault_window_s, injected
from chaos.history import Step, StoredPost
from chaos.process_faults import Target
from chaos.scenarios.base import Scenario
from chaos.token_rotation import RotationSeen, RotationTarget, rotating
from chaos.workload import History, Workload, WorkloadConfig
from harness.app_counters import read_counters
from harness.processes import ManagedProcess
from harness.stack import APP_FACTORY, Stack
from reports.data import timeline

AppMode = Literal["hardened", "naive"]
LATENCY_SLACK = 1.10  # p99 may exceed the deadline by 10%: scheduling and serialization


@dataclass(frozen=True)
class ChaosConfig:
    mode: AppMode = "hardened"
    deadline_ms: int = 1000
    warmup_s: float = 1.0
    # The shortest fault window; outage schedules may make it longer. 2 s: the short matrix
    # of the test suite shows every expected failure with 1.5 s, and 92 runs of `make chaos`
    # over both transports must fit in 12 minutes.
    fault_s: float = 2.0
    observe_s: float = 3.0  # after the fault is removed, to measure recovery
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)
    latency_slack: float = LATENCY_SLACK
    # Further app settings (APP_CACHE_BACKEND=process, say), over the ones below.
    app_overrides: dict[str, str] = field(default_factory=dict)
    # What uvicorn serves; the checker's own tests give a deliberately broken app's factory.
    app_factory: str = APP_FACTORY

    def app_env(self) -> dict[str, str]:
        """The app settings a chaos run needs (the rest keep their defaults)."""
        env = {"APP_MODE": self.mode, "APP_REQUEST_DEADLINE_MS": str(self.deadline_ms)}
        return {**env, **self.app_overrides}


@dataclass
class ScenarioResult:
    scenario: str
    mode: AppMode
    verdicts: list[checker.Verdict]
    retries: float
    requests: int
    writes: int
    # For reports: when the fault was on, and latency/errors per time bucket (seconds
    # from the workload's start).
    fault_window_s: tuple[float, float] | None = None
    timeline: list[dict[str, float]] = field(default_factory=list)
    expected: str = "pass"  # what this mode should get: the naive app fails most faults
    transport: str | None = None  # how the app reached the database: ws or http

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def verdict(self, name: str) -> checker.Verdict:
        return next(v for v in self.verdicts if v.name == name)

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "mode": self.mode,
            "passed": self.passed,
            "retries": self.retries,
            "requests": self.requests,
            "writes": self.writes,
            "invariants": {v.name: {"passed": v.passed, **v.figures} for v in self.verdicts},
            "fault_window_s": self.fault_window_s,
            "timeline": self.timeline,
            "expected": self.expected,
            "transport": self.transport,
        }


async def _retries(stack: Stack) -> float:
    return (await asyncio.to_thread(read_counters, stack.app.url)).retries


async def stored_posts(stack: Stack, tag: str) -> list[StoredPost]:
    """This run's rows, of every workload (each title starts with the tag), read straight
    from the database, around every proxy. Compared exactly: in LIKE, the `_` of a scenario's
    name would match any character."""
    prefix = f"{tag}-"
    async with libsql_client.create_client(stack.db_url, auth_token=stack.db_auth_token) as db:
        result = await db.execute(
            "SELECT id, title, content FROM posts WHERE substr(title, 1, ?) = ?",
            [len(prefix), prefix],
        )
    return [StoredPost(int(r[0]), str(r[1]), str(r[2])) for r in result.rows]


def verdicts(
    scenario: Scenario,
    config: ChaosConfig,
    history: History,
    stored: Sequence[StoredPost],
    fault_window_s: tuple[float, float] | None,
    rotation: RotationSeen | None = None,
) -> list[checker.Verdict]:
    expect = scenario.expect
    bound_ms = config.deadline_ms * config.latency_slack
    during_bound_ms = bound_ms + expect.latency_allowance_ms
    # The server's own flags hold for the whole run, warm-up included: its "before" phase
    # is no healthy baseline, so it is held to the fault's bounds.
    whole_run = bool(scenario.server_args)
    latency_bounds = checker.PhaseBounds(
        during_bound_ms if whole_run else bound_ms, during_bound_ms, bound_ms
    )
    success_minimums = checker.PhaseBounds(
        expect.min_success_rate if whole_run else expect.min_success_rate_before,
        expect.min_success_rate,
        expect.min_success_rate_after,
    )
    fault_removed_s = fault_window_s[1] if fault_window_s else None
    requests, writes = history.requests, history.writes
    rotated = []
    if scenario.token_rotation is not None:
        seen = rotation or RotationSeen()
        rotated = [
            checker.token_rotation(
                requests,
                seen.rejecting_from_s,
                seen.readiness_status,
                expect.failure_codes,
                rotating_from_s=seen.rotating_from_s,
            )
        ]
    updated, deleted = history.titles_sent(Step.UPDATE), history.titles_sent(Step.DELETE)
    return [
        checker.lost_writes(writes, stored, updated=updated, deleted=deleted),
        checker.duplicated_writes(writes, stored),
        checker.lost_updates(history.updates, stored),
        checker.rejected_writes(writes, stored),
        checker.latency_bound(requests, latency_bounds, fault_window_s),
        checker.error_shapes(requests, expect.unanswered_allowed),
        checker.availability(requests, success_minimums, fault_window_s),
        checker.recovery(requests, fault_removed_s, expect.recovery_bound_s, bound_ms),
        checker.recovered_writes(writes, stored),
        checker.read_your_writes(history.post_steps),
        *rotated,
    ]


def _db_file(stack: Stack) -> str | None:
    """The local server's SQLite file, for a lock holder that takes it directly."""
    return stack.turso.db if stack.turso is not None and stack.turso.kind == "localturso" else None


def _counted_since(before: float, after: float) -> float:
    """A counter's growth; after a restart of the app it started again from zero."""
    return after - before if after >= before else after


def _rotation_target(stack: Stack) -> RotationTarget | None:
    """The server whose key a token rotation replaces, when it checks tokens."""
    if stack.turso is None or stack.turso.jwt_key_file is None or stack.db_token_file is None:
        return None
    return RotationTarget(stack.turso, stack.db_token_file, stack.app.url)


def _processes(stack: Stack) -> dict[Target, ManagedProcess]:
    """What process faults may signal: the app, and the database when the stack runs one."""
    processes: dict[Target, ManagedProcess] = {"app": stack.app.process}
    if stack.turso is not None:
        processes["database"] = stack.turso.process
    return processes


async def run_scenario(
    stack: Stack, scenario: Scenario, config: ChaosConfig, run_id: str
) -> ScenarioResult:
    """Warm up, inject the fault for its window, remove it, observe, then check."""
    await asyncio.to_thread(stack.toxiproxy.reset)
    tag = f"chaos-{run_id}-{scenario.name}"
    workload = Workload(stack.api_url, tag, config.workload)
    window_s = fault_window_s(scenario, config.fault_s)
    retries_before = await _retries(stack)
    # The load runs until the fault is really gone (a restart may take longer than planned),
    # then for the full observation time.
    load = asyncio.create_task(workload.run(math.inf))
    fault_window: tuple[float, float] | None = None
    try:
        await asyncio.sleep(config.warmup_s)
        fault_started_s = workload.now_s()
        async with (
            injected(stack.toxiproxy, stack.proxies, scenario, _processes(stack)),
            contending(stack.db_url, stack.db_auth_token, scenario.lock_holder, _db_file(stack)),
            rotating(scenario.token_rotation, _rotation_target(stack), workload.now_s) as rotation,
        ):
            await asyncio.sleep(window_s)
        fault_removed_s = workload.now_s()
        workload.stop_at(fault_removed_s + observation_s(scenario, config))
        if scenario.injects_faults:
            fault_window = (fault_started_s, fault_removed_s)
        history = await load
    finally:
        if not load.done():
            load.cancel()
    stored = await stored_posts(stack, tag)
    return ScenarioResult(
        scenario=scenario.name,
        mode=config.mode,
        verdicts=verdicts(scenario, config, history, stored, fault_window, rotation),
        retries=_counted_since(retries_before, await _retries(stack)),
        requests=len(history.requests),
        writes=len(history.writes),
        fault_window_s=fault_window,
        timeline=timeline((r.finished_s, r.latency_ms, r.succeeded) for r in history.requests),
        expected=expected_verdict(scenario, config.mode),
        transport=stack.database.transport,
    )


def observation_s(scenario: Scenario, config: ChaosConfig) -> float:
    """The configured observation, lengthened to what judging recovery up to the scenario's
    bound needs: a paused database may keep the breaker open a cool-down past its thaw."""
    return max(config.observe_s, checker.observation_needed_s(scenario.expect.recovery_bound_s))


def expected_verdict(scenario: Scenario, mode: AppMode) -> str:
    """ "pass" for the hardened app always; for the naive app as the scenario says."""
    return "pass" if mode == "hardened" or scenario.expect.naive_passes else "fail"
