"""A/B users: requests alternate A B B A between two apps, each named with its side."""

from __future__ import annotations

from typing import Any

import pytest

from harness.hdr import Recorder, endpoint_summaries, side_exact
from loadtests.ab_client import AlternatingClient, SideLabel


class FakeSession:
    def __init__(self, side: str, sent: list[str]) -> None:
        self.side, self.sent = side, sent

    def request(self, method: str, url: str, **_: Any) -> str:
        self.sent.append(self.side)
        return f"{self.side} {method} {url}"


class FakeEvent:
    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    def fire(self, **meta: Any) -> None:
        self.fired.append(meta)


def test_requests_alternate_abba_so_each_side_goes_first_as_often() -> None:
    sent: list[str] = []
    client = AlternatingClient({s: FakeSession(s, sent) for s in "AB"})  # type: ignore[misc]

    assert client.get("/x") == "A GET /x"
    assert client.post("/y") == "B POST /y"
    for _ in range(6):
        client.patch("/z")

    assert "".join(sent) == "ABBAABBA"


def test_the_client_says_where_requests_went_and_go_and_can_pass_a_side_over() -> None:
    sent: list[str] = []
    client = AlternatingClient({s: FakeSession(s, sent) for s in "AB"})  # type: ignore[misc]

    assert client.next_side == "A"
    client.get("/x")
    assert (client.last_side, client.next_side) == ("A", "B")
    client.skip()  # B had nothing to do: the next request goes where B's would have followed
    assert client.next_side == "B"
    client.get("/x")
    assert sent == ["A", "B"]
    assert client.last_side == "B"


def test_side_label_prefixes_the_name_and_passes_the_rest() -> None:
    event = FakeEvent()

    SideLabel("B", event).fire(request_type="GET", name="/posts", response_time=3.0)

    assert event.fired == [{"request_type": "GET", "name": "[B] /posts", "response_time": 3.0}]


def test_each_side_of_a_run_is_summarised_on_its_own() -> None:
    recorder = Recorder()
    for _ in range(10):
        recorder.record("GET", "[A] /posts", 10.0, failed=False)
        recorder.record("GET", "[B] /posts", 30.0, failed=False)
    recorder.record("GET", "[B] /posts", 1.0, failed=True)
    exact = {"duration_s": 1.0, "endpoints": recorder.drain()}

    a = endpoint_summaries(side_exact(exact, "A"))
    b = endpoint_summaries(side_exact(exact, "B"))

    assert set(a) == set(b) == {"GET /posts", "Aggregated"}
    assert a["Aggregated"].requests == 10
    assert b["Aggregated"].errors == 1
    assert b["GET /posts"].p50_ms == pytest.approx(30.0, rel=1e-3)
