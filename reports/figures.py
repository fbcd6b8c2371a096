"""Which figures a run gets, in which order, and writing them: the report's primary figures and the rest.

The report leads with a handful of **primary figures** (:func:`plan_figures`), modelled on the seed
paper's: the latency-budget frontier of the headline metrics first, then each headline metric against
future visibility (one line per chunk size) and against chunk size (one line per future visibility).
Headline metrics are the first :data:`N_HEADLINE` of :data:`HEADLINE_METRICS` that the run has and that
carry no honesty flag (:mod:`accbench.reports.honesty`): a metric that cannot separate silence from the
oracle is never a headline. Every other plotted metric goes to the collapsed "all metrics" section, with
its flags beside it; a metric with no variation gets no figure at all.

- :func:`headline_metrics`: the run's headline metrics.
- :func:`plan_figures`: the list of :class:`FigureSpec` of a run.
- :func:`draw_figure`: one figure of a spec (what ``accbench plot`` writes).
- :func:`make_plots`: draw and write every planned figure (PNG, SVG, PDF), keeping the PNG for embedding.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from accbench.atomic import atomic_write_bytes
from accbench.reports.honesty import MetricFlag, metric_flags
from accbench.reports.plot_style import FORMATS, REPORT_STYLE, FigureStyle, figure_bytes, png_bytes
from accbench.reports.plots import (
    TIMING_METRICS,
    plot_frontier,
    plot_heatmap,
    plot_metric_vs_chunk,
    plot_metric_vs_visibility,
    plot_timing_vs_inference,
)

__all__ = [
    "HEADLINE_METRICS",
    "KINDS",
    "N_HEADLINE",
    "FigureSpec",
    "PlotFile",
    "draw_figure",
    "headline_metrics",
    "make_plots",
    "plan_figures",
    "remove_stale_plots",
]

HEADLINE_METRICS = (
    "harmony.majmin",
    "beat.f_measure",
    "embedding.cosine_mix",
    "harmony.chroma_agreement",
    "beat.cemgil",
    "embedding.spectral_cosine_mix",
    "harmony.root",
)
"""Coherence metrics that may lead the report, in order of preference."""

N_HEADLINE = 2
"""How many headline metrics get primary figures (1 frontier + 2 per metric: 5 figures)."""

KINDS = ("frontier", "vs_visibility", "vs_chunk", "heatmap", "timing")
"""Figure kinds (``accbench plot --kind``)."""

_CAPTIONS = {
    "frontier": "The best value a live system can reach at each inference time d (a step where a config stops "
    "being feasible).",
    "vs_visibility": "Seeing more of the input helps up to the feasibility bound; past it a live system misses "
    "deadlines (X), and the offline points show what the extra look-ahead would be worth.",
    "vs_chunk": "Longer chunks react later: the cost of k at each t_f.",
    "heatmap": "Every (t_f, k) config; hatched cells miss deadlines live.",
    "timing": "Deadline misses and underruns against the measured inference time.",
}

_TITLES = {
    "frontier": "Latency-budget frontier of {what}",
    "vs_visibility": "{what} vs future visibility",
    "vs_chunk": "{what} vs chunk size",
    "heatmap": "{what} over (t_f, k)",
    "timing": "Misses and underruns vs inference time",
}


@dataclass(frozen=True)
class FigureSpec:
    """One figure of a run.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    metrics : tuple of str
        The metric(s) drawn (several for ``frontier`` and ``timing``).
    section : str
        ``"primary"`` (leads the report) or ``"all"`` (the collapsed all-metrics section).
    flags : tuple of MetricFlag
        Honesty flags of the metric(s), shown beside the figure.
    """

    kind: str
    metrics: tuple[str, ...]
    section: str = "all"
    flags: tuple[MetricFlag, ...] = ()

    @property
    def name(self) -> str:
        """File stem: ``<metric>__<kind>`` (``frontier__<metrics>``, ``timing_vs_inference``)."""
        if self.kind == "timing":
            return "timing_vs_inference"
        if self.kind == "frontier":
            return _slug("frontier__" + "__".join(self.metrics))
        return _slug(f"{self.metrics[0]}__{self.kind}")

    @property
    def title(self) -> str:
        return _TITLES[self.kind].format(what=", ".join(self.metrics))

    @property
    def caption(self) -> str:
        """What the figure shows, in one sentence (the report prints it under primary figures)."""
        return _CAPTIONS[self.kind]


@dataclass
class PlotFile:
    """One figure written by :func:`make_plots`.

    Parameters
    ----------
    spec : FigureSpec
    paths : list of Path
        The files written (one per format).
    png : bytes
        The PNG rendering (for embedding in HTML).
    """

    spec: FigureSpec
    paths: list[Path] = field(default_factory=list)
    png: bytes = b""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def metric(self) -> str | None:
        return self.spec.metrics[0] if self.spec.metrics else None

    @property
    def title(self) -> str:
        return self.spec.title


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "plot"


def headline_metrics(metrics: Sequence[str], flags: dict[str, list[MetricFlag]]) -> list[str]:
    """The first :data:`N_HEADLINE` of :data:`HEADLINE_METRICS` in ``metrics`` with no flag.

    When none qualifies, the first unflagged non-timing metric of ``metrics`` (a run of custom metrics).
    """
    clean = [m for m in metrics if not flags.get(m)]
    chosen = [m for m in HEADLINE_METRICS if m in clean][:N_HEADLINE]
    return chosen or [m for m in clean if not m.startswith("timing.")][:1]


def _has_grid(summary: pd.DataFrame) -> bool:
    return {"future_visibility_ms", "chunk_ms"} <= set(summary.columns)


def _inference_varies(summary: pd.DataFrame) -> bool:
    """Whether the configs' mean inference times differ (else a figure against them is one column of points)."""
    if "inference_time_ms" not in summary.columns:
        return False
    times = summary["inference_time_ms"].dropna().round(3)
    return times.nunique() > 1


def plan_figures(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    *,
    flags: dict[str, list[MetricFlag]] | None = None,
    headline: Sequence[str] | None = None,
) -> list[FigureSpec]:
    """The figures of a run, primary ones first.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table.
    metrics : sequence of str
        Metrics that get figures (in the "all metrics" section when not headline).
    flags : dict, optional
        :func:`accbench.reports.honesty.metric_flags` of ``summary`` (computed when not given).
    headline : sequence of str, optional
        Headline metrics (default :func:`headline_metrics`).

    Returns
    -------
    list of FigureSpec
        Primary: the frontier of the headline metrics, then vs-t_f and vs-k of each. All metrics: the
        heatmaps of the headline ones, vs-t_f of each other metric, and the timing figure when
        inference times vary. Metrics flagged ``no_values`` or ``no_variation`` get none. (Any figure of any
        metric: ``accbench plot``.)
    """
    flags = metric_flags(summary, metrics) if flags is None else flags
    drawable = [m for m in metrics if all(f.draw for f in flags.get(m, []))]
    headline = list(headline) if headline is not None else headline_metrics(drawable, flags)
    if not _has_grid(summary):
        return []

    def spec(kind: str, chosen: Sequence[str], section: str) -> FigureSpec:
        return FigureSpec(kind, tuple(chosen), section, tuple(f for m in chosen for f in flags.get(m, [])))

    plans: list[FigureSpec] = []
    if headline and {"frame_rate_hz", "future_visibility_frames"} <= set(summary.columns):
        plans.append(spec("frontier", headline, "primary"))
    plans += [spec(kind, [m], "primary") for m in headline for kind in ("vs_visibility", "vs_chunk")]
    plans += [spec("heatmap", [m], "all") for m in headline]
    for metric in drawable:
        if metric not in headline:
            plans.append(spec("vs_visibility", [metric], "all"))
    timing = [m for m in TIMING_METRICS if m in drawable]
    if timing and _inference_varies(summary):
        plans.append(spec("timing", timing, "all"))
    return plans


def draw_figure(
    summary: pd.DataFrame,
    spec: FigureSpec,
    *,
    style: FigureStyle = REPORT_STYLE,
    models: Sequence[str] | None = None,
) -> Figure:
    """The figure of ``spec`` in ``style``, with panels for ``models`` (labels; default all)."""
    if spec.kind == "frontier":
        return plot_frontier(summary, spec.metrics, style=style, models=models)
    if spec.kind == "timing":
        return plot_timing_vs_inference(summary, spec.metrics, style=style)
    draw = {"vs_visibility": plot_metric_vs_visibility, "vs_chunk": plot_metric_vs_chunk, "heatmap": plot_heatmap}
    if spec.kind not in draw:
        raise ValueError(f"unknown figure kind {spec.kind!r}; known: {', '.join(KINDS)}")
    return draw[spec.kind](summary, spec.metrics[0], style=style, models=models)


def _render(summary: pd.DataFrame, spec: FigureSpec, style: FigureStyle, models, formats) -> dict[str, bytes]:
    """The bytes of one figure per format, plus its embedded PNG under ``"embed"``."""
    figure = draw_figure(summary, spec, style=style, models=models)
    # A heatmap's colour bar bands under a 256-colour palette: keep it full colour.
    rendered = {"embed": png_bytes(figure, dpi=style.dpi, colors=0 if spec.kind == "heatmap" else 256)}
    for fmt in formats:
        rendered[fmt] = rendered["embed"] if fmt == "png" else figure_bytes(figure, fmt, dpi=style.dpi)
    return rendered


_JOB: tuple | None = None
"""What a drawing worker renders from (set in the parent before the workers fork)."""


def _render_in_worker(spec: FigureSpec) -> dict[str, bytes]:
    summary, style, models, formats = _JOB  # type: ignore[misc]
    return _render(summary, spec, style, models, formats)


def _render_all(summary, specs, style, models, formats, workers: int, while_drawing) -> list[dict[str, bytes]]:
    """Every spec's bytes, in order; in ``workers`` forked processes when there are enough figures, while
    this process runs ``while_drawing()``.

    Rendering is deterministic, so the bytes do not depend on ``workers``. Where ``fork`` is not available
    (macOS, Windows) figures are drawn in this process.
    """
    global _JOB
    if workers < 2 or len(specs) < 4 or "fork" not in multiprocessing.get_all_start_methods():
        if while_drawing is not None:
            while_drawing()
        return [_render(summary, spec, style, models, formats) for spec in specs]
    _JOB = (summary, style, models, tuple(formats))
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_render_in_worker, spec) for spec in specs]  # the workers fork here
            if while_drawing is not None:
                while_drawing()
            return [future.result() for future in futures]
    finally:
        _JOB = None


def make_plots(
    summary: pd.DataFrame,
    out_dir: str | os.PathLike,
    specs: Sequence[FigureSpec],
    *,
    formats: Sequence[str] = ("png",),
    style: FigureStyle = REPORT_STYLE,
    models: Sequence[str] | None = None,
    workers: int = 1,
    while_drawing: Callable[[], object] | None = None,
) -> list[PlotFile]:
    """Draw ``specs`` and write each under ``out_dir`` as ``<name>.<format>``.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table.
    out_dir : path-like
        Folder of the plot files (``<run>/plots``).
    specs : sequence of FigureSpec
        What to draw (:func:`plan_figures`).
    formats : sequence of str
        Any of ``"png"``, ``"svg"``, ``"pdf"`` (vector formats keep text as text).
    style : FigureStyle
    models : sequence of str, optional
        Model labels that get panels (default all).
    workers : int
        Processes that draw (the bytes are the same for any number).
    while_drawing : callable, optional
        Work for this process while the workers draw (the report collects its audio clips meanwhile).

    Returns
    -------
    plots : list of PlotFile
        In ``specs`` order, each with its (palette-quantised) PNG bytes for embedding.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"figure format(s) {', '.join(unknown)} not supported; choose from {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    plots = []
    for spec, rendered in zip(
        specs, _render_all(summary, specs, style, models, formats, workers, while_drawing), strict=True
    ):
        plot = PlotFile(spec=spec, png=rendered["embed"])
        for fmt in formats:
            path = out_dir / f"{spec.name}.{fmt}"
            atomic_write_bytes(path, rendered[fmt])
            plot.paths.append(path)
        plots.append(plot)
    return plots


def remove_stale_plots(out_dir: str | os.PathLike, plots: Sequence[PlotFile]) -> list[Path]:
    """Delete figure files in ``out_dir`` (the report's ``plots/``) that this build did not write."""
    out_dir = Path(out_dir)
    keep = {path.name for plot in plots for path in plot.paths}
    stale = [p for p in out_dir.glob("*") if p.suffix.lstrip(".") in FORMATS and p.name not in keep]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
