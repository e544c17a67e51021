"""Fault switch requests: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest

from chaos.panel.faults import FAULTS, FaultSwitch, PanelInputError, parse_switch
from chaos.scenarios import latency

LINKS = frozenset({"turso", "api"})


def test_latency_takes_the_scenario_toxics_with_params_over_them() -> None:
    (toxic,) = FAULTS["latency"].toxics_with({"latency": 200.0})

    assert toxic.attributes == {"latency": 200, "jitter": latency.JITTER_MS}
    assert isinstance(toxic.attributes["latency"], int)  # toxiproxy refuses 200.0
    assert toxic.key.startswith("panel_latency_")


def test_outage_has_no_toxic() -> None:
    assert FAULTS["outage"].toxics_with({}) == ()


def test_a_valid_switch_parses() -> None:
    body = {
        "fault": "latency",
        "link": "turso",
        "on": True,
        "params": {"latency": 200, "duration_s": 5},
    }

    switch = parse_switch(body, LINKS)

    assert switch == FaultSwitch("latency", "turso", True, {"latency": 200.0, "duration_s": 5.0})
    assert switch.duration_s == 5.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"fault": "flood", "link": "turso", "on": True}, "fault must be one of"),
        ({"fault": "latency", "link": "db", "on": True}, "link must be one of"),
        ({"fault": "latency", "link": "turso", "on": "yes"}, "on must be true or false"),
        (
            {"fault": "latency", "link": "turso", "on": True, "params": [1]},
            "params must be an object",
        ),
        (
            {"fault": "latency", "link": "turso", "on": True, "params": {"rate": 1}},
            "takes no param 'rate'",
        ),
        ({"fault": "latency", "link": "turso", "on": True, "params": {"latency": -5}}, "negative"),
        (
            {"fault": "latency", "link": "turso", "on": True, "params": {"latency": True}},
            "a number",
        ),
        (
            {"fault": "latency", "link": "turso", "on": True, "params": {"latency": 2.5}},
            "whole number",
        ),
        (
            {"fault": "outage", "link": "turso", "on": True, "params": {"duration_s": 0}},
            "duration_s",
        ),
    ],
)
def test_bad_switches_are_refused_with_a_reason(body: object, message: str) -> None:
    with pytest.raises(PanelInputError, match=message):
        parse_switch(body, LINKS)
