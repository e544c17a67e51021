"""The controller applies switches and profiles to toxiproxy and logs each one."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from chaos.panel.controller import ChaosController, FaultLog, FaultStateError
from chaos.panel.faults import FaultSwitch
from harness.network import PROFILES
from tests.chaos.panel.fakes import FakeToxiproxy


@pytest.fixture
def api() -> FakeToxiproxy:
    return FakeToxiproxy("turso", "api")


@pytest.fixture
def controller(api: FakeToxiproxy, tmp_path: Path) -> ChaosController:
    ticks = iter(range(100, 200))
    log = FaultLog(tmp_path / "faults.jsonl")
    return ChaosController(api, {"turso": "turso", "api": "api"}, log, clock=lambda: next(ticks))


def test_latency_on_then_off_adds_and_removes_its_toxic(
    controller: ChaosController, api: FakeToxiproxy
) -> None:
    controller.switch(FaultSwitch("latency", "turso", True, {"latency": 200.0}))
    assert api.toxic_names("turso") == ["panel_latency_latency_downstream"]
    assert api.state["turso"]["toxics"][0]["attributes"]["latency"] == 200

    controller.switch(FaultSwitch("latency", "turso", False))
    assert api.toxic_names("turso") == []


def test_outage_disables_the_proxy_until_switched_off(
    controller: ChaosController, api: FakeToxiproxy
) -> None:
    controller.switch(FaultSwitch("outage", "api", True))
    assert api.state["api"]["enabled"] is False

    controller.switch(FaultSwitch("outage", "api", False))
    assert api.state["api"]["enabled"] is True


def test_on_again_replaces_the_params(controller: ChaosController, api: FakeToxiproxy) -> None:
    controller.switch(FaultSwitch("bandwidth", "turso", True, {"rate": 8.0}))
    controller.switch(FaultSwitch("bandwidth", "turso", True, {"rate": 4.0}))

    rates = {t["attributes"]["rate"] for t in api.state["turso"]["toxics"]}
    assert rates == {4}


def test_off_when_not_on_is_a_conflict(controller: ChaosController) -> None:
    with pytest.raises(FaultStateError, match="not on"):
        controller.switch(FaultSwitch("reset", "turso", False))


def test_every_switch_is_logged_with_its_time(controller: ChaosController, tmp_path: Path) -> None:
    controller.switch(FaultSwitch("latency", "turso", True, {"latency": 200.0}))
    controller.switch(FaultSwitch("latency", "turso", False))

    lines = [json.loads(line) for line in (tmp_path / "faults.jsonl").read_text().splitlines()]
    assert [(e["t"], e["fault"], e["on"]) for e in lines] == [
        (100, "latency", True),
        (101, "latency", False),
    ]


def test_profile_swap_replaces_the_profile_toxics(
    controller: ChaosController, api: FakeToxiproxy
) -> None:
    controller.set_profile("cross-region")
    controller.set_profile("edge")

    expected = sorted(t.key for t in PROFILES["edge"].db_link)
    assert api.toxic_names("turso") == expected
    assert controller.state()["profile"] == "edge"


def test_a_timed_fault_switches_itself_off(controller: ChaosController, api: FakeToxiproxy) -> None:
    controller.switch(FaultSwitch("outage", "turso", True, {"duration_s": 0.05}))
    timer = controller.active[("turso", "outage")].timer
    assert isinstance(timer, threading.Timer)

    timer.join(timeout=5)

    assert api.state["turso"]["enabled"] is True
    assert [e["on"] for e in controller.log.events] == [True, False]


def test_switch_all_off_leaves_no_fault(controller: ChaosController, api: FakeToxiproxy) -> None:
    controller.switch(FaultSwitch("latency", "api", True))
    controller.switch(FaultSwitch("outage", "turso", True))

    controller.switch_all_off()

    assert controller.active == {}
    assert api.toxic_names("api") == []
    assert api.state["turso"]["enabled"] is True
