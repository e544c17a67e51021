"""How good is the gate? Detection of a +20% latency and false alarms on identical builds.

Run: `make bench-quality` (about 5 minutes). On one gate stack it alternates control
trials with treatment trials (ABAB, as benchstat advises, so drift hits both alike),
where the treatment delays every response on the `api` link by 20% of the first control
trial's aggregated p50. The gate's rule is then applied to many draws of GATE_TRIALS
trials: a baseline drawn from the first half's control trials, and as "current" either
later control trials (an identical build: any flag is a false alarm) or later treatment
trials (a regression: a flag is a detection). Baseline and current never share a trial
and are minutes apart, as a committed baseline and a CI run would be.
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Sequence

from bench.gate import GATE_TRIALS, compare, verdict
from bench.summary import AGGREGATED
from bench.trials import gate_session
from harness.settings import HarnessSettings

PAIRS = 16
REGRESSION = 0.20
MAX_DRAWS = 2000


def flag_rate(
    baseline_pool: Sequence[dict], current_pool: Sequence[dict], rng: random.Random
) -> float:
    """Share of (baseline, current) draws of GATE_TRIALS trials each that the gate flags."""
    draws = list(
        itertools.product(
            itertools.combinations(baseline_pool, GATE_TRIALS),
            itertools.combinations(current_pool, GATE_TRIALS),
        )
    )
    chosen = rng.sample(draws, min(MAX_DRAWS, len(draws)))
    return sum(not verdict(compare(base, cur)) for base, cur in chosen) / len(chosen)


def main() -> int:
    settings = HarnessSettings()
    started = time.perf_counter()
    control: list[dict] = []
    treatment: list[dict] = []
    with gate_session(settings, settings.results_dir / "gate-quality") as session:
        control.append(session.trial("control-0"))
        delay_ms = REGRESSION * control[0][AGGREGATED]["p50_ms"]
        for i in range(PAIRS):
            with session.extra_latency(delay_ms):
                treatment.append(session.trial(f"treatment-{i}"))
            if i + 1 < PAIRS:
                control.append(session.trial(f"control-{i + 1}"))
    half = PAIRS // 2
    rng = random.Random(0)
    false_alarms = flag_rate(control[:half], control[half:], rng)
    detection = flag_rate(control[:half], treatment[half:], rng)
    elapsed_s = time.perf_counter() - started
    print(f"injected: +{delay_ms:.2f} ms per response (+20% of p50), {PAIRS} trial pairs")
    print(f"detection rate (+20% latency flagged): {100 * detection:5.1f}%  (goal >= 95%)")
    print(f"false-alarm rate (identical flagged):  {100 * false_alarms:5.1f}%  (goal <= 5%)")
    print(f"quality run took {elapsed_s:.0f}s")
    return 0 if detection >= 0.95 and false_alarms <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
