"""Trade-off figures of an aggregate table: what future visibility and chunk size cost each model.

Every function takes the tidy aggregate table of :func:`accbench.reports.aggregate.aggregate` (one row per
model, config and metric with ``mean``, ``ci_low``, ``ci_high``) and returns a
:class:`matplotlib.figure.Figure` made without pyplot (no global state; any backend), drawn in a
:class:`~accbench.reports.plot_style.FigureStyle` (the report's by default; ``PAPER_STYLE`` for a paper).
Each figure names its metric, unit and better direction in the title and axes, so it reads without the
surrounding text.

- :func:`plot_frontier`: for an inference time ``d``, the best value among configs real-time feasible
  under the run's delays (docs/design.md, "Timing semantics"); one panel per metric.
- :func:`plot_metric_vs_visibility`: metric vs future visibility (ms), one line per chunk size, 95% bands.
- :func:`plot_metric_vs_chunk`: metric vs chunk size (ms), one line per future visibility.
- :func:`plot_heatmap`: (t_f, k) grid per model, cells annotated, infeasible cells hatched.
- :func:`plot_timing_vs_inference`: miss rate and underrun fraction vs mean inference time.

Which figures a run gets, and writing them, is :mod:`accbench.reports.figures`.

In the trade-off figures the live configs that meet their deadlines, the live configs past the bound that
miss them (``X``) and the configs scored offline (``on_miss = "ignore"``, dashed, hollow markers) are never
joined by one line; built-in baselines (``baseline`` column) are thin reference lines per line value (never
averaged over it) in the other models' panels; a metric with the same value for every model on each config
is drawn as one panel. Line colours are Okabe-Ito (colour-blind safe).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from accbench.reports.honesty import same_for_every_model
from accbench.reports.load import metric_spec
from accbench.reports.plot_style import REPORT_STYLE, FigureStyle, figure_grid, okabe_ito_colors
from accbench.simulators.schedule import delay_samples_array, feasible_future_visibility_array

__all__ = [
    "TIMING_METRICS",
    "frontier_table",
    "plot_frontier",
    "plot_heatmap",
    "plot_metric_vs_chunk",
    "plot_metric_vs_visibility",
    "plot_timing_vs_inference",
]

_BASELINE_STYLES = ("--", ":", "-.", (0, (5, 2, 1, 2)), (0, (1, 3)))
_BASELINE_GREYS = ("0.25", "0.45", "0.6", "0.35", "0.5")
TIMING_METRICS = ("timing.miss_rate", "timing.underrun_fraction")
IDENTICAL_LABEL = "every model (identical values)"
"""The one panel of a metric that has the same value for every model on each config."""


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


def _panel_table(summary: pd.DataFrame, metric: str, models: Sequence[str] | None) -> pd.DataFrame:
    """:func:`_prepare` rows of the chosen ``models`` (labels; default all), with a metric that has the same
    value for every model on each config folded into one :data:`IDENTICAL_LABEL` panel."""
    table = _prepare(summary, metric)
    if models is not None:
        table = table[table["label"].isin(list(models))]
    if same_for_every_model(table):
        first = sorted(table["label"].unique())[0]
        table = table[table["label"] == first].assign(label=IDENTICAL_LABEL, baseline=False, causal=True)
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


def _no_data(axis, message: str = "no values\n(metric skipped or NaN)") -> None:
    axis.text(0.5, 0.5, message, transform=axis.transAxes, ha="center", va="center", color="0.4", fontsize="medium")


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


@dataclass(frozen=True)
class _Axes:
    """The two grid axes of a trade-off figure: ``x`` along the panel, one line per value of ``line``."""

    x: str
    line: str
    x_label: str
    line_symbol: str

    def line_name(self, value: float) -> str:
        return f"{self.line_symbol} = {value:g} ms"


_VS_VISIBILITY = _Axes("future_visibility_ms", "chunk_ms", "future visibility t_f [ms]", "k")
_VS_CHUNK = _Axes("chunk_ms", "future_visibility_ms", "chunk size k [ms]", "t_f")


def _offline(group: pd.DataFrame) -> np.ndarray:
    """``True`` for rows scored offline (``on_miss == "ignore"``: ``t_f`` beyond the live bound)."""
    if "on_miss" not in group.columns:
        return np.zeros(len(group), dtype=bool)
    return (group["on_miss"].astype(str) == "ignore").to_numpy()


def _regimes(group: pd.DataFrame) -> np.ndarray:
    """Per row: ``"live"`` (feasible, the schedule's policy applies), ``"missed"`` (live, misses deadlines)
    or ``"offline"`` (``on_miss == "ignore"``)."""
    feasible = group["feasible"].astype(bool).to_numpy()
    return np.where(_offline(group), "offline", np.where(feasible, "live", "missed"))


def _draw_regimes(axis, group: pd.DataFrame, color: str, axes: _Axes) -> set[str]:
    """One line value's points on ``axis``: each regime its own line, never joined to another.

    Live feasible points: solid line, filled circles, interval band. Live points that miss deadlines
    (past the bound): ``X`` markers, joined only among themselves by a thin dotted line. Offline points:
    dashed line, hollow circles, a lighter band. Returns the regimes drawn.
    """
    group = group.sort_values(axes.x)
    regimes = _regimes(group)
    for regime in ("live", "missed", "offline"):
        part = group[regimes == regime]
        if part.empty:
            continue
        xs = part[axes.x].to_numpy(dtype=float)
        ys = part["mean"].to_numpy(dtype=float)
        if regime == "missed":
            axis.plot(
                xs, ys, color=color, linewidth=0.8, linestyle=":", marker="X", markersize=7, zorder=3, gid="missed"
            )
            continue
        offline = regime == "offline"
        # Markers on the line itself (one artist, cheaper to draw than a scatter); hollow ones are offline.
        axis.plot(
            xs,
            ys,
            color=color,
            linestyle="--" if offline else "-",
            marker="o",
            markersize=5.5,
            markerfacecolor="white" if offline else color,
            markeredgewidth=1.5 if offline else 1.0,
            zorder=3,
            gid=regime,
        )
        axis.fill_between(
            xs,
            part["ci_low"].to_numpy(dtype=float),
            part["ci_high"].to_numpy(dtype=float),
            color=color,
            alpha=0.1 if offline else 0.18,
            linewidth=0,
            zorder=2,
        )
    return set(regimes)


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
    d = _mean_inference_ms(group)
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


def _mean_inference_ms(rows: pd.DataFrame) -> float:
    """The mean measured inference time (ms) of ``rows``; 0 when none was recorded."""
    if "inference_time_ms" not in rows.columns or not rows["inference_time_ms"].notna().any():
        return 0.0
    return float(np.nanmean(rows["inference_time_ms"].to_numpy(dtype=float)))


def _shade_beyond(axis, start: float, *, left: bool = False) -> None:
    """Grey the infeasible side of a bound without moving the axis limits."""
    low, high = axis.get_xlim()
    if left:
        axis.axvspan(min(low, start), start, color="0.5", alpha=0.08, linewidth=0, zorder=0)
    else:
        axis.axvspan(start, max(high, start), color="0.5", alpha=0.08, linewidth=0, zorder=0)
    axis.set_xlim(low, high)


def _draw_visibility_bound(axis, rows: pd.DataFrame, colors: dict[object, str]) -> bool:
    """The t_f feasibility bound of a panel: one grey line when every ``k`` shares it, else one per ``k``.

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
    _shade_beyond(axis, values[0])
    return True


def _draw_chunk_bound(axis, rows: pd.DataFrame, colors: dict[object, str]) -> bool:
    """The real-time bound of the vs-``k`` figure: a chunk must last at least one inference (``k >= d``).

    Drawn (with the side ``k < d`` shaded) only when it falls inside the plotted chunk sizes.
    """
    del colors
    if rows.empty:
        return False
    d = _mean_inference_ms(rows)
    chunks = rows["chunk_ms"].to_numpy(dtype=float)
    if not d or not chunks.min() < d <= chunks.max():
        return False
    axis.axvline(d, color="0.3", linestyle=":", linewidth=1.4, zorder=1, gid="bound")
    _shade_beyond(axis, d, left=True)
    return True


def _draw_reference_baselines(
    axis, baselines: pd.DataFrame, colors: dict[object, str], skip_label: str, axes: _Axes
) -> list[Line2D]:
    """Each baseline's curve for each line value of the panel: thin, in that value's colour, its own dash.

    Never averaged over the line value; the regimes stay separate segments; a baseline is not drawn in its
    own panel.
    """
    handles = []
    for index, label, finite in _baseline_groups(baselines, skip_label):
        style = _BASELINE_STYLES[index % len(_BASELINE_STYLES)]
        for value, part in finite.groupby(axes.line):
            part = part.sort_values(axes.x)
            regimes = _regimes(part)
            for regime in ("live", "missed", "offline"):
                segment = part[regimes == regime]
                if segment.empty:
                    continue
                axis.plot(
                    segment[axes.x].to_numpy(dtype=float),
                    segment["mean"].to_numpy(dtype=float),
                    color=colors.get(value, "0.4"),
                    linestyle=style,
                    linewidth=1.0,
                    alpha=0.75,
                    marker="." if len(segment) == 1 else None,
                    zorder=1,
                    gid=f"baseline:{label}:{value:g}:{regime}",
                )
        causal = bool(finite["causal"].all())
        name = f"{label} (baseline{'' if causal else ', non-causal'})"
        handles.append(Line2D([], [], color="0.35", linestyle=style, linewidth=1.0, label=name))
    return handles


def _tradeoff_legend(figure: Figure, handles: list[Line2D], regimes: set[str], bound: bool, n_panels: int) -> None:
    """The figure legend of a trade-off figure: lines, then the regime and marker keys."""
    if "missed" in regimes:
        handles.append(
            Line2D([], [], color="0.3", marker="X", linestyle="", label="live, misses deadlines (past the bound)")
        )
    if "offline" in regimes:
        handles.append(
            Line2D(
                [],
                [],
                color="0.3",
                marker="o",
                markerfacecolor="white",
                linestyle="--",
                label="offline (on_miss=ignore)",
            )
        )
    if bound:
        handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1.4, label="feasibility bound"))
    handles.append(Line2D([], [], color="0.5", linewidth=6, alpha=0.3, label="95% interval over songs"))
    columns = max(1, min(n_panels, 3))
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 1 + columns),
        fontsize="small",
        frameon=False,
    )


def _tradeoff_plot(summary: pd.DataFrame, metric: str, axes: _Axes, style: FigureStyle, models=None) -> Figure:
    """The shared body of :func:`plot_metric_vs_visibility` and :func:`plot_metric_vs_chunk`."""
    table = _panel_table(summary, metric, models)
    panels, baselines = _panels(table)
    if bool(table["baseline"].astype(bool).all()):
        baselines = baselines.iloc[:0]  # baselines only: each has its own panel on the shared y axis
    figure, panel_axes = figure_grid(len(panels), style)
    colors = okabe_ito_colors(sorted(table[axes.line].dropna().unique()))
    legend: dict[str, Line2D] = {}
    regimes: set[str] = set()
    bound = False
    draw_bound = _draw_visibility_bound if axes is _VS_VISIBILITY else _draw_chunk_bound
    for axis, (label, variant) in zip(panel_axes, panels, strict=True):
        rows = table[(table["label"] == label) & (table["variant"] == variant)]
        causal = bool(rows["causal"].all()) if not rows.empty else True
        axis.set_title(_panel_title(label, variant, causal), fontsize="medium")
        axis.set_xlabel(axes.x_label)
        axis.set_ylabel(_axis_label(metric), fontsize="small")
        axis.grid(True, alpha=0.3)
        finite = rows[np.isfinite(rows["mean"].to_numpy(dtype=float))]
        if finite.empty:
            _no_data(axis)
        for value, group in finite.groupby(axes.line):
            regimes |= _draw_regimes(axis, group, colors[value], axes)
            name = axes.line_name(value)
            legend.setdefault(name, Line2D([], [], color=colors[value], marker="o", label=name))
        bound |= draw_bound(axis, rows, colors)
        others = baselines[(baselines["variant"] == variant) & baselines[axes.line].isin(finite[axes.line])]
        for handle in _draw_reference_baselines(axis, others, colors, label, axes):
            legend.setdefault(handle.get_label(), handle)
    share_y_limits(panel_axes)
    _tradeoff_legend(figure, list(legend.values()), regimes, bound, len(panels))
    what = axes.x_label.split(" [")[0]
    figure.suptitle(f"{metric} vs {what} ({_direction_note(metric)})", fontsize="large")
    return figure


def plot_metric_vs_visibility(
    summary: pd.DataFrame,
    metric: str,
    *,
    style: FigureStyle = REPORT_STYLE,
    models: Sequence[str] | None = None,
) -> Figure:
    """``metric`` against future visibility ``t_f`` (ms), one line per chunk size ``k``, with interval bands.

    Three regimes are never joined by one line: live configs that meet their deadlines (solid line, filled
    markers), live configs past the bound that miss them (``X`` markers) and configs scored offline
    (``on_miss == "ignore"``; dashed line, hollow markers). A vertical line marks the run's feasibility bound
    (:func:`accbench.simulators.schedule.feasible_future_visibility_array`) at the model's own mean inference
    time, one per ``k`` when they differ, and the region beyond it is shaded. Baselines are drawn per ``k``
    (never averaged over ``k``), thin, in the colour of that ``k``, and not in their own panel (a run of
    baselines only draws none: every baseline has its own panel). All panels share one y axis.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table (:func:`accbench.reports.aggregate.aggregate`).
    metric : str
        Metric name.
    style : FigureStyle
        Sizes and fonts (:data:`~accbench.reports.plot_style.PAPER_STYLE` for a paper).
    models : sequence of str, optional
        Model labels that get panels (default all; baselines stay reference lines).

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per model (and latency/policy variant when the run has several).
    """
    with style.context():
        return _tradeoff_plot(summary, metric, _VS_VISIBILITY, style, models)


def plot_metric_vs_chunk(
    summary: pd.DataFrame,
    metric: str,
    *,
    style: FigureStyle = REPORT_STYLE,
    models: Sequence[str] | None = None,
) -> Figure:
    """``metric`` against chunk size ``k`` (ms), one line per future visibility ``t_f``.

    The same regimes, baselines and shared y axis as :func:`plot_metric_vs_visibility`; the bound drawn is
    the real-time one, ``k >= d`` (a chunk lasts at least one inference), when it falls inside the grid.
    """
    with style.context():
        return _tradeoff_plot(summary, metric, _VS_CHUNK, style, models)


def share_y_limits(axes: Sequence) -> None:
    """Give every visible panel of ``axes`` the union of their y limits (one scale per metric)."""
    visible = [axis for axis in axes if axis.get_visible() and (axis.lines or axis.collections)]
    if len(visible) < 2:
        return
    lows, highs = zip(*(axis.get_ylim() for axis in visible), strict=True)
    for axis in visible:
        axis.set_ylim(min(lows), max(highs))


def plot_heatmap(
    summary: pd.DataFrame,
    metric: str,
    *,
    style: FigureStyle = REPORT_STYLE,
    models: Sequence[str] | None = None,
) -> Figure:
    """A (t_f, k) heatmap of ``metric`` per model, cells annotated with the mean.

    Brighter is better whatever the metric's direction; NaN cells are grey and say ``n/a``; cells of
    configs that are not real-time feasible are hatched. All panels share one colour scale. ``style`` and
    ``models`` as in :func:`plot_metric_vs_visibility` (here every chosen model, baselines too, has a panel).
    """
    with style.context():
        return _heatmap(_panel_table(summary, metric, models), metric, style)


def _heatmap(table: pd.DataFrame, metric: str, style: FigureStyle) -> Figure:
    panels = sorted({(str(a), str(b)) for a, b in zip(table["label"], table["variant"], strict=True)})
    figure, axes = figure_grid(len(panels), style)
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
                axis.add_patch(_hatch_patch(j, i))
            text = "n/a" if not np.isfinite(value) else f"{value:.3g}"
            shade = 0.5 if not np.isfinite(value) else (value - vmin) / (vmax - vmin)
            bright = shade > 0.6 if spec.direction == "higher" else shade < 0.4
            axis.text(j, i, text, ha="center", va="center", fontsize="small", color="black" if bright else "white")
        axis.set_xticks(range(len(ks)), [f"{k:g}" for k in ks])
        axis.set_yticks(range(len(tfs)), [f"{t:g}" for t in tfs])
        axis.set_xlabel("chunk size k [ms]")
        axis.set_ylabel("future visibility t_f [ms]")
        causal = bool(rows["causal"].all()) if not rows.empty else True
        axis.set_title(_panel_title(label, variant, causal), fontsize="medium")
    if image is not None:
        colorbar = figure.colorbar(image, ax=axes, shrink=0.9)
        colorbar.set_label(_axis_label(metric), fontsize="small")
    if bool((~table["feasible"].astype(bool)).any()):
        from matplotlib.patches import Patch

        figure.legend(
            handles=[Patch(facecolor="none", edgecolor="0.2", hatch="///", label="not real-time feasible")],
            loc="outside lower center",
            fontsize="small",
            frameon=False,
        )
    figure.suptitle(f"{metric} over (t_f, k) ({_direction_note(metric)}; brighter is better)", fontsize="large")
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


def plot_frontier(
    summary: pd.DataFrame,
    metrics: str | Sequence[str],
    *,
    style: FigureStyle = REPORT_STYLE,
    models: Sequence[str] | None = None,
    n_points: int = 400,
) -> Figure:
    """The latency-budget frontier: the best feasible value of each metric as the inference time grows.

    One panel per metric (shared colours), one step line per causal model: for an inference time ``d``
    (x axis, ms) the best mean over the configs that are real-time feasible at ``d`` under the run's delays
    (:func:`frontier_table`); gaps where no config is. Non-causal models (the oracle) are flat dotted
    reference lines at their best config; baselines are dashed beside the models under test. A diamond
    marks each model's own measured mean inference time.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table.
    metrics : str or sequence of str
        One panel each.
    style : FigureStyle
    models : sequence of str, optional
        Model labels to draw (default all).
    n_points : int
        Inference times sampled from 0 to 1.1 x the largest chunk.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    with style.context():
        figure, axes = figure_grid(len(metrics), style)
        labels = sorted(set(summary["label"] if "label" in summary else summary["model"]))
        if models is not None:
            labels = [label for label in labels if label in set(models)]
        colors = okabe_ito_colors(labels)
        legend: dict[str, Line2D] = {}
        for axis, metric in zip(axes, metrics, strict=True):
            table = _prepare(summary, metric)
            table = table[table["label"].isin(labels)]
            for handle in _draw_frontier(axis, table, metric, colors, n_points):
                legend.setdefault(handle.get_label(), handle)
        if legend:
            legend["measured"] = Line2D([], [], color="0.3", marker="D", linestyle="", label="measured inference time")
            figure.legend(
                handles=list(legend.values()),
                loc="outside lower center",
                ncols=min(len(legend), 4),
                fontsize="small",
                frameon=False,
            )
        figure.suptitle(
            "Latency-budget frontier: the best real-time feasible config at each inference time",
            fontsize="large",
        )
    return figure


def _draw_frontier(axis, table: pd.DataFrame, metric: str, colors: dict[object, str], n_points: int) -> list[Line2D]:
    """One metric's frontier panel; returns the legend handles of what it drew."""
    finite = table[np.isfinite(table["mean"].to_numpy(dtype=float))]
    axis.set_xlabel("inference time per call d [ms]")
    axis.set_ylabel(f"best feasible {_axis_label(metric)}", fontsize="small")
    axis.set_title(metric, fontsize="medium")
    axis.grid(True, alpha=0.3)
    if finite.empty:
        _no_data(axis)
        return []
    top = float(np.nanmax(table["chunk_ms"].to_numpy(dtype=float)))
    d = np.linspace(0.0, max(top, 1.0) * 1.1, n_points)
    causal_labels = sorted(finite.loc[finite["causal"].astype(bool), "label"].unique())
    frontier = frontier_table(finite[finite["label"].isin(causal_labels)], metric, d)
    has_models = not bool(finite["baseline"].astype(bool).all())
    handles = []
    for label in causal_labels:
        curve = frontier[frontier["label"] == label]
        mine = finite[finite["label"] == label]
        # Baselines are dashed beside the models under test; a run of baselines only draws them plainly.
        is_baseline = has_models and bool(mine["baseline"].all())
        name = f"{label}{' (baseline)' if is_baseline else ''}"
        linestyle, width = ("--", 1.2) if is_baseline else ("-", None)
        (line,) = axis.step(
            curve["inference_ms"], curve["best"], where="post", color=colors[label], linestyle=linestyle, lw=width
        )
        handles.append(
            Line2D([], [], color=colors[label], linestyle=linestyle, linewidth=line.get_linewidth(), label=name)
        )
        at = _mean_inference_ms(mine)
        if not is_baseline and "inference_time_ms" in mine and mine["inference_time_ms"].notna().any():
            point = frontier_table(mine, metric, [at])["best"].iloc[0]
            if np.isfinite(point):
                axis.plot([at], [point], marker="D", color=colors[label], markersize=6, linestyle="")
    spec = metric_spec(metric, warn=False)
    for index, label in enumerate(sorted(set(finite["label"]) - set(causal_labels))):
        values = finite.loc[finite["label"] == label, "mean"].to_numpy(dtype=float)
        best = values.max() if spec.direction == "higher" else values.min()
        grey = _BASELINE_GREYS[index % len(_BASELINE_GREYS)]
        axis.axhline(best, color=grey, linestyle=":", linewidth=1.2)
        handles.append(Line2D([], [], color=grey, linestyle=":", linewidth=1.2, label=f"{label} (non-causal, best)"))
    return handles


def plot_timing_vs_inference(
    summary: pd.DataFrame, metrics: Iterable[str] = TIMING_METRICS, *, style: FigureStyle = REPORT_STYLE
) -> Figure:
    """Deadline-miss rate and underrun fraction against each config's mean inference time, per model.

    Marker colour is the model, marker shape the chunk size; error bars are the 95% intervals over songs.
    Worth drawing only when the inference times differ (:mod:`accbench.reports.figures` checks).
    """
    with style.context():
        return _timing_vs_inference(summary, [m for m in metrics if m in set(summary["metric"])], style)


def _timing_vs_inference(summary: pd.DataFrame, metrics: list[str], style: FigureStyle) -> Figure:
    figure, axes = figure_grid(len(metrics), style)
    labels = sorted(summary["label"].unique()) if "label" in summary else sorted(summary["model"].unique())
    colors = okabe_ito_colors(labels)
    markers = ("o", "s", "^", "v", "D", "P", "X", "*")
    chunks = sorted(summary["chunk_ms"].dropna().unique()) if "chunk_ms" in summary else []
    if not metrics:
        _no_data(axes[0], "no timing metrics in this run")
    for axis, metric in zip(axes, metrics, strict=False):
        table = _prepare(summary, metric)
        for label in labels:
            rows = table[(table["label"] == label) & np.isfinite(table["mean"].to_numpy(dtype=float))]
            for chunk, group in rows.groupby("chunk_ms"):
                axis.errorbar(
                    group["inference_time_ms"].to_numpy(dtype=float),
                    group["mean"].to_numpy(dtype=float),
                    yerr=[
                        np.clip(group["mean"] - group["ci_low"], 0, None).to_numpy(dtype=float),
                        np.clip(group["ci_high"] - group["mean"], 0, None).to_numpy(dtype=float),
                    ],
                    color=colors[label],
                    marker=markers[chunks.index(chunk) % len(markers)] if chunk in chunks else "o",
                    linestyle="",
                    markersize=6,
                    capsize=2,
                    alpha=0.85,
                )
        axis.set_xlabel("mean inference time per call [ms]")
        axis.set_ylabel(_axis_label(metric), fontsize="small")
        axis.set_title(metric, fontsize="medium")
        axis.grid(True, alpha=0.3)
    handles = [Line2D([], [], color=colors[name], marker="o", linestyle="", label=name) for name in labels]
    handles += [
        Line2D([], [], color="0.3", marker=markers[i % len(markers)], linestyle="", label=f"k = {c:g} ms")
        for i, c in enumerate(chunks)
    ]
    if metrics:
        figure.legend(
            handles=handles, loc="outside lower center", ncols=min(5, len(handles)), fontsize="small", frameon=False
        )
    figure.suptitle("Deadline misses and underruns vs inference time (lower is better)", fontsize="large")
    return figure
