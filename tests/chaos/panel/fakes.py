"""An in-memory stand-in for harness.toxiproxy.ToxiproxyApi: proxies, toxics, enabled."""

from __future__ import annotations

from typing import Any

from harness.toxiproxy import Toxic


class FakeToxiproxy:
    def __init__(self, *names: str) -> None:
        self.state: dict[str, dict[str, Any]] = {
            n: {"name": n, "listen": "l", "upstream": "u", "enabled": True, "toxics": []}
            for n in names
        }
        self.refuse = False  # True: every add_toxic fails as toxiproxy's 400 does

    def proxies(self) -> dict[str, dict[str, Any]]:
        return self.state

    def add_toxic(self, proxy: str, toxic: Toxic) -> None:
        if self.refuse:
            raise ValueError(f"toxiproxy refused toxic {toxic.key!r}")
        if any(t["name"] == toxic.key for t in self.state[proxy]["toxics"]):
            raise ValueError(f"toxic {toxic.key} already exists")
        self.state[proxy]["toxics"].append(toxic.as_json())

    def remove_toxic(self, proxy: str, name: str) -> None:
        toxics = self.state[proxy]["toxics"]
        toxics[:] = [t for t in toxics if t["name"] != name]

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        self.state[proxy]["enabled"] = enabled

    def toxic_names(self, proxy: str) -> list[str]:
        return sorted(t["name"] for t in self.state[proxy]["toxics"])
