"""Whether a stored baseline was measured under the same conditions as this run.

A stored baseline (`make gate BASE=file`) is only comparable on the same platform, CPU
count, Python and package versions, over the same transport (when the current conditions
name one), and at a similar machine load; otherwise the gate
says "not comparable" instead of judging machine drift as a regression.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

LOAD_TOLERANCE = 0.25  # 1-minute load average per CPU may differ by this much
SAME = ("platform", "cpu_count", "python")


def machine_load() -> float:
    """The 1-minute load average per CPU: 0 is idle, 1 is every core busy."""
    return round(os.getloadavg()[0] / (os.cpu_count() or 1), 2)


def differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Why the two are not comparable, one line each; empty when they are."""
    reasons = [
        f"{key}: baseline {recorded.get(key, 'not recorded')}, now {current[key]}"
        for key in SAME
        if recorded.get(key) != current[key]
    ]
    old_packages = recorded.get("packages", {})
    reasons += [
        f"{name}: baseline {old_packages.get(name, 'not recorded')}, now {version}"
        for name, version in sorted(current["packages"].items())
        if old_packages.get(name) != version
    ]
    if "transport" in current and recorded.get("transport") != current["transport"]:
        was = recorded.get("transport", "not recorded")
        reasons.append(f"transport: baseline {was}, now {current['transport']}")
    old_load = recorded.get("load_per_cpu")
    if old_load is None:
        reasons.append("machine load: not recorded in the baseline")
    elif abs(float(old_load) - current["load_per_cpu"]) > LOAD_TOLERANCE:
        reasons.append(
            f"machine load per CPU: baseline {old_load:.2f}, now {current['load_per_cpu']:.2f}"
            f" (tolerance {LOAD_TOLERANCE})"
        )
    return reasons
