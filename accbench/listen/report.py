"""The files of a listening-study analysis: Markdown, CSV tables and one figure.

- :func:`render_markdown`: the analysis as Markdown (what ``listen analyze`` prints).
- :func:`plot_analysis`: the figure: Bradley-Terry strengths and win rates per system, and each metric's
  agreement with the listeners.
- :func:`write_analysis`: every file, atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from accbench.atomic import atomic_path, atomic_write_text
from accbench.listen.analyze import Analysis
from accbench.reports.markdown import escape_cell, format_interval, format_number

__all__ = ["AnalysisFiles", "plot_analysis", "render_markdown", "write_analysis"]


@dataclass
class AnalysisFiles:
    """Where :func:`write_analysis` wrote each file."""

    markdown: Path
    tables: list[Path]
    figure: Path


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _p(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"


def _separating(analysis: Analysis) -> tuple[pd.DataFrame, list[str]]:
    """The metrics that differ on some trial, and the names of those equal on every trial."""
    table = analysis.metrics
    if table.empty:
        return table, []
    constant = table["metric_ties"] >= analysis.n_comparisons
    return table[~constant], sorted(table.loc[constant, "metric"])


def render_markdown(analysis: Analysis) -> str:
    """The analysis as Markdown: participants, systems, the paper's tests and the metrics' agreement."""
    p, s = analysis.participants, analysis.systems
    percent = round(100 * analysis.options.confidence)
    kept = int(p["kept"].sum())
    parts = [
        f"# Listening-study analysis: {escape_cell(analysis.title)}",
        f"{kept} of {len(p)} participants kept ({int(p['checks'].sum())} attention checks answered, "
        f"{int(p['failed_checks'].sum())} failed; at most {analysis.options.max_failed_checks} failures allowed); "
        f"{analysis.n_comparisons} comparisons. Intervals: {percent}% percentile bootstrap over participants "
        f"({analysis.options.n_boot} resamples, seed {analysis.options.seed}).",
        "## Systems",
        _table(
            ["system", "comparisons", "win rate", "Bradley-Terry log-strength", "coherence", "quality"],
            [
                [
                    r.system,
                    str(r.comparisons),
                    format_interval(r.win_rate, r.win_rate_low, r.win_rate_high),
                    format_interval(r.bt_strength, r.bt_low, r.bt_high),
                    f"{format_number(r.coherence_mean)} (n={r.coherence_n})",
                    f"{format_number(r.quality_mean)} (n={r.quality_n})",
                ]
                for r in s.itertuples()
            ],
        ),
        "## Tests (as in the seed paper)",
        "Kruskal-Wallis over the systems' per-participant scores:",
        _table(
            ["measure", "participants", "H", "p"],
            [[r.measure, str(r.participants), format_number(r.H), _p(r.p)] for r in analysis.tests.itertuples()],
        ),
        "Paired Wilcoxon signed-rank tests of the per-participant win rates, Bonferroni-corrected:",
        _table(
            ["system 1", "system 2", "participants", "median difference", "W", "p", "p (Bonferroni)"],
            [
                [
                    r.system_1,
                    r.system_2,
                    str(r.participants),
                    format_number(r.median_difference),
                    format_number(r.W),
                    _p(r.p),
                    _p(r.p_bonferroni),
                ]
                for r in analysis.pairs.itertuples()
            ],
        ),
        "## Metrics against the listeners",
    ]
    metrics, constant = _separating(analysis)
    if metrics.empty:
        parts.append("The run has no metric that tells the study's systems apart on its trials.")
    else:
        parts.append(
            "Pairwise accuracy: how often the metric prefers the side the listener chose on the same trials "
            "(0.5 is chance; a metric tie counts one half). Kendall tau: the metric's ranking of the systems "
            "(mean over the study's songs) against the Bradley-Terry ranking."
        )
        parts.append(
            _table(
                ["metric", "better", "pairwise accuracy", "metric ties", "Kendall tau", "p"],
                [
                    [
                        r.metric,
                        r.direction,
                        format_interval(r.pairwise_accuracy, r.accuracy_low, r.accuracy_high),
                        str(r.metric_ties),
                        format_number(r.kendall_tau),
                        _p(r.kendall_p),
                    ]
                    for r in metrics.itertuples()
                ],
            )
        )
    if constant:
        parts.append("Equal on every trial (no ranking, left out): " + ", ".join(constant) + ".")
    return "\n\n".join(parts) + "\n"


def plot_analysis(analysis: Analysis, *, max_metrics: int = 20) -> Figure:
    """Left: Bradley-Terry log-strength (and win rate) per system with intervals; right: metric pairwise accuracy."""
    s = analysis.systems.iloc[::-1]
    m = _separating(analysis)[0]
    m = m.head(max_metrics).iloc[::-1] if not m.empty else m
    height = max(3.0, 0.32 * max(len(s), len(m)) + 1.4)
    figure = Figure(figsize=(11, height), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.2])
    y = np.arange(len(s))
    error = np.vstack([s["bt_strength"] - s["bt_low"], s["bt_high"] - s["bt_strength"]]).clip(min=0)
    left.errorbar(s["bt_strength"], y, xerr=error, fmt="o", color="#0072B2", capsize=3)
    left.axvline(0.0, color="#999", lw=0.8)
    left.set_yticks(y, [f"{name}  ({rate:.0%} wins)" for name, rate in zip(s["system"], s["win_rate"], strict=True)])
    left.set_xlabel("Bradley-Terry log-strength (0 = average system)")
    left.set_title(f"Listener preference ({analysis.n_comparisons} comparisons)")
    if m.empty:
        right.text(0.5, 0.5, "no metric tells\nthe systems apart", ha="center", va="center")
        right.set_axis_off()
    else:
        y = np.arange(len(m))
        error = np.vstack([m["pairwise_accuracy"] - m["accuracy_low"], m["accuracy_high"] - m["pairwise_accuracy"]])
        right.barh(y, m["pairwise_accuracy"], color="#E69F00", alpha=0.85)
        right.errorbar(m["pairwise_accuracy"], y, xerr=error.clip(min=0), fmt="none", color="#333", capsize=2)
        right.axvline(0.5, color="#D55E00", lw=1, ls="--", label="chance")
        taus = [
            f"{name}  (τ={tau:+.2f})" if np.isfinite(tau) else name
            for name, tau in zip(m["metric"], m["kendall_tau"], strict=True)
        ]
        right.set_yticks(y, taus)
        right.set_xlim(0, 1)
        right.set_xlabel("pairwise accuracy against the listeners' choices")
        shown = f" (best {len(m)} of {len(_separating(analysis)[0])})" if len(_separating(analysis)[0]) > len(m) else ""
        right.set_title(f"Does the metric agree with people?{shown}")
        right.legend(loc="lower right", fontsize=8)
    return figure


def write_analysis(analysis: Analysis, out: str | os.PathLike, *, dpi: int = 110) -> AnalysisFiles:
    """Write ``analysis.md``, the CSV tables and ``analysis.png`` into ``out``."""
    out = Path(out)
    markdown = out / "analysis.md"
    atomic_write_text(markdown, render_markdown(analysis))
    tables = []
    frames: dict[str, pd.DataFrame] = {
        "systems": analysis.systems,
        "tests": analysis.tests,
        "pairs": analysis.pairs,
        "metrics": analysis.metrics,
        "participants": analysis.participants,
    }
    for name, frame in frames.items():
        path = out / f"{name}.csv"
        atomic_write_text(path, frame.to_csv(index=False))
        tables.append(path)
    figure_path = out / "analysis.png"
    with atomic_path(figure_path) as temporary:
        plot_analysis(analysis).savefig(temporary, format="png", dpi=dpi)
    return AnalysisFiles(markdown, tables, figure_path)
