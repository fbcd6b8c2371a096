"""Redraw chosen figures of a run folder for a paper: chosen metrics, models, configs, kinds and formats.

``accbench plot RUN --metric harmony.majmin --kind vs_visibility --format pdf`` is :func:`plot_run`: it
aggregates the run exactly as the report does (same bootstrap, same seed), keeps the chosen rows and draws
each figure with :func:`accbench.reports.figures.draw_figure` in the chosen style.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from accbench.errors import ConfigError, DataError
from accbench.reports.aggregate import CONFIDENCE, N_BOOT, aggregate
from accbench.reports.figures import KINDS, FigureSpec, draw_figure
from accbench.reports.honesty import metric_flags
from accbench.reports.load import load_run, model_labels, select_metrics
from accbench.reports.plot_style import FORMATS, STYLES, save_figure
from accbench.suggest import did_you_mean

__all__ = ["PlotRequest", "plot_run"]

log = logging.getLogger(__name__)


@dataclass
class PlotRequest:
    """What :func:`plot_run` draws.

    Parameters
    ----------
    metrics : list of str
        Shell-style patterns of metrics (at least one must match).
    kinds : list of str
        Figure kinds from :data:`accbench.reports.figures.KINDS` (default ``vs_visibility``). A ``frontier``
        puts every chosen metric in one figure; the other kinds draw one figure per metric.
    models : list of str
        Shell-style patterns of model labels that get panels (default all).
    configs : list of str
        Shell-style patterns of config ids to keep (default all).
    formats : list of str
        ``png``, ``svg``, ``pdf``.
    style : str
        ``paper`` (one-column panels, 300 dpi PNG; the default) or ``report``.
    dpi : int or None
        PNG resolution (default: the style's).
    n_boot, confidence, seed
        Bootstrap of the intervals (the report's defaults).
    """

    metrics: list[str]
    kinds: list[str] = field(default_factory=lambda: ["vs_visibility"])
    models: list[str] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=lambda: ["pdf"])
    style: str = "paper"
    dpi: int | None = None
    n_boot: int = N_BOOT
    confidence: float = CONFIDENCE
    seed: int = 0

    def __post_init__(self) -> None:
        for name, values, known in (("figure kind", self.kinds, KINDS), ("format", self.formats, FORMATS)):
            for value in values:
                if value not in known:
                    raise ConfigError(
                        f"unknown {name} {value!r}{did_you_mean(value, known)}; known: {', '.join(known)}"
                    )
        if self.style not in STYLES:
            raise ConfigError(f"unknown style {self.style!r}{did_you_mean(self.style, STYLES)}; known: paper, report")
        if not self.metrics:
            raise ConfigError("choose at least one metric (--metric NAME, e.g. --metric harmony.majmin)")


def _chosen(values: Sequence[str], patterns: Sequence[str], what: str, run_dir: Path) -> list[str]:
    """``values`` matching ``patterns`` (all when none); an error naming the run when nothing matches."""
    if not patterns:
        return list(values)
    chosen = select_metrics(list(values), list(patterns))
    if not chosen:
        raise DataError(
            f"no {what} matches {', '.join(patterns)}{did_you_mean(patterns[0], values)}; "
            f"the run has {', '.join(values)}",
            path=str(run_dir),
        )
    return chosen


def plot_run(run_dir: str | os.PathLike, request: PlotRequest, out_dir: str | os.PathLike | None = None) -> list[Path]:
    """Draw the figures of ``request`` from a run folder and write them.

    Parameters
    ----------
    run_dir : path-like
        The sweep's output folder.
    request : PlotRequest
    out_dir : path-like, optional
        Folder of the files (default ``<run_dir>/figures``; ``plots/`` belongs to the report).

    Returns
    -------
    list of Path
        Files written, ``<name>.<format>`` as the report names them.
    """
    run = load_run(run_dir)
    metrics = _chosen(run.metrics, request.metrics, "metric", run.path)
    results = run.results
    labels = sorted(set(model_labels(results).values()))
    models = _chosen(labels, request.models, "model", run.path) if request.models else None
    if request.configs:
        keep = _chosen(sorted(results["config_id"].unique()), request.configs, "config", run.path)
        results = results[results["config_id"].isin(keep)]
    summary = aggregate(results, metrics, n_boot=request.n_boot, confidence=request.confidence, seed=request.seed)
    flags = metric_flags(summary, metrics)
    style = STYLES[request.style]
    if request.dpi:
        style = dataclasses.replace(style, dpi=request.dpi)
    specs = []
    for kind in request.kinds:
        if kind in ("frontier", "timing"):
            specs.append(FigureSpec(kind, tuple(metrics)))
        else:
            specs += [FigureSpec(kind, (metric,)) for metric in metrics]
    out = Path(out_dir) if out_dir is not None else run.path / "figures"
    written = []
    for spec in specs:
        figure = draw_figure(summary, spec, style=style, models=models)
        for fmt in request.formats:
            written.append(save_figure(figure, out / f"{spec.name}.{fmt}", dpi=style.dpi))
    for metric in metrics:
        for flag in flags.get(metric, []):
            log.warning("%s is not a finding on this run: %s", metric, flag.message)
    return written
