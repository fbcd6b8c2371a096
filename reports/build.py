"""Build the whole report of a run folder: aggregates, plots, ``summary.csv``, ``report.md``, ``report.html``.

- :class:`ReportOptions`: what to draw and how to aggregate.
- :func:`build_report`: read ``<run>/results.*``, ``failures.csv``, ``manifest.json`` and ``audio/``, write
  ``report.html``, ``report.md``, ``summary.csv`` and ``plots/*`` (every file atomically).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from accbench.atomic import atomic_write_text
from accbench.errors import ConfigError, DataError
from accbench.reports.aggregate import CONFIDENCE, N_BOOT, aggregate
from accbench.reports.figures import make_plots, plan_figures, remove_stale_plots
from accbench.reports.honesty import metric_flags
from accbench.reports.html import render_html
from accbench.reports.load import dataset_name, load_run, model_labels, select_metrics
from accbench.reports.markdown import render_markdown
from accbench.reports.players import SongClips, collect_clips
from accbench.reports.plot_style import FORMATS, REPORT_STYLE
from accbench.results import Run

__all__ = ["PLOTTED_METRICS", "ReportFiles", "ReportOptions", "build_report", "plot_metric_choice"]

log = logging.getLogger(__name__)

PLOTTED_METRICS = (
    "beat.f_measure",
    "beat.mix_f_measure",
    "harmony.majmin",
    "harmony.chroma_agreement",
    "embedding.cosine_mix",
    "embedding.spectral_cosine_mix",
    "reaction.chord_median_s",
    "timing.miss_rate",
    "timing.underrun_fraction",
)
"""Metrics plotted by default (those the run has; the headline ones lead the report, see
:mod:`accbench.reports.figures`); every metric is in the tables. At most :data:`MAX_DEFAULT_PLOT_METRICS`
others are plotted when a run has none of these."""

MAX_DEFAULT_PLOT_METRICS = 8


def plot_metric_choice(metrics: list[str], patterns: list[str]) -> list[str]:
    """The metrics that get plots: those matching ``patterns``, else the primary ones the run has."""
    if patterns:
        return select_metrics(metrics, patterns)
    primary = [m for m in PLOTTED_METRICS if m in metrics]
    return primary or metrics[:MAX_DEFAULT_PLOT_METRICS]


@dataclass
class ReportOptions:
    """Options of :func:`build_report`.

    Parameters
    ----------
    metrics : list of str
        Shell-style patterns of the metrics to report in the tables (default all).
    plot_metrics : list of str
        Shell-style patterns of the metrics that get plots (default: :data:`PLOTTED_METRICS` present in the
        run; ``["*"]`` for all). The headline ones among them lead the report
        (:func:`accbench.reports.figures.plan_figures`).
    formats : tuple of str
        Plot file formats (``png``, ``svg``, ``pdf``); the HTML always embeds PNG.
    plots : bool
        Draw plots at all.
    n_boot, confidence, seed
        Bootstrap of the intervals.
    audio_songs : list of str or int
        Songs that get players (ids, or how many: the first in sorted order). 0 for none.
    audio_seconds : float
        Length of each clip.
    audio_budget_mb : float
        Audio embedded in the HTML beyond this is linked relative to the run folder instead.
    title : str or None
        Report title (default: ``accbench report: <dataset>``).
    dpi : int
        Plot resolution.
    workers : int
        Processes that draw the figures (at most the machine's cores; the files are the same for any number).
    """

    metrics: list[str] = field(default_factory=list)
    plot_metrics: list[str] = field(default_factory=list)
    formats: tuple[str, ...] = ("png",)
    plots: bool = True
    n_boot: int = N_BOOT
    confidence: float = CONFIDENCE
    seed: int = 0
    audio_songs: list[str] | int = 2
    audio_seconds: float = 10.0
    audio_budget_mb: float = 1.5
    title: str | None = None
    dpi: int = 110
    workers: int = 2

    def __post_init__(self) -> None:
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise ConfigError(f"plot format(s) {', '.join(unknown)} not supported; choose from {', '.join(FORMATS)}")
        if not 0.0 < self.confidence < 1.0:
            raise ConfigError(f"confidence must be in (0, 1), got {self.confidence}")


@dataclass
class ReportFiles:
    """What :func:`build_report` wrote, and how long it took (seconds)."""

    html: Path
    markdown: Path
    summary_csv: Path
    plots: list[Path]
    seconds: float


def _report_clips(run: Run, out: Path, options: ReportOptions) -> list[SongClips]:
    """The audio players of the report (none when ``options.audio_songs`` is 0), linked relative to ``out``."""
    if not options.audio_songs:
        return []
    clips = collect_clips(
        run.path,
        run.results,
        songs=options.audio_songs,
        seconds=options.audio_seconds,
        budget_bytes=int(options.audio_budget_mb * 1e6),
        labels=model_labels(run.results),
    )
    if out.resolve() != run.path.resolve():
        for song in clips:
            for clip in [song.input, *(c for _, _, o, m in song.outputs for c in (o, m))]:
                if clip.src and not clip.embedded:
                    clip.src = os.path.relpath(run.path / clip.src, out).replace(os.sep, "/")
    return clips


def build_report(
    run_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    options: ReportOptions | None = None,
) -> ReportFiles:
    """Write the report of a run folder.

    Parameters
    ----------
    run_dir : path-like
        The sweep's output folder.
    out_dir : path-like, optional
        Where to write (default: ``run_dir``; audio links then resolve).
    options : ReportOptions, optional

    Returns
    -------
    files : ReportFiles

    Raises
    ------
    DataError
        Missing or unreadable results, or no metric matches ``options.metrics``.
    """
    started = time.perf_counter()
    options = options or ReportOptions()
    run = load_run(run_dir)
    out = Path(out_dir) if out_dir is not None else run.path
    metrics = select_metrics(run.metrics, options.metrics)
    if options.metrics and not metrics:
        raise DataError(f"no metric matches {', '.join(options.metrics)}; the run has {', '.join(run.metrics)}")
    summary = aggregate(run.results, metrics, n_boot=options.n_boot, confidence=options.confidence, seed=options.seed)
    dataset = dataset_name(run.manifest)
    title = options.title or (f"accbench report: {dataset}" if dataset else "accbench report")
    summary_csv = out / "summary.csv"
    atomic_write_text(summary_csv, summary.to_csv(index=False))
    flags = metric_flags(summary, metrics)
    clips: list[SongClips] = []

    def gather_clips() -> None:  # runs while the figures are drawn in worker processes
        clips.extend(_report_clips(run, out, options))

    plots = []
    if options.plots and not summary.empty:
        plotted = plot_metric_choice(metrics, options.plot_metrics)
        specs = plan_figures(summary, plotted, flags=flags)
        style = dataclasses.replace(REPORT_STYLE, dpi=options.dpi)
        workers = max(1, min(options.workers, os.cpu_count() or 1))
        plots = make_plots(
            summary,
            out / "plots",
            specs,
            formats=options.formats,
            style=style,
            workers=workers,
            while_drawing=gather_clips,
        )
        remove_stale_plots(out / "plots", plots)
    else:
        gather_clips()
    markdown = render_markdown(
        summary,
        manifest=run.manifest,
        failures=run.failures,
        title=title,
        confidence=options.confidence,
        flags=flags,
    )
    markdown_path = out / "report.md"
    atomic_write_text(markdown_path, markdown)
    page = render_html(
        summary,
        plots=plots,
        manifest=run.manifest,
        failures=run.failures,
        clips=clips,
        title=title,
        confidence=options.confidence,
        set_metrics=run.set_metrics,
        flags=flags,
    )
    html_path = out / "report.html"
    atomic_write_text(html_path, page)
    seconds = time.perf_counter() - started
    log.info("report of %s written to %s in %.1f s (%d plots)", run.path, out, seconds, len(plots))
    return ReportFiles(
        html=html_path,
        markdown=markdown_path,
        summary_csv=summary_csv,
        plots=[p for plot in plots for p in plot.paths],
        seconds=seconds,
    )
