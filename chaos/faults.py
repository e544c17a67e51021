"""Applies a scenario's faults for a window of time, and always takes them away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping

from chaos import process_faults
from chaos.process_faults import Target
from chaos.scenarios.base import Outage, Scenario
from harness.processes import ManagedProcess
from harness.toxiproxy import ToxiproxyApi, unless_gone


async def _run_outage(api: ToxiproxyApi, proxy: str, outage: Outage, window_start: float) -> None:
    await asyncio.sleep(max(0.0, window_start + outage.start_s - time.monotonic()))
    await asyncio.to_thread(api.set_enabled, proxy, False)
    try:
        await asyncio.sleep(outage.duration_s)
    finally:
        with unless_gone():
            await asyncio.to_thread(api.set_enabled, proxy, True)


@contextlib.asynccontextmanager
async def injected(
    api: ToxiproxyApi,
    proxies: Mapping[str, str],
    scenario: Scenario,
    processes: Mapping[Target, ManagedProcess] | None = None,
) -> AsyncIterator[None]:
    """Toxics on, outages and process faults scheduled while the block runs; all undone after.

    `proxies` maps each link ("turso", "api") to its toxiproxy proxy name; `processes`
    maps each process-fault target ("database", "app") to the stack's process.
    """
    async with _network_faults(api, proxies, scenario), _process_faults(scenario, processes):
        yield


@contextlib.asynccontextmanager
async def _network_faults(
    api: ToxiproxyApi, proxies: Mapping[str, str], scenario: Scenario
) -> AsyncIterator[None]:
    window_start = time.monotonic()
    added: list[tuple[str, str]] = []
    outages: list[asyncio.Task[None]] = []
    try:
        for fault in scenario.faults:
            proxy = proxies[fault.link]
            for toxic in fault.toxics:
                await asyncio.to_thread(api.add_toxic, proxy, toxic)
                added.append((proxy, toxic.key))
            outages += [
                asyncio.create_task(_run_outage(api, proxy, outage, window_start))
                for outage in fault.outages
            ]
        yield
    finally:
        for task in outages:
            task.cancel()
        await asyncio.gather(*outages, return_exceptions=True)
        with unless_gone():
            for proxy, name in added:
                await asyncio.to_thread(api.remove_toxic, proxy, name)
            # An outage cancelled before it started or mid-way leaves no proxy disabled.
            for proxy in {proxies[f.link] for f in scenario.faults if f.outages}:
                await asyncio.to_thread(api.set_enabled, proxy, True)


@contextlib.asynccontextmanager
async def _process_faults(
    scenario: Scenario, processes: Mapping[Target, ManagedProcess] | None
) -> AsyncIterator[None]:
    """Leave only once every killed process is back and every paused one resumed."""
    if scenario.process_faults and processes is None:
        raise ValueError(f"{scenario.name} signals processes, but none were given")
    window_start = time.monotonic()
    tasks = [
        asyncio.create_task(process_faults.apply(fault, processes[fault.target], window_start))
        for fault in scenario.process_faults
        if processes is not None
    ]
    try:
        yield
    except BaseException:
        for task in tasks:
            task.cancel()
        # Each undoes its fault even when cancelled; a restart is awaited, never abandoned.
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for task in tasks:
        await task  # a process that failed to come back fails the scenario here


def fault_window_s(scenario: Scenario, minimum_s: float) -> float:
    """Long enough for every outage and process fault to end, and at least `minimum_s`."""
    ends = [o.start_s + o.duration_s for f in scenario.faults for o in f.outages]
    ends += [p.end_s for p in scenario.process_faults]
    if rotation := scenario.token_rotation:
        ends.append(rotation.start_s + rotation.new_token_after_s)
    return max([minimum_s, *ends])
