"""Faults really reach toxiproxy during the window and are gone after it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.faults import fault_window_s, injected
from chaos.scenarios import SCENARIOS, Fault, Scenario
from harness.processes import free_port
from harness.stack import toxiproxy
from harness.toxiproxy import Toxic, ToxiproxyApi

pytestmark = pytest.mark.integration


@pytest.fixture
def toxiproxy_api(log_dir: Path) -> Iterator[ToxiproxyApi]:
    with toxiproxy(log_dir) as api:
        # Nothing listens upstream: these tests look at the proxies, not traffic.
        api.create_proxy("turso", f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}")
        api.create_proxy("api", f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}")
        yield api


LINKS = {"turso": "turso", "api": "api"}


async def test_toxics_are_present_in_the_window_and_removed_after(
    toxiproxy_api: ToxiproxyApi,
) -> None:
    scenario = SCENARIOS["latency"] + SCENARIOS["api_latency"]

    async with injected(toxiproxy_api, LINKS, scenario):
        during = toxiproxy_api.proxies()

    after = toxiproxy_api.proxies()
    assert [t["type"] for t in during["turso"]["toxics"]] == ["latency"]
    assert during["turso"]["toxics"][0]["attributes"]["latency"] == 50
    assert during["api"]["toxics"][0]["attributes"]["latency"] == 100
    assert after["turso"]["toxics"] == []
    assert after["api"]["toxics"] == []


async def test_a_cancelled_outage_leaves_the_proxy_enabled(toxiproxy_api: ToxiproxyApi) -> None:
    outage = SCENARIOS["outage"]

    async def die_during_the_outage() -> None:
        async with injected(toxiproxy_api, LINKS, outage):
            await _until_disabled(toxiproxy_api)
            raise RuntimeError("scenario died")

    with pytest.raises(RuntimeError, match="scenario died"):
        await die_during_the_outage()

    assert toxiproxy_api.proxies()["turso"]["enabled"] is True


async def _until_disabled(api: ToxiproxyApi) -> None:
    for _ in range(200):
        if not api.proxies()["turso"]["enabled"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outage never disabled the proxy")


def test_the_window_covers_every_outage() -> None:
    assert fault_window_s(SCENARIOS["flapping"], minimum_s=1.0) == pytest.approx(4.5)
    assert fault_window_s(SCENARIOS["latency"], minimum_s=2.0) == 2.0


async def test_a_refused_toxic_is_reported_and_earlier_toxics_are_removed(
    toxiproxy_api: ToxiproxyApi,
) -> None:
    broken = Scenario(
        "broken",
        "a valid toxic, then one toxiproxy does not know",
        faults=(
            Fault("turso", toxics=(Toxic("latency", attributes={"latency": 5}), Toxic("nope"))),
        ),
    )

    with pytest.raises(ValueError, match="refused toxic 'nope_downstream'"):
        async with injected(toxiproxy_api, LINKS, broken):
            pytest.fail("the block must not run when a toxic was refused")

    assert toxiproxy_api.proxies()["turso"]["toxics"] == []
