"""A stored baseline is judged only under the same conditions."""

from __future__ import annotations

from stackbench.comparable import LOAD_TOLERANCE, differences

SAME = {
    "platform": "Linux-6-x86_64",
    "cpu_count": 2,
    "python": "3.11.7",
    "packages": {"fastapi": "1.0", "locust": "2.0"},
    "load_per_cpu": 0.1,
}


def test_identical_conditions_are_comparable() -> None:
    assert differences(SAME, dict(SAME)) == []


def test_each_difference_is_named() -> None:
    now = {
        **SAME,
        "cpu_count": 4,
        "packages": {"fastapi": "1.1", "locust": "2.0"},
        "load_per_cpu": 0.1 + LOAD_TOLERANCE + 0.05,
    }

    reasons = differences(SAME, now)

    assert len(reasons) == 3
    assert any(r.startswith("cpu_count: baseline 2, now 4") for r in reasons)
    assert any(r.startswith("fastapi: baseline 1.0, now 1.1") for r in reasons)
    assert any(r.startswith("machine load per CPU") for r in reasons)


def test_a_baseline_without_the_load_or_packages_is_not_comparable() -> None:
    old = {k: v for k, v in SAME.items() if k not in ("load_per_cpu", "packages")}

    reasons = differences(old, SAME)

    assert "machine load: not recorded in the baseline" in reasons
    assert any("fastapi: baseline not recorded" in r for r in reasons)
