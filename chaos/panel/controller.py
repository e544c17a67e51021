"""The panel's side effects: faults and profiles applied through toxiproxy, and their log.

Every switch is appended to the fault log (JSON lines: time, link, fault, on/off) as
soon as toxiproxy has accepted it, so a report can shade exactly the windows a person
made. Faults left on are switched off when Locust quits.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chaos.panel.faults import FAULTS, FaultSwitch, PanelInputError
from harness.network import DB_LINK, PROFILES
from harness.toxiproxy import ToxiproxyApi, attributes_text

PROXY_FIELDS = ("name", "listen", "upstream", "enabled", "toxics")


def _with_units(proxy: dict[str, Any]) -> dict[str, Any]:
    """Each toxic gets `text`, its attributes with their units ("latency=50 ms")."""
    toxics = [
        {**t, "text": attributes_text(t.get("type", ""), t.get("attributes", {}))}
        for t in proxy.get("toxics") or []
    ]
    return {**proxy, "toxics": toxics}


class FaultStateError(RuntimeError):
    """The switch asks for something already true (a fault off that is not on)."""


class ToxiproxyError(RuntimeError):
    """Toxiproxy refused or did not answer; the panel reports it as a bad gateway."""


@dataclass
class ActiveFault:
    params: dict[str, float]
    since: float
    serial: int  # tells a timer whether the fault it was set for is still the one on
    timer: threading.Timer | None = None


@dataclass
class FaultLog:
    """Switch events in memory and, when `path` is set, as JSON lines on disk."""

    path: Path | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as out:
                out.write(json.dumps(event) + "\n")


class ChaosController:
    """Applies switches and profiles to one toxiproxy; `links` maps link -> proxy name."""

    def __init__(
        self,
        api: ToxiproxyApi,
        links: Mapping[str, str],
        log: FaultLog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.links = dict(links)
        self.log = log
        self.clock = clock
        self.profile = "local"
        self.active: dict[tuple[str, str], ActiveFault] = {}
        self._serials = itertools.count()
        # Switches arrive from web requests and from timers; one at a time keeps
        # `active` equal to what toxiproxy holds.
        self._lock = threading.RLock()

    def set_profile(self, name: str) -> None:
        """Swap the database link's profile toxics for those of profile `name`."""
        if name not in PROFILES:
            raise PanelInputError(f"profile must be one of {', '.join(PROFILES)}; got {name!r}")
        if DB_LINK not in self.links:
            raise PanelInputError(f"no {DB_LINK!r} link to apply a profile to")
        proxy = self.links[DB_LINK]
        with self._lock:
            for toxic in PROFILES[self.profile].db_link:
                self._call(self.api.remove_toxic, proxy, toxic.key)
            for toxic in PROFILES[name].db_link:
                self._call(self.api.add_toxic, proxy, toxic)
            self.profile = name
            self.log.append(
                {"t": self.clock(), "event": "profile", "link": DB_LINK, "profile": name}
            )

    def switch(self, request: FaultSwitch) -> None:
        with self._lock:
            key, now = (request.link, request.fault), self.clock()
            if request.on:
                if key in self.active:
                    self._remove(key)  # on again: the new params replace the old
                self._apply(request, now)
            elif key in self.active:
                self._remove(key)
            else:
                raise FaultStateError(f"{request.fault} is not on for link {request.link}")
            self.log.append(
                {
                    "t": now,
                    "event": "fault",
                    "link": request.link,
                    "fault": request.fault,
                    "on": request.on,
                    "params": request.params,
                }
            )

    def switch_all_off(self) -> None:
        with self._lock:
            for link, fault in list(self.active):
                self.switch(FaultSwitch(fault, link, on=False))

    def state(self) -> dict[str, Any]:
        """Proxies and their toxics as toxiproxy reports them, with the panel's own view."""
        with self._lock:
            active = [
                {"link": link, "fault": fault, "since": a.since, "params": a.params}
                for (link, fault), a in sorted(self.active.items())
            ]
        proxies = self._call(self.api.proxies)
        return {
            "profile": self.profile,
            "profiles": {name: p.description for name, p in PROFILES.items()},
            "faults": {
                name: {
                    "description": kind.description,
                    "params": kind.param_defaults,
                    "units": kind.param_units,
                }
                for name, kind in FAULTS.items()
            },
            "links": self.links,
            "proxies": [
                _with_units({k: proxies[p][k] for k in PROXY_FIELDS})
                for p in self.links.values()
                if p in proxies
            ],
            "active": active,
            "log": self.log.events,
        }

    def _apply(self, request: FaultSwitch, now: float) -> None:
        proxy = self.links[request.link]
        if request.fault == "outage":
            self._call(self.api.set_enabled, proxy, False)
        for toxic in FAULTS[request.fault].toxics_with(request.params):
            self._call(self.api.add_toxic, proxy, toxic)
        active = ActiveFault(request.params, now, next(self._serials))
        if request.duration_s is not None:
            off = FaultSwitch(request.fault, request.link, on=False)
            active.timer = threading.Timer(
                request.duration_s, self._timed_off, args=(off, active.serial)
            )
            active.timer.daemon = True
            active.timer.start()
        self.active[(request.link, request.fault)] = active

    def _timed_off(self, off: FaultSwitch, serial: int) -> None:
        # The person may have switched it off (or on again) in the meantime.
        with self._lock:
            active = self.active.get((off.link, off.fault))
            if active and active.serial == serial:
                self.switch(off)

    def _remove(self, key: tuple[str, str]) -> None:
        link, fault = key
        active = self.active.pop(key)
        if active.timer:
            active.timer.cancel()  # a no-op when the timer itself is switching it off
        proxy = self.links[link]
        if fault == "outage":
            self._call(self.api.set_enabled, proxy, True)
        for toxic in FAULTS[fault].toxics_with(active.params):
            self._call(self.api.remove_toxic, proxy, toxic.key)

    @staticmethod
    def _call(method: Callable[..., Any], *args: Any) -> Any:
        # One place turns toxiproxy's refusals and network errors into the panel's error.
        try:
            return method(*args)
        # requests' errors (toxiproxy-python) are OSErrors; httpx's are not.
        except (ValueError, KeyError, OSError, httpx.HTTPError) as error:
            raise ToxiproxyError(f"toxiproxy: {error}") from error
