"""The comparison itself: what it forgives and what it must still catch."""

from __future__ import annotations

import math

from tests.localturso.conformance.compare import normalize


def _float(value: float) -> dict[str, object]:
    return normalize({"type": "float", "value": value})


def test_floats_one_unit_apart_across_a_rounding_boundary_are_the_same() -> None:
    # Seen from sqld and the local server: 15-digit rounding put these two apart.
    sqld = 1.613908901260785e99
    local = math.nextafter(sqld, 0.0)
    assert _float(sqld) == _float(local)


def test_floats_that_really_differ_are_told_apart() -> None:
    assert _float(1.5) != _float(1.5000000001)
    assert _float(1e300) != _float(2e300)
    assert {"value": _float(0.1)} != {"value": _float(0.2)}
