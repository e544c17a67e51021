"""Two builds under one load: with `--ab-host`, every user alternates its requests between
`--host` (side A, the baseline) and `--ab-host` (side B, the candidate), A B B A ...

Both sides are then measured in the same seconds, so whatever else the machine does at
that moment (a noisy neighbour, a frequency change) lands on both alike; requests are
reported as "[A] name" / "[B] name" so each side keeps its own statistics. Free of
Locust (which patches the standard library on import); PostsUser wires it in.
"""

from __future__ import annotations

import itertools
from typing import Any

SIDES = ("A", "B")
PATTERN = "ABBA"  # each side goes first as often as second


def side_name(side: str, name: str) -> str:
    return f"[{side}] {name}"


class SideLabel:
    """Stands in for a session's `events.request`: prefixes each request's name with its side."""

    def __init__(self, side: str, event: Any) -> None:
        self.side = side
        self.event = event

    def fire(self, **meta: Any) -> None:
        meta["name"] = side_name(self.side, str(meta.get("name")))
        self.event.fire(**meta)


class AlternatingClient:
    """The user's `client`, sending each request to the next side in PATTERN."""

    def __init__(self, sessions: dict[str, Any]) -> None:
        self.sessions = sessions
        self.order = itertools.cycle(PATTERN)
        self.next_side = next(self.order)
        self.last_side = self.next_side

    def skip(self) -> None:
        """Pass the next side over: its request would have nothing to do."""
        self.next_side = next(self.order)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.last_side, self.next_side = self.next_side, next(self.order)
        return self.sessions[self.last_side].request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)
