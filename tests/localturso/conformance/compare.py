"""Send the same request to sqld and to the local server; compare what legitimately may differ
only by its type (timings, batons, counters), everything else field by field."""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import httpx

# Values that differ between any two servers (or two runs of one): compared by type only.
VOLATILE = {"baton", "query_duration_ms", "replication_index"}
# Counted by sqld with libSQL's own statement counters; the local server estimates them.
ESTIMATED = {"rows_read", "rows_written"}
# sqld parses SQL with its own parser, and JSON with serde: their wording is their own.
OWN_WORDING = {"SQL_PARSE_ERROR"}
WORDED = [
    (re.compile(r"(could not be parsed: ).*?(`?)$"), r"\1<its wording>\2"),
    (re.compile(r"(Cannot deserialize client message from JSON: ).*$"), r"\1<its wording>"),
]


def _reword(text: str) -> str:
    for pattern, replacement in WORDED:
        text = pattern.sub(replacement, text)
    return text


class NearFloat(float):
    """A float equal to any other within a few units in the last place.

    sqld reads JSON floats with serde_json's fast parser, which can be off by one unit in the
    last place (docs/guides/local-server.md, known differences). Rounding both sides to 15
    digits is not enough: two values one unit apart can straddle a rounding boundary and
    still differ.
    """

    ULPS = 4

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, float):
            return NotImplemented
        a, b = float(self), float(other)
        return a == b or abs(a - b) <= self.ULPS * math.ulp(max(abs(a), abs(b)))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = float.__hash__


def normalize(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "float" and "value" in value:
        return {**value, "value": NearFloat(value["value"])}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in VOLATILE | ESTIMATED and item is not None:
                out[key] = f"<{type(item).__name__}>"
            else:
                out[key] = normalize(item)
        if value.get("code") in OWN_WORDING and "message" in value:
            out["message"] = "<parser's wording>"
        return out
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, str):
        return _reword(value)
    return value


@dataclass(frozen=True)
class Answer:
    """An HTTP answer reduced to what a client can see and rely on."""

    status: int
    content_type: str
    body: Any

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        kind = response.headers.get("content-type", "").split(";")[0]
        text = response.text
        body: Any
        if kind == "application/json":
            body = normalize(response.json())
        elif response.request.url.path == "/v3/cursor" and response.is_success:
            body = [normalize(json.loads(line)) for line in text.splitlines() if line]
        else:
            body = _reword(text)
        return cls(response.status_code, kind, body)


def show(answer: Answer) -> list[str]:
    return json.dumps(
        {"status": answer.status, "type": answer.content_type, "body": answer.body},
        indent=1,
        sort_keys=True,
    ).splitlines()


def assert_same(sqld: Answer, local: Answer) -> None:
    """Fails with a unified diff, sqld's answer being the expected one."""
    if sqld != local:
        diff = difflib.unified_diff(show(sqld), show(local), "sqld", "localturso", lineterm="")
        raise AssertionError("local server differs from sqld:\n" + "\n".join(diff))
