"""The gate's statistics and verdicts, pure: per-trial figures in, comparisons out.

Each side (baseline A, candidate B) is a list of trials; a trial maps an endpoint to its
request and error counts and its success-only p50/p95, and its Aggregated row also holds
the CPU microseconds per request of that side's app and database processes. Latency and
CPU, on log values so effects are ratios: when trial i of A and of B ran at the same time
(paired, the A/B gate), a one-sided exact Wilcoxon signed-rank test on the per-trial log
ratios and their Hodges-Lehmann estimate (median of Walsh averages); when they did not (a
stored baseline), a one-sided exact Mann-Whitney U test and the two-sample Hodges-Lehmann shift.
Both intervals are the exact distribution-free ones that match their test. Errors: per
trial, never pooled (one bad trial must not decide): a one-sided sign test over the paired
trials' error-rate differences, or a one-sided Mann-Whitney U over per-trial rates.
A missing or NaN figure never passes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import numpy as np
from scipy.stats import binomtest, mannwhitneyu, wilcoxon

from harness.hdr import AGGREGATED

ALPHA = 0.05
MIN_EFFECT = 0.15  # relative latency or CPU shift that fails the gate (with p < ALPHA)
MIN_ERROR_RISE = 0.001  # +0.1 percentage point of error rate (with p < ALPHA)
# Per route, side and trial, for its latency to be judged: p95 then rests on 5+ requests
# above it. Fewer only cost power (the tests stay exact); the MDE table shows how much.
MIN_REQUESTS = 100
CI_LEVEL = 0.95
METRICS = ("p50_ms", "p95_ms")
# CPU per request of each side's own processes, from their kernel counters over the trial:
# steadier than latency on a shared machine (docs/measurements/cpu-per-request.md), so judged
# beside it.
CPU_METRICS = ("app_cpu_us", "database_cpu_us")
_CPU_LABELS = {"app_cpu_us": "app cpu", "database_cpu_us": "db cpu"}

# One trial: endpoint -> {"requests": n, "errors": e, "p50_ms": x, "p95_ms": y}
Trial = Mapping[str, Mapping[str, float]]


class Status(StrEnum):
    OK = "ok"
    REGRESSED = "REGRESSED"
    NOT_JUDGED = "not judged"  # too few requests per trial for stable percentiles
    NEW = "new"  # only the candidate has it
    MISSING = "MISSING"  # the baseline has it, the candidate does not: fails
    NO_DATA = "NO DATA"  # NaN or absent figures: fails

    @property
    def fails(self) -> bool:
        return self in (Status.REGRESSED, Status.MISSING, Status.NO_DATA)


@dataclass(frozen=True)
class Effect:
    """Relative change (candidate / baseline - 1) with its confidence interval."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """One endpoint's one figure (p50, p95 or error rate), baseline against candidate."""

    endpoint: str
    metric: str  # "p50_ms", "p95_ms", "errors" or one of CPU_METRICS
    baseline: float  # median over trials (ms or CPU µs per request), or pooled error rate
    candidate: float
    effect: Effect  # relative for latency; absolute difference of rates for errors
    p_value: float
    status: Status

    @property
    def fails(self) -> bool:
        return self.status.fails


NAN_EFFECT = Effect(math.nan, math.nan, math.nan)


@cache
def u_null_counts(m: int, n: int) -> tuple[int, ...]:
    """How many of the C(m+n, m) orderings give each Mann-Whitney U = 0..m*n (no ties)."""
    if m == 0 or n == 0:
        return (1,)
    smaller = np.zeros(m * n + 1, dtype=object)
    last_a = u_null_counts(m - 1, n)  # the largest value is from the first sample: U += n
    smaller[n : n + len(last_a)] += np.array(last_a, dtype=object)
    last_b = u_null_counts(m, n - 1)
    smaller[: len(last_b)] += np.array(last_b, dtype=object)
    return tuple(int(c) for c in smaller)


def hl_rank(m: int, n: int, level: float = CI_LEVEL) -> int:
    """c such that the sorted pairwise differences d[c-1] .. d[m*n-c] cover `level` (1-based c).

    0 means the samples are too small for an interval at that level.
    """
    return _rank_from_counts(u_null_counts(m, n), level)


def hodges_lehmann(baseline: Sequence[float], candidate: Sequence[float]) -> Effect:
    """Relative shift of candidate over baseline: the median of all pairwise log ratios.

    The interval is the exact distribution-free one that matches the Mann-Whitney test.
    """
    values = [*baseline, *candidate]
    if not baseline or not candidate or any(v <= 0 or math.isnan(v) for v in values):
        return NAN_EFFECT
    diffs = np.sort(np.subtract.outer(np.log(candidate), np.log(baseline)).ravel())
    estimate = math.expm1(float(np.median(diffs)))
    c = hl_rank(len(baseline), len(candidate))
    if c == 0:
        return Effect(estimate, -math.inf, math.inf)
    return Effect(estimate, math.expm1(diffs[c - 1]), math.expm1(diffs[len(diffs) - c]))


@cache
def signed_rank_null_counts(n: int) -> tuple[int, ...]:
    """How many of the 2**n sign patterns give each signed-rank sum T+ = 0..n(n+1)/2."""
    counts = [1]
    for rank in range(1, n + 1):
        grown = [*counts, *([0] * rank)]
        for total, count in enumerate(counts):
            grown[total + rank] += count
        counts = grown
    return tuple(counts)


def _rank_from_counts(counts: Sequence[int], level: float) -> int:
    """c such that the sorted statistics d[c-1] .. d[N-c] cover `level` (1-based; 0: none)."""
    total = sum(counts)
    tail = (1 - level) / 2
    cumulative, c = 0, 0
    for value, count in enumerate(counts):
        cumulative += count
        if cumulative / total > tail:
            break
        c = value + 1
    return c


def paired_hodges_lehmann(baseline: Sequence[float], candidate: Sequence[float]) -> Effect:
    """Relative change of paired trials: the median Walsh average of their log ratios."""
    values = [*baseline, *candidate]
    if (
        not baseline
        or len(baseline) != len(candidate)
        or any(v <= 0 or math.isnan(v) for v in values)
    ):
        return NAN_EFFECT
    d = np.log(candidate) - np.log(baseline)
    i, j = np.triu_indices(len(d))
    walsh = np.sort((d[i] + d[j]) / 2)
    estimate = math.expm1(float(np.median(walsh)))
    c = _rank_from_counts(signed_rank_null_counts(len(d)), CI_LEVEL)
    if c == 0:
        return Effect(estimate, -math.inf, math.inf)
    return Effect(estimate, math.expm1(walsh[c - 1]), math.expm1(walsh[len(walsh) - c]))


def paired_slower_p_value(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """One-sided exact Wilcoxon signed-rank test on the log ratios of paired trials."""
    d = np.log(candidate) - np.log(baseline)
    if not np.any(d):
        return 1.0
    return float(wilcoxon(d, alternative="greater", method="exact").pvalue)


def slower_p_value(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """One-sided Mann-Whitney U: how likely a candidate at least this much slower is by chance."""
    return float(mannwhitneyu(candidate, baseline, alternative="greater", method="exact").pvalue)


def paired_more_errors_p_value(base_rates: Sequence[float], cand_rates: Sequence[float]) -> float:
    """One-sided sign test: in how many paired trials the candidate had the higher error
    rate (ties, such as none on either side, tell nothing and are left out)."""
    worse = sum(c > b for b, c in zip(base_rates, cand_rates, strict=True))
    better = sum(c < b for b, c in zip(base_rates, cand_rates, strict=True))
    if worse + better == 0:
        return 1.0
    return float(binomtest(worse, worse + better, alternative="greater").pvalue)


def more_errors_p_value(base_rates: Sequence[float], cand_rates: Sequence[float]) -> float:
    """One-sided Mann-Whitney U over per-trial error rates (trials not run together)."""
    if max(*base_rates, *cand_rates) == min(*base_rates, *cand_rates):
        return 1.0
    return float(mannwhitneyu(cand_rates, base_rates, alternative="greater").pvalue)


def _values(trials: Sequence[Trial], endpoint: str, metric: str) -> list[float]:
    return [float(t[endpoint].get(metric, math.nan)) if endpoint in t else math.nan for t in trials]


def _requests(trials: Sequence[Trial], endpoint: str) -> list[int]:
    """Requests per trial; a trial without the endpoint had none (never NaN, so the rule
    does not depend on which trial it was)."""
    return [int(t[endpoint].get("requests", 0)) if endpoint in t else 0 for t in trials]


def _has_nan(values: Sequence[float]) -> bool:
    return any(math.isnan(v) for v in values)


def compare_latency(
    endpoint: str,
    metric: str,
    baseline: Sequence[Trial],
    candidate: Sequence[Trial],
    paired: bool = False,
) -> Comparison:
    """A latency or CPU figure: fails when significantly (one-sided) at least MIN_EFFECT up."""
    base, cand = _values(baseline, endpoint, metric), _values(candidate, endpoint, metric)
    judged = min(_requests(baseline, endpoint)) >= MIN_REQUESTS
    if _has_nan(base) or _has_nan(cand):
        # Too sparse to have a figure in every trial is "not judged"; a judged one is a failure.
        status = Status.NO_DATA if judged else Status.NOT_JUDGED
        return Comparison(endpoint, metric, math.nan, math.nan, NAN_EFFECT, math.nan, status)
    if paired:
        effect, p = paired_hodges_lehmann(base, cand), paired_slower_p_value(base, cand)
    else:
        effect, p = hodges_lehmann(base, cand), slower_p_value(base, cand)
    if not judged:
        status = Status.NOT_JUDGED
    elif math.isnan(effect.estimate):
        status = Status.NO_DATA
    elif p < ALPHA and effect.estimate >= MIN_EFFECT:
        status = Status.REGRESSED
    else:
        status = Status.OK
    return Comparison(
        endpoint, metric, statistics.median(base), statistics.median(cand), effect, p, status
    )


def _rates(trials: Sequence[Trial], endpoint: str) -> list[float]:
    """Failed / all requests per trial; NaN for a trial without requests."""
    rates = []
    for trial in trials:
        row = trial.get(endpoint, {})
        total = int(row.get("requests", 0))
        rates.append(int(row.get("errors", 0)) / total if total else math.nan)
    return rates


def _pooled_rate(trials: Sequence[Trial], endpoint: str) -> float:
    errors = sum(int(t[endpoint].get("errors", 0)) for t in trials if endpoint in t)
    total = sum(_requests(trials, endpoint))
    return errors / total if total else math.nan


def compare_errors(
    endpoint: str, baseline: Sequence[Trial], candidate: Sequence[Trial], paired: bool = False
) -> Comparison:
    """Fails when the candidate had more errors in significantly many trials and its pooled
    rate rose by at least MIN_ERROR_RISE: one bad trial alone never fails the gate."""
    if any("errors" not in t[endpoint] for t in [*baseline, *candidate] if endpoint in t):
        return _absent(endpoint, ("errors",), Status.NO_DATA)[0]
    base, cand = _rates(baseline, endpoint), _rates(candidate, endpoint)
    if _has_nan(cand):  # the candidate served none in some trial: never a pass
        return _absent(endpoint, ("errors",), Status.NO_DATA)[0]
    if _has_nan(base):  # the baseline served none in some trial: nothing to pair with
        return _absent(endpoint, ("errors",), Status.NOT_JUDGED)[0]
    p = paired_more_errors_p_value(base, cand) if paired else more_errors_p_value(base, cand)
    base_rate, cand_rate = _pooled_rate(baseline, endpoint), _pooled_rate(candidate, endpoint)
    rise = cand_rate - base_rate
    regressed = p < ALPHA and rise >= MIN_ERROR_RISE
    status = Status.REGRESSED if regressed else Status.OK
    effect = Effect(rise, math.nan, math.nan)
    return Comparison(endpoint, "errors", base_rate, cand_rate, effect, p, status)


def _absent(endpoint: str, metrics: Sequence[str], status: Status) -> list[Comparison]:
    nan = math.nan
    return [Comparison(endpoint, m, nan, nan, NAN_EFFECT, nan, status) for m in metrics]


def compare(
    baseline: Sequence[Trial],
    candidate: Sequence[Trial],
    paired: bool = False,
    expected: Sequence[str] = (),
) -> list[Comparison]:
    """Every endpoint either side saw: latency per metric and the error rate.

    `paired`: trial i of each side ran at the same time (they must be as many).
    `expected`: endpoints the workload requests; one that neither side saw is NO DATA.
    """
    if not baseline or not candidate or (paired and len(baseline) != len(candidate)):
        return _absent("(no trials)", ("trials",), Status.NO_DATA)
    in_base = set().union(*(set(t) for t in baseline))
    in_cand = set().union(*(set(t) for t in candidate))
    comparisons: list[Comparison] = []
    for endpoint in sorted(in_base | in_cand | set(expected)):
        if endpoint not in in_base | in_cand:
            comparisons += _absent(endpoint, ("requests",), Status.NO_DATA)
        elif endpoint not in in_cand:
            comparisons += _absent(endpoint, ("requests",), Status.MISSING)
        elif endpoint not in in_base:
            comparisons += _absent(endpoint, ("requests",), Status.NEW)
        else:
            comparisons += [
                compare_latency(endpoint, m, baseline, candidate, paired) for m in METRICS
            ]
            comparisons.append(compare_errors(endpoint, baseline, candidate, paired))
            comparisons += compare_cpu(endpoint, baseline, candidate, paired)
    return comparisons


def compare_cpu(
    endpoint: str, baseline: Sequence[Trial], candidate: Sequence[Trial], paired: bool
) -> list[Comparison]:
    """CPU per request, wherever the baseline's trials all have it; a baseline recorded
    without it (an older results/baseline.json) leaves the candidate's "not judged"."""

    def everywhere(trials: Sequence[Trial], metric: str) -> bool:
        return all(metric in t.get(endpoint, {}) for t in trials)

    def anywhere(trials: Sequence[Trial], metric: str) -> bool:
        return any(metric in t.get(endpoint, {}) for t in trials)

    comparisons: list[Comparison] = []
    for metric in CPU_METRICS:
        if everywhere(baseline, metric):
            comparisons.append(compare_latency(endpoint, metric, baseline, candidate, paired))
        elif anywhere(candidate, metric):
            comparisons += _absent(endpoint, (metric,), Status.NOT_JUDGED)
    return comparisons


def judged_latency(comparisons: Sequence[Comparison]) -> bool:
    """Whether any route's latency had enough requests to be judged (the Aggregated row
    always has: it alone is not a judgement of the routes)."""
    return any(
        c.metric in METRICS
        and c.status in (Status.OK, Status.REGRESSED)
        and c.endpoint != AGGREGATED
        for c in comparisons
    )


def verdict(comparisons: Sequence[Comparison]) -> bool:
    """True when nothing failed and some latency was judged: judging nothing never passes."""
    return judged_latency(comparisons) and not any(c.fails for c in comparisons)


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:+.1f}%"


def _num(value: float, fmt: str) -> str:
    return "n/a" if math.isnan(value) else format(value, fmt)


def _row(c: Comparison) -> tuple[str, ...]:
    if c.metric == "errors":
        return (
            "err%",
            _num(100 * c.baseline, ".2f"),
            _num(100 * c.candidate, ".2f"),
            "n/a" if math.isnan(c.effect.estimate) else f"{100 * c.effect.estimate:+.2f} pp",
            "",
        )
    if c.metric not in (*METRICS, *CPU_METRICS):
        return (c.metric, "", "", "", "")
    ci = f"[{_pct(c.effect.low)}, {_pct(c.effect.high)}]"
    cpu = c.metric in CPU_METRICS
    return (
        _CPU_LABELS[c.metric] if cpu else c.metric.removesuffix("_ms") + " ok",
        _num(c.baseline, ".0f" if cpu else ".2f"),
        _num(c.candidate, ".0f" if cpu else ".2f"),
        _pct(c.effect.estimate),
        ci,
    )


def format_comparisons(comparisons: Sequence[Comparison], paired: bool = False) -> str:
    width = max([len("endpoint"), *(len(c.endpoint) for c in comparisons)])
    header = (
        f"{'endpoint':<{width}}  {'metric':<7}  {'A base':>8}  {'B cand':>8}  {'change':>9}"
        f"  {f'{100 * CI_LEVEL:.0f}% CI':<17}  {'p':>6}  verdict"
    )
    lines = [header, "-" * len(header)]
    for c in comparisons:
        metric, base, cand, change, ci = _row(c)
        lines.append(
            f"{c.endpoint:<{width}}  {metric:<7}  {base:>8}  {cand:>8}  {change:>9}  {ci:<17}"
            f"  {_num(c.p_value, '6.3f'):>6}  {c.status}"
        )
    lines += [
        "p50 ok / p95 ok: percentiles of successful requests only (median over trials, ms);",
        "app cpu / db cpu: CPU µs per request of that side's app / database process, from its"
        " own counters (median over trials);",
        "err%: failed / all requests, pooled over trials; change: Hodges-Lehmann shift B over A;",
        "p: one-sided "
        + (
            "Wilcoxon signed-rank over paired trials (latency, CPU), sign test over paired"
            " trials' error rates (errors)."
            if paired
            else "Mann-Whitney U over trials (latency, CPU, per-trial error rates)."
        ),
        f"rule: latency and CPU fail when one-sided p < {ALPHA} and change >= "
        f"+{100 * MIN_EFFECT:.0f}%; errors fail when p < {ALPHA} and the pooled rate"
        f" rises >= {100 * MIN_ERROR_RISE:.1f} pp; latency is judged on routes with >="
        f" {MIN_REQUESTS} requests in every trial; a MISSING endpoint or NO DATA fails.",
    ]
    return "\n".join(lines)
