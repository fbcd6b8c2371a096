"""Trade-off plots of an aggregate table: what future visibility and chunk size cost each model.

Every function takes the tidy aggregate table of :func:`accbench.reports.aggregate.aggregate` (one row per
model, config and metric with ``mean``, ``ci_low``, ``ci_high``) and returns a
:class:`matplotlib.figure.Figure` made without pyplot (no global state; any backend). Each figure names its
metric, unit and better direction in the title and axes, so it reads without the surrounding text.

- :func:`plot_metric_vs_visibility`: metric vs future visibility (ms), one line per chunk size, 95% bands.
- :func:`plot_metric_vs_chunk`: metric vs chunk size (ms), one line per future visibility.
- :func:`plot_heatmap`: (t_f, k) grid per model, cells annotated, infeasible cells marked.
- :func:`plot_frontier`: for an inference time ``d``, the best value among configs real-time feasible
  under the run's delays (docs/design.md, "Timing semantics").
- :func:`plot_timing_vs_inference`: miss rate and underrun fraction vs mean inference time.
- :func:`make_plots`: all of them for a run, written as PNG and/or SVG.

Built-in baseline models (``baseline`` column) are drawn as reference lines on every metric plot of the
other models (in the vs-visibility figure: per chunk size, thin, in that chunk size's colour, never averaged
over ``k``); configs that are not real-time feasible are drawn with hollow markers (``X`` markers in the
vs-visibility figure, where hollow markers and dashed lines mean the offline regime, ``on_miss = "ignore"``).
Line colours of the vs-visibility figure are Okabe-Ito (:data:`OKABE_ITO`, colour-blind safe).
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from accbench.atomic import atomic_write_bytes
from accbench.reports.load import metric_spec
from accbench.simulators.schedule import delay_samples_array, feasible_future_visibility_array

__all__ = [
    "PlotFile",
    "frontier_table",
    "make_plots",
    "plot_frontier",
    "plot_heatmap",
    "plot_metric_vs_chunk",
    "plot_metric_vs_visibility",
    "plot_timing_vs_inference",
    "save_figure",
]

PANEL_SIZE = (4.4, 3.3)
MAX_COLUMNS = 3
_BASELINE_STYLES = ("--", ":", "-.", (0, (5, 2, 1, 2)), (0, (1, 3)))
_BASELINE_GREYS = ("0.25", "0.45", "0.6", "0.35", "0.5")
TIMING_METRICS = ("timing.miss_rate", "timing.underrun_fraction")


@dataclass
class PlotFile:
    """One figure written by :func:`make_plots`.

    Parameters
    ----------
    name : str
        File stem under ``plots/``.
    kind : str
        ``vs_visibility``, ``vs_chunk``, ``heatmap``, ``frontier`` or ``timing``.
    metric : str or None
    title : str
    paths : list of Path
        The files written (one per format).
    png : bytes
        The PNG rendering (for embedding in HTML).
    """

    name: str
    kind: str
    metric: str | None
    title: str
    paths: list[Path] = field(default_factory=list)
    png: bytes = b""


def _direction_note(metric: str) -> str:
    spec = metric_spec(metric, warn=False)
    return "higher is better" if spec.direction == "higher" else "lower is better"


def _axis_label(metric: str) -> str:
    spec = metric_spec(metric, warn=False)
    arrow = "↑" if spec.direction == "higher" else "↓"
    unit = f" [{spec.unit}]" if spec.unit and spec.unit != "fraction" else ""
    return f"{metric}{unit} ({arrow} better)"


def _prepare(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of ``metric`` with a ``variant`` column (latency/policy, only when they vary) and ``panel`` label."""
    table = summary[summary["metric"] == metric].copy()
    if "label" not in table.columns:
        table["label"] = table["model"].astype(str)
    for column in ("baseline", "feasible"):
        if column not in table.columns:
            table[column] = column == "feasible"
    if "causal" not in table.columns:
        table["causal"] = True
    parts = []
    for column, name in (
        ("latency", "latency"),
        ("on_miss", "on_miss"),
        ("input_latency_ms", "L_in"),
        ("output_latency_ms", "L_out"),
    ):
        if _varies(summary, column):
            parts.append((column, name))
    if parts:
        table["variant"] = [
            ", ".join(f"{name}={_fmt_value(row[column])}" for column, name in parts) for _, row in table.iterrows()
        ]
    else:
        table["variant"] = ""
    return table


def _varies(summary: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` splits the configs into separate lines.

    A miss policy that follows from the future visibility alone (a sweep's ``on_miss = "auto"``: ``ignore`` for
    ``t_f > 0``, ``truncate`` otherwise) does not: those points belong on one line over ``t_f``.
    """
    if column not in summary.columns or summary[column].nunique(dropna=False) <= 1:
        return False
    if column == "on_miss":
        keys = [
            c
            for c in (
                "model",
                "future_visibility_frames",
                "chunk_frames",
                "latency",
                "input_latency_ms",
                "output_latency_ms",
            )
            if c in summary.columns
        ]
        if "future_visibility_frames" in keys:
            return bool((summary.groupby(keys, dropna=False)["on_miss"].nunique(dropna=False) > 1).any())
    return True


def _fmt_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}ms"
    return str(value)


def _panels(table: pd.DataFrame) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """Panels (label, variant) of the non-baseline models (all models when every model is a baseline)."""
    focus = table[~table["baseline"].astype(bool)]
    if focus.empty:
        focus = table
    keys = sorted({(str(a), str(b)) for a, b in zip(focus["label"], focus["variant"], strict=True)})
    return keys, table[table["baseline"].astype(bool)]


def _grid(n_panels: int, *, extra_height: float = 0.0) -> tuple[Figure, list]:
    n_panels = max(1, n_panels)
    columns = min(MAX_COLUMNS, n_panels)
    rows = math.ceil(n_panels / columns)
    figure = Figure(
        figsize=(max(6.4, PANEL_SIZE[0] * columns), PANEL_SIZE[1] * rows + 0.9 + extra_height), layout="constrained"
    )
    axes = figure.subplots(rows, columns, squeeze=False).ravel().tolist()
    for axis in axes[n_panels:]:
        axis.set_visible(False)
    return figure, axes[:n_panels]


def _no_data(axis, message: str = "no values\n(metric skipped or NaN)") -> None:
    axis.text(0.5, 0.5, message, transform=axis.transAxes, ha="center", va="center", color="0.4", fontsize=10)


def _panel_title(label: str, variant: str, causal: bool) -> str:
    title = label if causal else f"{label} (non-causal)"
    return f"{title}\n{variant}" if variant else title


def _baseline_groups(baselines: pd.DataFrame, skip_label: str) -> Iterator[tuple[int, str, pd.DataFrame]]:
    """Each baseline's rows with a finite mean, as ``(index, label, rows)`` in label order; ``index`` picks its
    line style, and the baseline of the panel's own model (``skip_label``) is left out."""
    for index, (label, group) in enumerate(sorted(baselines.groupby("label"), key=lambda item: str(item[0]))):
        finite = group[np.isfinite(group["mean"].to_numpy(dtype=float))]
        if str(label) != skip_label and not finite.empty:
            yield index, str(label), finite


def _draw_baselines(axis, baselines: pd.DataFrame, x_column: str, skip_label: str) -> list[Line2D]:
    """Reference lines of the baseline models on ``axis``: flat when a baseline does not vary, else its mean curve."""
    handles = []
    for index, label, finite in _baseline_groups(baselines, skip_label):
        style = _BASELINE_STYLES[index % len(_BASELINE_STYLES)]
        color = _BASELINE_GREYS[index % len(_BASELINE_GREYS)]
        causal = bool(finite["causal"].all())
        name = f"{label} (baseline{'' if causal else ', non-causal'})"
        curve = finite.groupby(x_column)["mean"].mean().sort_index()
        if len(curve) == 1 or np.ptp(curve.to_numpy()) < 1e-12:
            axis.axhline(float(curve.mean()), color=color, linestyle=style, linewidth=1.2, zorder=1)
        else:
            axis.plot(curve.index, curve.to_numpy(), color=color, linestyle=style, linewidth=1.2, zorder=1)
        handles.append(Line2D([], [], color=color, linestyle=style, linewidth=1.2, label=name))
    return handles


def _line_plot(summary: pd.DataFrame, metric: str, *, x: str, line: str, x_name: str, line_name: str) -> Figure:
    table = _prepare(summary, metric)
    panels, baselines = _panels(table)
    figure, axes = _grid(len(panels))
    line_values = sorted(table[line].dropna().unique())
    colormap = colormaps["viridis"]
    colors = {v: colormap(0.1 + 0.75 * i / max(1, len(line_values) - 1)) for i, v in enumerate(line_values)}
    legend: dict[str, object] = {}
    any_infeasible = False
    for axis, (label, variant) in zip(axes, panels, strict=True):
        rows = table[(table["label"] == label) & (table["variant"] == variant)]
        causal = bool(rows["causal"].all()) if not rows.empty else True
        axis.set_title(_panel_title(label, variant, causal), fontsize=10)
        axis.set_xlabel(x_name)
        axis.set_ylabel(_axis_label(metric), fontsize=9)
        axis.grid(True, alpha=0.3)
        finite = rows[np.isfinite(rows["mean"].to_numpy(dtype=float))]
        if finite.empty:
            _no_data(axis)
        for value, group in finite.groupby(line):
            group = group.sort_values(x)
            xs = group[x].to_numpy(dtype=float)
            color = colors[value]
            name = f"{line_name} = {value:g} ms"
            axis.plot(xs, group["mean"].to_numpy(dtype=float), color=color, linewidth=1.8, zorder=3)
            axis.fill_between(
                xs,
                group["ci_low"].to_numpy(dtype=float),
                group["ci_high"].to_numpy(dtype=float),
                color=color,
                alpha=0.18,
                linewidth=0,
                zorder=2,
            )
            feasible = group["feasible"].astype(bool).to_numpy()
            any_infeasible |= bool((~feasible).any())
            axis.scatter(xs[feasible], group["mean"].to_numpy()[feasible], color=color, s=28, zorder=4)
            axis.scatter(
                xs[~feasible],
                group["mean"].to_numpy()[~feasible],
                facecolors="white",
                edgecolors=[color],
                s=28,
                linewidths=1.5,
                zorder=4,
            )
            legend.setdefault(name, Line2D([], [], color=color, marker="o", linewidth=1.8, label=name))
        for handle in _draw_baselines(axis, baselines[baselines["variant"] == variant], x, label):
            legend.setdefault(handle.get_label(), handle)
    handles = list(legend.values())
    if any_infeasible:
        handles.append(
            Line2D(
                [], [], color="0.3", marker="o", markerfacecolor="white", linestyle="", label="not real-time feasible"
            )
        )
    handles.append(Line2D([], [], color="0.5", linewidth=6, alpha=0.3, label="95% interval over songs"))
    columns = min(MAX_COLUMNS, max(1, len(panels)))
    figure.legend(
        handles=handles, loc="outside lower center", ncols=min(len(handles), 2 + columns), fontsize=8, frameon=False
    )
    figure.suptitle(f"{metric} vs {x_name.split(' [')[0]} ({_direction_note(metric)})", fontsize=12)
    return figure


def plot_metric_vs_visibility(summary: pd.DataFrame, metric: str) -> Figure:
    """``metric`` against future visibility ``t_f`` (ms), one line per chunk size ``k``, with interval bands.

    Two regimes are never joined by one line: the live regime (``on_miss != "ignore"``: the schedule's policy
    applies, solid line, filled markers, an ``X`` where a deadline is missed) and the offline regime
    (``on_miss == "ignore"``: ``t_f`` beyond the live bound, scored offline; dashed line, hollow markers).
    A vertical line marks the run's feasibility bound (:func:`accbench.simulators.schedule.
    feasible_future_visibility_array`) at the model's own mean inference time, one per ``k`` when they differ,
    and the region beyond it is shaded. Baselines are drawn per ``k`` (never averaged over ``k``), thin, in
    the colour of that ``k``, and not in their own panel (a run of baselines only draws none: every
    baseline has its own panel). All panels share one y axis.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table (:func:`accbench.reports.aggregate.aggregate`).
    metric : str
        Metric name.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per model (and latency/policy variant when the run has several).
    """
    table = _prepare(summary, metric)
    panels, baselines = _panels(table)
    if bool(table["baseline"].astype(bool).all()):
        baselines = baselines.iloc[:0]  # baselines only: each has its own panel on the shared y axis
    figure, axes = _grid(len(panels))
    colors = okabe_ito_colors(sorted(table["chunk_ms"].dropna().unique()))
    legend: dict[str, Line2D] = {}
    flags = {"infeasible": False, "offline": False, "bound": False}
    for axis, (label, variant) in zip(axes, panels, strict=True):
        rows = table[(table["label"] == label) & (table["variant"] == variant)]
        causal = bool(rows["causal"].all()) if not rows.empty else True
        axis.set_title(_panel_title(label, variant, causal), fontsize=10)
        axis.set_xlabel("future visibility t_f [ms]")
        axis.set_ylabel(_axis_label(metric), fontsize=9)
        axis.grid(True, alpha=0.3)
        finite = rows[np.isfinite(rows["mean"].to_numpy(dtype=float))]
        if finite.empty:
            _no_data(axis)
        for chunk, group in finite.groupby("chunk_ms"):
            name = f"k = {chunk:g} ms"
            for key, value in _draw_regimes(axis, group, colors[chunk]).items():
                flags[key] |= value
            legend.setdefault(name, Line2D([], [], color=colors[chunk], marker="o", linewidth=1.8, label=name))
        flags["bound"] |= _draw_bounds(axis, rows, colors)
        others = baselines[(baselines["variant"] == variant) & baselines["chunk_ms"].isin(finite["chunk_ms"])]
        for handle in _draw_baselines_per_chunk(axis, others, colors, label):
            legend.setdefault(handle.get_label(), handle)
    share_y_limits(axes)
    _visibility_legend(figure, list(legend.values()), flags, len(panels))
    figure.suptitle(f"{metric} vs future visibility t_f ({_direction_note(metric)})", fontsize=12)
    return figure


OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
"""The Okabe-Ito colour-blind-safe palette, most distinguishable on white first (yellow last)."""


def okabe_ito_colors(values: Sequence[object]) -> dict[object, str]:
    """One Okabe-Ito colour per value, in order (cycling past eight values).

    Parameters
    ----------
    values : sequence
        Distinct line keys (e.g. chunk sizes in ms), in drawing order.

    Returns
    -------
    dict
        ``value -> hex colour``.
    """
    return {value: OKABE_ITO[index % len(OKABE_ITO)] for index, value in enumerate(values)}


def share_y_limits(axes: Sequence) -> None:
    """Give every visible panel of ``axes`` the union of their y limits (one scale per metric)."""
    visible = [axis for axis in axes if axis.get_visible() and (axis.lines or axis.collections)]
    if len(visible) < 2:
        return
    lows, highs = zip(*(axis.get_ylim() for axis in visible), strict=True)
    for axis in visible:
        axis.set_ylim(min(lows), max(highs))


def _offline(group: pd.DataFrame) -> np.ndarray:
    """``True`` for rows scored offline (``on_miss == "ignore"``: ``t_f`` beyond the live bound)."""
    if "on_miss" not in group.columns:
        return np.zeros(len(group), dtype=bool)
    return (group["on_miss"].astype(str) == "ignore").to_numpy()


def _draw_regimes(axis, group: pd.DataFrame, color: str) -> dict[str, bool]:
    """One chunk size's points on ``axis``: the live and the offline regime as separate lines and bands.

    Returns
    -------
    dict
        ``{"infeasible": any live point misses deadlines, "offline": any offline point}``.
    """
    group = group.sort_values("future_visibility_ms")
    offline = _offline(group)
    flags = {"infeasible": False, "offline": bool(offline.any())}
    for is_offline in (False, True):
        part = group[offline == is_offline]
        if part.empty:
            continue
        xs = part["future_visibility_ms"].to_numpy(dtype=float)
        ys = part["mean"].to_numpy(dtype=float)
        style = "--" if is_offline else "-"
        axis.plot(
            xs, ys, color=color, linewidth=1.8, linestyle=style, zorder=3, gid="offline" if is_offline else "live"
        )
        axis.fill_between(
            xs,
            part["ci_low"].to_numpy(dtype=float),
            part["ci_high"].to_numpy(dtype=float),
            color=color,
            alpha=0.1 if is_offline else 0.18,
            linewidth=0,
            zorder=2,
        )
        if is_offline:
            axis.scatter(xs, ys, facecolors="white", edgecolors=[color], s=28, linewidths=1.5, zorder=4)
            continue
        feasible = part["feasible"].astype(bool).to_numpy()
        flags["infeasible"] |= bool((~feasible).any())
        axis.scatter(xs[feasible], ys[feasible], color=color, s=28, zorder=4)
        axis.scatter(xs[~feasible], ys[~feasible], color=color, marker="X", s=48, zorder=4)
    return flags


def _bound_ms(group: pd.DataFrame) -> float | None:
    """The live future-visibility bound (ms) of one chunk size's configs at their mean inference time.

    ``floor(-(L_in + L_out + d) / hop)`` frames with delays in whole samples rounded up
    (:func:`accbench.simulators.schedule.feasible_future_visibility_array`); ``None`` when a column is
    missing or the model is slower than real time (``d > K``).
    """
    needed = ("chunk_frames", "frame_rate_hz", "sample_rate", "inference_time_ms")
    if group.empty or any(c not in group.columns for c in needed):
        return None
    first = group.iloc[0]
    d = (
        float(np.nanmean(group["inference_time_ms"].to_numpy(dtype=float)))
        if group["inference_time_ms"].notna().any()
        else 0.0
    )
    sample_rate = int(first["sample_rate"])
    hop = int(round(sample_rate / float(first["frame_rate_hz"])))
    delays = [
        float(first.get(c, 0.0)) if pd.notna(first.get(c, 0.0)) else 0.0
        for c in ("input_latency_ms", "output_latency_ms")
    ]
    l_in, l_out, inference = (int(delay_samples_array(np.array(v), sample_rate)) for v in (*delays, d))
    bound, real_time = feasible_future_visibility_array(inference, int(first["chunk_frames"]) * hop, hop, l_in, l_out)
    if not bool(real_time):
        return None
    return float(bound) * 1000.0 / float(first["frame_rate_hz"])


def _draw_bounds(axis, rows: pd.DataFrame, colors: dict[object, str]) -> bool:
    """The feasibility bound of a panel: one grey line when every ``k`` shares it, else one per ``k``.

    The region beyond the smallest bound is shaded. Returns whether any bound was drawn.
    """
    bounds = {chunk: _bound_ms(group) for chunk, group in rows.groupby("chunk_ms")}
    bounds = {chunk: value for chunk, value in bounds.items() if value is not None}
    if not bounds:
        return False
    values = sorted(set(bounds.values()))
    if len(values) == 1:
        axis.axvline(values[0], color="0.3", linestyle=":", linewidth=1.4, zorder=1, gid="bound")
    else:
        for chunk, value in bounds.items():
            axis.axvline(value, color=colors.get(chunk, "0.3"), linestyle=":", linewidth=1.4, zorder=1, gid="bound")
    left, right = axis.get_xlim()
    axis.axvspan(values[0], max(right, values[0]), color="0.5", alpha=0.08, linewidth=0, zorder=0)
    axis.set_xlim(left, right)
    return True


def _draw_baselines_per_chunk(
    axis, baselines: pd.DataFrame, colors: dict[object, str], skip_label: str
) -> list[Line2D]:
    """Each baseline's curve for each ``k`` of the panel: thin, in that ``k``'s colour, the baseline's own dash.

    Never averaged over ``k``; the live and offline regimes stay separate segments; a baseline is not drawn
    in its own panel.
    """
    handles = []
    for index, label, finite in _baseline_groups(baselines, skip_label):
        style = _BASELINE_STYLES[index % len(_BASELINE_STYLES)]
        for chunk, part in finite.groupby("chunk_ms"):
            part = part.sort_values("future_visibility_ms")
            offline = _offline(part)
            for is_offline in (False, True):
                segment = part[offline == is_offline]
                if segment.empty:
                    continue
                axis.plot(
                    segment["future_visibility_ms"].to_numpy(dtype=float),
                    segment["mean"].to_numpy(dtype=float),
                    color=colors.get(chunk, "0.4"),
                    linestyle=style,
                    linewidth=1.0,
                    alpha=0.75,
                    marker="." if len(segment) == 1 else None,
                    zorder=1,
                    gid=f"baseline:{label}:{chunk:g}:{'offline' if is_offline else 'live'}",
                )
        causal = bool(finite["causal"].all())
        name = f"{label} (baseline{'' if causal else ', non-causal'})"
        handles.append(Line2D([], [], color="0.35", linestyle=style, linewidth=1.0, label=name))
    return handles


def _visibility_legend(figure: Figure, handles: list[Line2D], flags: dict[str, bool], n_panels: int) -> None:
    """The figure legend of :func:`plot_metric_vs_visibility`: lines, then the regime and marker keys."""
    if flags["infeasible"]:
        handles.append(Line2D([], [], color="0.3", marker="X", linestyle="", label="not real-time feasible"))
    if flags["offline"]:
        handles.append(
            Line2D(
                [],
                [],
                color="0.3",
                marker="o",
                markerfacecolor="white",
                linestyle="--",
                label="offline (t_f > bound, on_miss=ignore)",
            )
        )
    if flags["bound"]:
        handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.4, label="feasibility bound"))
    handles.append(Line2D([], [], color="0.5", linewidth=6, alpha=0.3, label="95% interval over songs"))
    columns = min(MAX_COLUMNS, max(1, n_panels))
    figure.legend(
        handles=handles, loc="outside lower center", ncols=min(len(handles), 2 + columns), fontsize=8, frameon=False
    )


def plot_metric_vs_chunk(summary: pd.DataFrame, metric: str) -> Figure:
    """``metric`` against chunk size ``k`` (ms), one line per future visibility ``t_f``; see
    :func:`plot_metric_vs_visibility`."""
    return _line_plot(
        summary, metric, x="chunk_ms", line="future_visibility_ms", x_name="chunk size k [ms]", line_name="t_f"
    )


def plot_heatmap(summary: pd.DataFrame, metric: str) -> Figure:
    """A (t_f, k) heatmap of ``metric`` per model, cells annotated with the mean.

    Brighter is better whatever the metric's direction; NaN cells are grey and say ``n/a``; cells of
    configs that are not real-time feasible are hatched. All panels share one colour scale.
    """
    table = _prepare(summary, metric)
    panels = sorted({(str(a), str(b)) for a, b in zip(table["label"], table["variant"], strict=True)})
    figure, axes = _grid(len(panels))
    spec = metric_spec(metric, warn=False)
    colormap = colormaps["viridis" if spec.direction == "higher" else "viridis_r"].with_extremes(bad="0.85")
    finite = table["mean"].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    image = None
    for axis, (label, variant) in zip(axes, panels, strict=True):
        rows = table[(table["label"] == label) & (table["variant"] == variant)]
        tfs = sorted(rows["future_visibility_ms"].unique())
        ks = sorted(rows["chunk_ms"].unique())
        grid = np.full((len(tfs), len(ks)), np.nan)
        infeasible = np.zeros_like(grid, dtype=bool)
        for row in rows.itertuples(index=False):
            i, j = tfs.index(row.future_visibility_ms), ks.index(row.chunk_ms)
            grid[i, j] = row.mean
            infeasible[i, j] = not bool(row.feasible)
        image = axis.imshow(
            np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=colormap, vmin=vmin, vmax=vmax
        )
        for (i, j), value in np.ndenumerate(grid):
            if infeasible[i, j]:
                axis.add_patch(
                    _hatch_patch(j, i),
                )
            text = "n/a" if not np.isfinite(value) else f"{value:.3g}"
            shade = 0.5 if not np.isfinite(value) else (value - vmin) / (vmax - vmin)
            bright = shade > 0.6 if spec.direction == "higher" else shade < 0.4
            axis.text(j, i, text, ha="center", va="center", fontsize=8, color="black" if bright else "white")
        axis.set_xticks(range(len(ks)), [f"{k:g}" for k in ks])
        axis.set_yticks(range(len(tfs)), [f"{t:g}" for t in tfs])
        axis.set_xlabel("chunk size k [ms]")
        axis.set_ylabel("future visibility t_f [ms]")
        causal = bool(rows["causal"].all()) if not rows.empty else True
        axis.set_title(_panel_title(label, variant, causal), fontsize=10)
    if image is not None:
        colorbar = figure.colorbar(image, ax=axes, shrink=0.9)
        colorbar.set_label(_axis_label(metric), fontsize=9)
    if bool((~table["feasible"].astype(bool)).any()):
        from matplotlib.patches import Patch

        figure.legend(
            handles=[Patch(facecolor="none", edgecolor="0.2", hatch="///", label="not real-time feasible")],
            loc="outside lower center",
            fontsize=8,
            frameon=False,
        )
    figure.suptitle(f"{metric} over (t_f, k) ({_direction_note(metric)}; brighter is better)", fontsize=12)
    return figure


def _hatch_patch(x: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.2", linewidth=0, alpha=0.6)


def _feasible_configs(group: pd.DataFrame, inference_ms: np.ndarray) -> np.ndarray:
    """``feasible[i, j]``: config ``i`` of ``group`` meets every deadline at constant inference time ``d_j``.

    The delays and ``d`` (ms) become whole samples at each config's sample rate exactly as the simulator
    converts them (rounded up), and the schedule's integer bound decides.
    """
    sample_rate = group["sample_rate"].to_numpy(dtype=np.int64)[:, None]
    hop = np.rint(sample_rate / group["frame_rate_hz"].to_numpy(dtype=float)[:, None]).astype(np.int64)
    chunk = group["chunk_frames"].to_numpy(dtype=np.int64)[:, None] * hop
    input_latency = delay_samples_array(group["input_latency_ms"].to_numpy(dtype=float)[:, None], sample_rate)
    output_latency = delay_samples_array(group["output_latency_ms"].to_numpy(dtype=float)[:, None], sample_rate)
    inference = delay_samples_array(inference_ms[None, :], sample_rate)
    bound, real_time = feasible_future_visibility_array(inference, chunk, hop, input_latency, output_latency)
    return real_time & (group["future_visibility_frames"].to_numpy(dtype=np.int64)[:, None] <= bound)


def frontier_table(summary: pd.DataFrame, metric: str, inference_ms: Sequence[float] | np.ndarray) -> pd.DataFrame:
    """For each model and inference time ``d``, the best mean of ``metric`` over real-time feasible configs.

    A config is feasible for a constant inference time ``d`` when ``d <= K`` and
    ``t_f <= floor(-(L_in + L_out + d) / hop)`` frames, with each config's own delays, all in whole samples
    rounded up as the simulator counts them (docs/design.md, "Timing semantics";
    :func:`accbench.simulators.schedule.feasible_future_visibility_array`).

    Parameters
    ----------
    summary : DataFrame
        Aggregate table with ``future_visibility_frames``, ``chunk_frames``, ``frame_rate_hz``,
        ``sample_rate``, ``input_latency_ms`` and ``output_latency_ms``.
    metric : str
    inference_ms : array_like
        Inference times ``d`` in ms.

    Returns
    -------
    table : DataFrame
        ``label, inference_ms, best, config_id`` (``best`` NaN where no config is feasible).
    """
    table = _prepare(summary, metric)
    spec = metric_spec(metric, warn=False)
    needed = ["future_visibility_frames", "chunk_frames", "frame_rate_hz", "sample_rate"]
    for column in ("input_latency_ms", "output_latency_ms"):
        if column not in table.columns:
            table[column] = 0.0
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise KeyError(f"the frontier needs column(s) {', '.join(missing)}")
    table = table[np.isfinite(table["mean"].to_numpy(dtype=float))]
    d = np.asarray(inference_ms, dtype=float)
    rows = []
    for label, group in table.groupby("label", sort=True):
        feasible = _feasible_configs(group, d)
        means = group["mean"].to_numpy(dtype=float)[:, None]
        worst = -np.inf if spec.direction == "higher" else np.inf
        candidates = np.where(feasible, means, worst)
        best_index = candidates.argmax(axis=0) if spec.direction == "higher" else candidates.argmin(axis=0)
        any_feasible = feasible.any(axis=0)
        ids = group["config_id"].to_numpy()
        for column, value in enumerate(d):
            ok = bool(any_feasible[column])
            rows.append(
                {
                    "label": label,
                    "inference_ms": float(value),
                    "best": float(candidates[best_index[column], column]) if ok else float("nan"),
                    "config_id": str(ids[best_index[column]]) if ok else "",
                }
            )
    return pd.DataFrame(rows, columns=["label", "inference_ms", "best", "config_id"])


def plot_frontier(summary: pd.DataFrame, metric: str, *, n_points: int = 400) -> Figure:
    """The latency-budget frontier of ``metric``: best feasible value as the inference time grows.

    One step line per causal model (non-causal models such as the oracle are drawn as flat reference lines
    of their best value). A model's marker sits at its own measured mean inference time.
    """
    table = _prepare(summary, metric)
    figure = Figure(figsize=(7.5, 4.6), layout="constrained")
    axis = figure.subplots()
    finite = table[np.isfinite(table["mean"].to_numpy(dtype=float))]
    top = float(np.nanmax(table["chunk_ms"].to_numpy(dtype=float))) if not table.empty else 100.0
    d = np.linspace(0.0, max(top, 1.0) * 1.1, n_points)
    causal_labels = sorted(finite.loc[finite["causal"].astype(bool), "label"].unique())
    colormap = colormaps["tab10"]
    spec = metric_spec(metric, warn=False)
    if finite.empty:
        _no_data(axis)
    else:
        frontier = frontier_table(finite[finite["label"].isin(causal_labels)], metric, d)
        has_models = not bool(finite["baseline"].astype(bool).all())
        for index, label in enumerate(causal_labels):
            curve = frontier[frontier["label"] == label]
            color = colormap(index % 10)
            # Baselines are drawn dashed beside the models under test; a run of baselines only draws them plainly.
            is_baseline = has_models and bool(finite.loc[finite["label"] == label, "baseline"].all())
            axis.step(
                curve["inference_ms"],
                curve["best"],
                where="post",
                color=color,
                linewidth=1.4 if is_baseline else 2.0,
                linestyle="--" if is_baseline else "-",
                label=f"{label}{' (baseline)' if is_baseline else ''}",
            )
            measured = (
                finite.loc[finite["label"] == label, "inference_time_ms"] if "inference_time_ms" in finite else []
            )
            measured = np.asarray(measured, dtype=float)
            measured = measured[np.isfinite(measured)]
            if measured.size and not is_baseline:
                at = float(measured.mean())
                point = frontier_table(finite[finite["label"] == label], metric, [at])["best"].iloc[0]
                if np.isfinite(point):
                    axis.plot([at], [point], marker="D", color=color, markersize=7, linestyle="")
        for index, label in enumerate(sorted(set(finite["label"]) - set(causal_labels))):
            values = finite.loc[finite["label"] == label, "mean"].to_numpy(dtype=float)
            best = values.max() if spec.direction == "higher" else values.min()
            axis.axhline(
                best,
                color=_BASELINE_GREYS[index % len(_BASELINE_GREYS)],
                linestyle=":",
                linewidth=1.2,
                label=f"{label} (non-causal, best config)",
            )
        handles, _ = axis.get_legend_handles_labels()
        if handles:
            handles.append(Line2D([], [], color="0.3", marker="D", linestyle="", label="measured mean inference time"))
            axis.legend(handles=handles, fontsize=8, loc="best")
    axis.set_xlabel("inference time per call d [ms]")
    axis.set_ylabel(f"best feasible {_axis_label(metric)}", fontsize=9)
    axis.grid(True, alpha=0.3)
    axis.set_title(
        f"Latency-budget frontier: best {metric} among real-time feasible configs\n"
        "(gaps: no config is feasible at that inference time)",
        fontsize=11,
    )
    return figure


def plot_timing_vs_inference(summary: pd.DataFrame, metrics: Iterable[str] = TIMING_METRICS) -> Figure:
    """Deadline-miss rate and underrun fraction against each config's mean inference time, per model.

    Marker colour is the model, marker shape the chunk size; error bars are the 95% intervals over songs.
    """
    metrics = [m for m in metrics if m in set(summary["metric"])]
    figure, axes = _grid(len(metrics))
    colormap = colormaps["tab10"]
    labels = sorted(summary["label"].unique()) if "label" in summary else sorted(summary["model"].unique())
    markers = ("o", "s", "^", "v", "D", "P", "X", "*")
    chunks = sorted(summary["chunk_ms"].dropna().unique()) if "chunk_ms" in summary else []
    if not metrics:
        _no_data(axes[0], "no timing metrics in this run")
    for axis, metric in zip(axes, metrics, strict=False):
        table = _prepare(summary, metric)
        for index, label in enumerate(labels):
            rows = table[(table["label"] == label) & np.isfinite(table["mean"].to_numpy(dtype=float))]
            for chunk, group in rows.groupby("chunk_ms"):
                axis.errorbar(
                    group["inference_time_ms"].to_numpy(dtype=float),
                    group["mean"].to_numpy(dtype=float),
                    yerr=[
                        np.clip(group["mean"] - group["ci_low"], 0, None).to_numpy(dtype=float),
                        np.clip(group["ci_high"] - group["mean"], 0, None).to_numpy(dtype=float),
                    ],
                    color=colormap(index % 10),
                    marker=markers[chunks.index(chunk) % len(markers)] if chunk in chunks else "o",
                    linestyle="",
                    markersize=6,
                    capsize=2,
                    alpha=0.85,
                )
        axis.set_xlabel("mean inference time per call [ms]")
        axis.set_ylabel(_axis_label(metric), fontsize=9)
        axis.set_title(metric, fontsize=10)
        axis.grid(True, alpha=0.3)
    handles = [
        Line2D([], [], color=colormap(i % 10), marker="o", linestyle="", label=name) for i, name in enumerate(labels)
    ]
    handles += [
        Line2D([], [], color="0.3", marker=markers[i % len(markers)], linestyle="", label=f"k = {c:g} ms")
        for i, c in enumerate(chunks)
    ]
    if metrics:
        figure.legend(
            handles=handles, loc="outside lower center", ncols=min(5, len(handles)), fontsize=8, frameon=False
        )
    figure.suptitle("Deadline misses and underruns vs inference time (lower is better)", fontsize=12)
    return figure


def save_figure(figure: Figure, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Write ``figure`` atomically; the format is the path's suffix (``.png``, ``.svg``, ``.pdf``)."""
    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "plot"


def make_plots(
    summary: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    metrics: Sequence[str] | None = None,
    formats: Sequence[str] = ("png",),
    dpi: int = 110,
    frontier_metrics: Sequence[str] | None = None,
) -> list[PlotFile]:
    """Draw every plot of a run and write them under ``out_dir``.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table.
    out_dir : path-like
        Folder of the plot files (``<run>/plots``).
    metrics : sequence of str, optional
        Metrics to plot (default: all in ``summary``).
    formats : sequence of str
        File formats, any of ``"png"``, ``"svg"``, ``"pdf"``.
    dpi : int
        Raster resolution.
    frontier_metrics : sequence of str, optional
        Metrics that get a latency-budget frontier (default: every metric outside the ``timing`` group).

    Returns
    -------
    plots : list of PlotFile
        In drawing order, each with its PNG bytes for embedding.
    """
    out_dir = Path(out_dir)
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(summary["metric"]))
    if frontier_metrics is None:
        frontier_metrics = [m for m in metrics if not m.startswith("timing.")]
    has_grid = {"future_visibility_ms", "chunk_ms"} <= set(summary.columns)
    jobs: list[tuple[str, str, str | None, str, object]] = []
    if has_grid:
        for metric in metrics:
            jobs.append(
                (
                    f"{metric}__vs_visibility",
                    "vs_visibility",
                    metric,
                    f"{metric} vs future visibility",
                    lambda m=metric: plot_metric_vs_visibility(summary, m),
                )
            )
            jobs.append(
                (
                    f"{metric}__vs_chunk",
                    "vs_chunk",
                    metric,
                    f"{metric} vs chunk size",
                    lambda m=metric: plot_metric_vs_chunk(summary, m),
                )
            )
            jobs.append(
                (
                    f"{metric}__heatmap",
                    "heatmap",
                    metric,
                    f"{metric} over (t_f, k)",
                    lambda m=metric: plot_heatmap(summary, m),
                )
            )
        if {"frame_rate_hz", "future_visibility_frames"} <= set(summary.columns):
            for metric in frontier_metrics:
                jobs.append(
                    (
                        f"{metric}__frontier",
                        "frontier",
                        metric,
                        f"Latency-budget frontier of {metric}",
                        lambda m=metric: plot_frontier(summary, m),
                    )
                )
    timing = [m for m in TIMING_METRICS if m in metrics]
    if timing and "inference_time_ms" in summary.columns:
        jobs.append(
            (
                "timing_vs_inference",
                "timing",
                None,
                "Misses and underruns vs inference time",
                lambda: plot_timing_vs_inference(summary, timing),
            )
        )
    plots = []
    for name, kind, metric, title, draw in jobs:
        figure = draw()  # type: ignore[operator]
        stem = _slug(name)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        plot = PlotFile(name=stem, kind=kind, metric=metric, title=title, png=buffer.getvalue())
        for fmt in formats:
            path = out_dir / f"{stem}.{fmt}"
            if fmt == "png":
                atomic_write_bytes(path, plot.png)
            else:
                save_figure(figure, path, dpi=dpi)
            plot.paths.append(path)
        plots.append(plot)
    return plots
