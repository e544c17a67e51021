"""The panel's switches and the checks on what a person asks for (pure, no I/O).

Each switchable fault takes its toxics from the chaos scenario that already defines it,
so the panel injects exactly what `make chaos` injects; a request's params may only
change the attributes those toxics declare. An outage has no toxic: it disables the proxy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from chaos.scenarios import bandwidth, latency, outage, reset_peer
from chaos.scenarios.base import Scenario
from harness.toxiproxy import Toxic, attribute_unit

DURATION_PARAM = "duration_s"  # any fault: switch itself off after this many seconds
MAX_DURATION_S = 3600.0
TOXIC_PREFIX = "panel"  # keeps panel toxics apart from the network profile's


class PanelInputError(ValueError):
    """A request the panel refuses; the message says what to send instead."""


@dataclass(frozen=True)
class FaultKind:
    """One switch: the toxics it adds (none for an outage) and what they mean."""

    name: str
    description: str
    toxics: tuple[Toxic, ...] = ()

    @property
    def param_defaults(self) -> dict[str, float]:
        """Every attribute a request may set, with the scenario's value as the default."""
        return {k: v for toxic in self.toxics for k, v in toxic.attributes.items()}

    @property
    def param_units(self) -> dict[str, str]:
        """Each param's unit (ms, KB/s, ...), and seconds for the self-switch-off."""
        units = {k: attribute_unit(t.type, k) for t in self.toxics for k in t.attributes}
        return {**units, DURATION_PARAM: "s"}

    def toxics_with(self, params: Mapping[str, float]) -> tuple[Toxic, ...]:
        """The scenario's toxics, renamed for the panel, with `params` over their attributes."""
        return tuple(
            replace(
                toxic,
                name=f"{TOXIC_PREFIX}_{self.name}_{toxic.key}",
                attributes={
                    k: type(default)(params.get(k, default))
                    for k, default in toxic.attributes.items()
                },
            )
            for toxic in self.toxics
        )


def _from_scenario(name: str, scenario: Scenario) -> FaultKind:
    return FaultKind(
        name, scenario.description, tuple(t for f in scenario.faults for t in f.toxics)
    )


FAULTS: dict[str, FaultKind] = {
    "latency": _from_scenario("latency", latency.SCENARIO),
    "outage": FaultKind("outage", "link down: the proxy refuses and drops connections"),
    "reset": _from_scenario("reset", reset_peer.SCENARIO),
    "bandwidth": _from_scenario("bandwidth", bandwidth.SCENARIO),
}
# The outage scenario's length, offered as the panel's default for a timed cut.
DEFAULT_OUTAGE_S = outage.OUTAGE_S


@dataclass(frozen=True)
class FaultSwitch:
    """A validated request: turn `fault` on (with params) or off on `link`."""

    fault: str
    link: str
    on: bool
    params: dict[str, float] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        return self.params.get(DURATION_PARAM)


def _number(name: str, value: Any) -> float:
    # bool is an int to Python, but `"latency": true` is a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PanelInputError(f"param {name!r} must be a number, got {value!r}")
    if value < 0:
        raise PanelInputError(f"param {name!r} must not be negative, got {value!r}")
    return float(value)


def _params(kind: FaultKind, raw: Any) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PanelInputError('params must be an object, e.g. {"latency": 200}')
    allowed = {*kind.param_defaults, DURATION_PARAM}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise PanelInputError(
            f"{kind.name} takes no param {unknown[0]!r}; it takes {', '.join(sorted(allowed))}"
        )
    params = {name: _number(name, value) for name, value in raw.items()}
    for name, value in params.items():
        # toxiproxy takes whole milliseconds and KB/s where the scenario's value is an int.
        if isinstance(kind.param_defaults.get(name), int) and not value.is_integer():
            raise PanelInputError(f"param {name!r} must be a whole number, got {value!r}")
    duration = params.get(DURATION_PARAM)
    if duration is not None and not 0 < duration <= MAX_DURATION_S:
        raise PanelInputError(f"{DURATION_PARAM} must be in (0, {MAX_DURATION_S:g}]")
    return params


def parse_switch(body: Any, links: frozenset[str]) -> FaultSwitch:
    """A FaultSwitch from a JSON body, or PanelInputError naming the first thing wrong."""
    if not isinstance(body, dict):
        raise PanelInputError("send a JSON object: {fault, on, link, params}")
    fault, link, on = body.get("fault"), body.get("link"), body.get("on")
    if fault not in FAULTS:
        raise PanelInputError(f"fault must be one of {', '.join(FAULTS)}; got {fault!r}")
    if link not in links:
        raise PanelInputError(f"link must be one of {', '.join(sorted(links))}; got {link!r}")
    if not isinstance(on, bool):
        raise PanelInputError(f"on must be true or false; got {on!r}")
    return FaultSwitch(fault, link, on, _params(FAULTS[fault], body.get("params")))
