"""`make gate`: a latency regression check against results/baseline.json.

The rule. The gate runs GATE_TRIALS short trials of a fixed workload (YCSB E: short
scans plus 5% inserts, 10 users, edge profile) on one fresh stack, after a discarded
warm-up trial. Each trial gives one p50 and one p95 per endpoint (from exact HDR
histograms); endpoints with fewer than MIN_REQUESTS requests per trial are shown but not
judged. For each judged endpoint and each of p50 and p95, the current trials are compared
with the baseline's trials by a one-sided Mann-Whitney U test (H1: current is slower). A
metric regresses when both hold:

- p < ALPHA (0.05): the slowdown is unlikely to be trial-to-trial noise, and
- median(current) / median(baseline) - 1 >= MIN_EFFECT (15%): big enough to matter, and
  above the ~8% drift seen between runs minutes apart on a shared 2-core machine.

Any regression makes the gate exit 1. Per-trial percentiles (not pooled requests) are
compared because requests within a trial share its conditions and are not independent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from scipy.stats import mannwhitneyu

from bench.cli import SETUP_ERRORS, OneLineParser, one_line, positive_int
from bench.trials import GATE_LOAD, gate_session
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.settings import HarnessSettings

ALPHA = 0.05
MIN_EFFECT = 0.15
MIN_REQUESTS = 300
METRICS = ("p50_ms", "p95_ms")
GATE_TRIALS = 5

# One trial: endpoint -> {"requests": n, "p50_ms": x, "p95_ms": y}
Trial = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Comparison:
    endpoint: str
    metric: str
    baseline_median: float
    current_median: float
    p_value: float
    judged: bool

    @property
    def change(self) -> float:
        return self.current_median / self.baseline_median - 1

    @property
    def regressed(self) -> bool:
        return self.judged and self.p_value < ALPHA and self.change >= MIN_EFFECT


def slower_p_value(baseline: Sequence[float], current: Sequence[float]) -> float:
    """One-sided Mann-Whitney U: how likely values at least this much slower are by chance."""
    return float(mannwhitneyu(current, baseline, alternative="greater", method="exact").pvalue)


def compare(baseline: Sequence[Trial], current: Sequence[Trial]) -> list[Comparison]:
    """Every endpoint both sides saw in every trial, for each metric."""
    endpoints = set.intersection(*(set(t) for t in [*baseline, *current]))
    comparisons = []
    for endpoint in sorted(endpoints):
        judged = min(t[endpoint]["requests"] for t in baseline) >= MIN_REQUESTS
        for metric in METRICS:
            base = [t[endpoint][metric] for t in baseline]
            cur = [t[endpoint][metric] for t in current]
            comparisons.append(
                Comparison(
                    endpoint,
                    metric,
                    statistics.median(base),
                    statistics.median(cur),
                    slower_p_value(base, cur),
                    judged,
                )
            )
    return comparisons


def verdict(comparisons: Sequence[Comparison]) -> bool:
    """True when nothing regressed."""
    return not any(c.regressed for c in comparisons)


def format_comparisons(comparisons: Sequence[Comparison]) -> str:
    width = max([len("endpoint"), *(len(c.endpoint) for c in comparisons)])
    header = (
        f"{'endpoint':<{width}}  {'metric':<6}  {'baseline':>9}  {'current':>9}"
        f"  {'change':>7}  {'p':>6}  verdict"
    )
    lines = [header, "-" * len(header)]
    for c in comparisons:
        status = "REGRESSED" if c.regressed else ("ok" if c.judged else "not judged")
        lines.append(
            f"{c.endpoint:<{width}}  {c.metric.removesuffix('_ms'):<6}  {c.baseline_median:>9.2f}"
            f"  {c.current_median:>9.2f}  {100 * c.change:>+6.1f}%  {c.p_value:>6.3f}  {status}"
        )
    rule = f"rule: one-sided Mann-Whitney U p < {ALPHA} and change >= +{100 * MIN_EFFECT:.0f}%"
    return "\n".join([*lines, rule, "(medians over trials, in ms)"])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="python -m bench.gate", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=None, help="default results/baseline.json")
    parser.add_argument("--write-baseline", action="store_true", help="record, do not compare")
    parser.add_argument("--trials", type=positive_int, default=GATE_TRIALS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        try:
            return _run(args)
        except KeyboardInterrupt:
            # The stack is stopped by now; too few trials to judge or to keep as a baseline.
            print("gate: interrupted; stack stopped; nothing judged or written", file=sys.stderr)
            return INTERRUPTED_EXIT_CODE


def _run(args: argparse.Namespace) -> int:
    settings = HarnessSettings()
    path = args.baseline or settings.results_dir / "baseline.json"
    if not args.write_baseline and not path.exists():
        print(f"gate: no baseline at {path}; run `make baseline`", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        with gate_session(settings) as session:
            trials = [session.trial(f"trial-{i}") for i in range(args.trials)]
    except SETUP_ERRORS as error:
        print(f"gate: {one_line(error)}", file=sys.stderr)
        return 2
    elapsed_s = time.perf_counter() - started
    if args.write_baseline:
        body = {"load": asdict(GATE_LOAD), "trials": trials, **session.provenance}
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        print(f"gate: baseline of {len(trials)} trials written to {path} ({elapsed_s:.0f}s)")
        return 0
    comparisons = compare(json.loads(path.read_text())["trials"], trials)
    print(format_comparisons(comparisons))
    passed = verdict(comparisons)
    print(f"gate: {'PASS' if passed else 'FAIL: latency regressed'} ({elapsed_s:.0f}s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
