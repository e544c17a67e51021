"""The stack's links, and the network profiles applied to the app <-> database link.

Toxiproxy carries the stack's traffic on named links: `api` (load -> app), `turso` (app ->
database) and `redis` (app -> shared cache, with several app workers). A profile's latency
toxics delay each direction by `latency` ms ± `jitter` ms, so a round trip costs twice that;
`apply_profile` adds them for a block and removes them after. The load <-> app link stays
clean: the numbers are the app's on its database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from harness.stack import Stack
from harness.toxiproxy import Stream, Toxic

Link = Literal["turso", "api", "redis"]  # app -> database, load -> app, app -> shared cache
DB_LINK: Link = "turso"
API_LINK: Link = "api"


def _latency(stream: Stream, latency_ms: int, jitter_ms: int) -> Toxic:
    attributes = {"latency": latency_ms, "jitter": jitter_ms}
    return Toxic("latency", stream=stream, attributes=attributes)


def _round_trip(latency_ms: int, jitter_ms: int) -> tuple[Toxic, ...]:
    return (
        _latency("upstream", latency_ms, jitter_ms),
        _latency("downstream", latency_ms, jitter_ms),
    )


@dataclass(frozen=True)
class NetworkProfile:
    name: str
    description: str
    db_link: tuple[Toxic, ...]


PROFILES: dict[str, NetworkProfile] = {
    "local": NetworkProfile("local", "no toxics: loopback only", ()),
    # 5 ± 4 ms each way: round trips of about 2-18 ms, an app near its database's region.
    "edge": NetworkProfile("edge", "RTT ~2-18 ms with jitter", _round_trip(5, 4)),
    # 45 ± 5 ms each way: round trips of about 80-100 ms, app and database on other continents.
    "cross-region": NetworkProfile("cross-region", "RTT ~80-100 ms", _round_trip(45, 5)),
}


def round_trip_ms(profile: NetworkProfile) -> float:
    """The profile's mean round trip on the database link: both directions' mean latency."""
    return float(
        sum(t.attributes.get("latency", 0) for t in profile.db_link if t.type == "latency")
    )


@contextlib.contextmanager
def apply_profile(live: Stack, profile: NetworkProfile) -> Iterator[list[str]]:
    """Apply the profile's toxics for the block; yields notes on what was (not) applied."""
    if DB_LINK not in live.proxies:
        note = f"external database: profile {profile.name!r} toxics NOT applied to the DB link"
        yield [note]
        return
    with live.toxiproxy.toxics(live.proxies[DB_LINK], *profile.db_link):
        yield []
