"""Every fault scenario, listed explicitly (no import-time discovery)."""

from __future__ import annotations

from chaos.scenarios import (
    api_latency,
    bandwidth,
    baseline,
    blackhole,
    flapping,
    kill_app,
    kill_database,
    latency,
    limit_data,
    outage,
    pause_database,
    rate_limited,
    rate_limited_churn,
    rate_limited_retry_after,
    redis_blackhole,
    redis_outage,
    reset_peer,
    reset_peer_churn,
    reset_peer_intermittent,
    restart_database,
    slicer,
    slow_close,
    stream_expiry,
    token_rotation,
    write_lock,
    write_lock_file,
    ws_half_open,
    ws_reset_in_flight,
    ws_upgrade_refused,
)
from chaos.scenarios.base import Expectation, Fault, Outage, Scenario

SCENARIOS: dict[str, Scenario] = {
    module.SCENARIO.name: module.SCENARIO
    for module in (
        baseline,
        latency,
        bandwidth,
        slow_close,
        blackhole,
        reset_peer,
        reset_peer_intermittent,
        reset_peer_churn,
        slicer,
        limit_data,
        outage,
        flapping,
        api_latency,
        redis_outage,
        redis_blackhole,
        rate_limited,
        rate_limited_churn,
        rate_limited_retry_after,
        write_lock,
        write_lock_file,
        kill_database,
        pause_database,
        kill_app,
        token_rotation,
        ws_reset_in_flight,
        ws_half_open,
        restart_database,
        stream_expiry,
        ws_upgrade_refused,
    )
}


def select(spec: str) -> list[Scenario]:
    """Scenarios from a comma-separated list; `a+b` combines two; `all` is every one."""
    if spec.strip() == "all":
        return list(SCENARIOS.values())
    chosen = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        parts = [SCENARIOS.get(name) for name in item.split("+")]
        unknown = [name for name, found in zip(item.split("+"), parts, strict=True) if not found]
        if unknown:
            known = ", ".join(SCENARIOS)
            raise ValueError(f"unknown scenario {unknown[0]!r}; known: {known}")
        combined = parts[0]
        for part in parts[1:]:
            combined = combined + part
        chosen.append(combined)
    if not chosen:
        raise ValueError("no scenario given")
    return chosen


__all__ = ["SCENARIOS", "Expectation", "Fault", "Outage", "Scenario", "select"]
