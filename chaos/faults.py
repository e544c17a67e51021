"""Applies a scenario's faults for a window of time, and always takes them away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping

from chaos.scenarios.base import Outage, Scenario
from harness.toxiproxy import ToxiproxyApi


async def _run_outage(api: ToxiproxyApi, proxy: str, outage: Outage, window_start: float) -> None:
    await asyncio.sleep(max(0.0, window_start + outage.start_s - time.monotonic()))
    await asyncio.to_thread(api.set_enabled, proxy, False)
    try:
        await asyncio.sleep(outage.duration_s)
    finally:
        await asyncio.to_thread(api.set_enabled, proxy, True)


@contextlib.asynccontextmanager
async def injected(
    api: ToxiproxyApi, proxies: Mapping[str, str], scenario: Scenario
) -> AsyncIterator[None]:
    """Toxics on and outages scheduled while the block runs; all undone on the way out.

    `proxies` maps each link ("turso", "api") to its toxiproxy proxy name.
    """
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
        for proxy, name in added:
            await asyncio.to_thread(api.remove_toxic, proxy, name)
        # An outage cancelled before it started or mid-way leaves no proxy disabled.
        for proxy in {proxies[f.link] for f in scenario.faults if f.outages}:
            await asyncio.to_thread(api.set_enabled, proxy, True)


def fault_window_s(scenario: Scenario, minimum_s: float) -> float:
    """Long enough for every outage to end, and at least `minimum_s`."""
    ends = [o.start_s + o.duration_s for f in scenario.faults for o in f.outages]
    return max([minimum_s, *ends])
