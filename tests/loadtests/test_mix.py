"""Each YCSB workload sends its intended operation ratios through the real user classes.

Locust monkey-patches the standard library when imported, so the users run in a child
process against a recording fake client; it prints how many requests each endpoint got.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest

from harness.settings import PROJECT_ROOT
from loadtests.mix import Mix, Op

STEPS = 4000

DRIVER = """
import json, sys, types
from collections import Counter
from locust.env import Environment
from loadtests.users.ycsb import YcsbA, YcsbB, YcsbC, YcsbD, YcsbE, YcsbF

class Response:
    def __init__(self, status, body):
        self.status_code, self._body = status, body
    def json(self):
        return self._body

class FakeClient:
    def __init__(self):
        self.sent = Counter()
    def _send(self, method, name, status, body):
        self.sent[f"{method} {name}"] += 1
        return Response(status, body)
    def get(self, path, name, params=None):
        return self._send("GET", name, 200, {"id": 1, "content": "c"})
    def post(self, path, json, headers, name):
        return self._send("POST", name, 201, {"id": 5000})
    def patch(self, path, json, name):
        return self._send("PATCH", name, 200, {})

options = types.SimpleNamespace(
    first_id=1, last_id=1000, commented_posts=200, think_ms=0, ab_host=""
)
counts = {}
for cls in (YcsbA, YcsbB, YcsbC, YcsbD, YcsbE, YcsbF):
    cls.host = "http://127.0.0.1:1"  # never dialled: the fake client replaces the real one
    user = cls(Environment(parsed_options=options))
    user.client = FakeClient()
    user.on_start()
    for _ in range(int(sys.argv[1])):
        user.step()
    counts[cls.__name__] = dict(user.client.sent)
print(json.dumps(counts))
"""

READ, PATCH, POST, SCAN = (
    "GET /posts/{id}",
    "PATCH /posts/{id}",
    "POST /posts",
    "GET /posts?after&limit",
)
# Requests per step: F's read-modify-write is a read plus an update, as in YCSB.
EXPECTED = {
    "YcsbA": {READ: 0.5, PATCH: 0.5},
    "YcsbB": {READ: 0.95, PATCH: 0.05},
    "YcsbC": {READ: 1.0},
    "YcsbD": {READ: 0.95, POST: 0.05},
    "YcsbE": {SCAN: 0.95, POST: 0.05},
    "YcsbF": {READ: 1.0, PATCH: 0.5},
}


@pytest.fixture(scope="module")
def sent() -> dict[str, dict[str, int]]:
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(STEPS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_workload_sends_intended_ratios(sent: dict[str, dict[str, int]], user: str) -> None:
    per_step = {endpoint: n / STEPS for endpoint, n in sent[user].items()}

    assert set(per_step) == set(EXPECTED[user])
    for endpoint, share in EXPECTED[user].items():
        assert per_step[endpoint] == pytest.approx(share, abs=0.025), endpoint


def test_mix_draws_in_proportion() -> None:
    mix, rng = Mix({Op.READ: 3, Op.UPDATE: 1}), random.Random(3)
    counts = Counter(mix.choose(rng) for _ in range(20_000))

    assert counts[Op.READ] / 20_000 == pytest.approx(0.75, abs=0.015)


def test_mix_rejects_empty_or_non_positive_shares() -> None:
    with pytest.raises(ValueError, match="positive"):
        Mix({Op.READ: 1, Op.UPDATE: 0})
