"""Matplotlib figures as base64 PNGs, so a report is one file that opens without a network.

Figures are built with `matplotlib.figure.Figure` (no pyplot): no global state, no GUI
backend, safe in any process.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from reports.data import Series, Window

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.2, 90
SHADE = ("#e53935", "#fb8c00", "#8e24aa", "#3949ab", "#00897b")
PERCENTILE_STYLE = {"p50": "#1e88e5", "p95": "#f4511e", "p99": "#6d4c41"}
TIME_AXIS = "time from the test's start (s)"


def png_base64(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def shade(axes: Axes, windows: Sequence[Window], *, label: bool) -> None:
    """Fault windows as coloured bands, one colour per kind of fault."""
    colours: dict[str, str] = {}
    for window in windows:
        first = window.label not in colours
        colour = colours.setdefault(window.label, SHADE[len(colours) % len(SHADE)])
        axes.axvspan(
            window.start_s,
            window.end_s,
            color=colour,
            alpha=0.15,
            label=window.label if label and first else None,
        )


def latency_and_throughput(
    title: str,
    t_s: Sequence[float],
    percentiles_ms: dict[str, Sequence[float]],
    rps: Sequence[float],
    errors_per_s: Sequence[float],
    windows: Sequence[Window],
) -> str:
    """Latency percentiles over time above throughput and errors, fault windows shaded."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
    latency, rate = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for name, values in percentiles_ms.items():
        latency.plot(
            t_s, values, label=name, color=PERCENTILE_STYLE.get(name), linewidth=1.4, marker="."
        )
    shade(latency, windows, label=True)
    latency.set_ylabel("latency (ms)")
    latency.set_ylim(bottom=0)
    latency.set_title(title)
    latency.legend(loc="upper left", fontsize="small", ncols=2)
    latency.grid(alpha=0.3)
    rate.plot(t_s, rps, label="requests/s", color="#43a047", linewidth=1.4)
    rate.plot(t_s, errors_per_s, label="errors/s", color="#e53935", linewidth=1.4)
    shade(rate, windows, label=False)
    rate.set_ylabel("rate (requests/s)")
    rate.set_ylim(bottom=0)
    rate.set_xlabel(TIME_AXIS)
    rate.legend(loc="upper left", fontsize="small")
    rate.grid(alpha=0.3)
    return png_base64(figure)


def series_figure(title: str, series: Series, windows: Sequence[Window]) -> str:
    return latency_and_throughput(
        title, series.t_s, series.percentiles_ms, series.rps, series.errors_per_s, windows
    )


def endpoints_p95(title: str, series: Sequence[Series], windows: Sequence[Window]) -> str:
    """Each endpoint's p95 over time on one chart."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN * 0.6))
    axes = figure.subplots()
    for one in series:
        axes.plot(one.t_s, one.percentiles_ms["p95"], label=one.name, linewidth=1.2)
    shade(axes, windows, label=False)
    axes.set_title(title)
    axes.set_ylabel("p95 latency (ms)")
    axes.set_ylim(bottom=0)
    axes.set_xlabel(TIME_AXIS)
    axes.legend(loc="upper left", fontsize="small")
    axes.grid(alpha=0.3)
    return png_base64(figure)


def per_trial(title: str, trials: dict[str, list[float]], ylabel: str) -> str:
    """One value per trial for each side (the gate's A and B), trial by trial."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN * 0.6))
    axes = figure.subplots()
    for side, values in trials.items():
        axes.plot(range(1, len(values) + 1), values, marker="o", label=side, linewidth=1.2)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    axes.set_xlabel("trial")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="lower left", fontsize="small")
    axes.grid(alpha=0.3)
    return png_base64(figure)
