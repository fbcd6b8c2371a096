"""``accbench plot``: redraw chosen figures of a run folder (metrics, models, configs, kinds, formats, style)."""

from __future__ import annotations

import argparse
from pathlib import Path

from accbench.commands.common import add_bootstrap_arguments, add_command, add_patterns
from accbench.reports.figures import KINDS
from accbench.reports.plot_run import PlotRequest, plot_run
from accbench.reports.plot_style import FORMATS

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plot`` to the CLI (option defaults are those of :class:`~accbench.reports.plot_run.PlotRequest`)."""
    defaults = PlotRequest(metrics=["*"])
    parser = add_command(subparsers, "plot", run, help="redraw chosen figures of a run folder, e.g. as PDF for a paper")
    parser.add_argument("run_dir", type=Path, help="the sweep's output folder (holding results.parquet or .csv)")
    add_patterns(parser, "--metric", "metric(s) to draw, e.g. harmony.majmin or 'beat.*' (repeatable; required)")
    parser.add_argument(
        "--kind",
        action="append",
        default=[],
        choices=KINDS,
        help=f"figure kind (repeatable; default {defaults.kinds[0]}); frontier puts every metric in one figure",
    )
    add_patterns(parser, "--model", "model labels that get panels (repeatable; default all)")
    add_patterns(parser, "--config", "config ids to keep, e.g. 'tf-*_k1' (repeatable; default all)")
    parser.add_argument(
        "--format",
        default=",".join(defaults.formats),
        help=f"file formats, comma-separated, from {', '.join(FORMATS)} (default {','.join(defaults.formats)})",
    )
    parser.add_argument(
        "--style",
        default=defaults.style,
        choices=("paper", "report"),
        help="paper: one-column panels (3.4 in) with 7-9 pt text, 300 dpi PNG; report: the HTML report's size",
    )
    parser.add_argument("--dpi", type=int, help="PNG resolution (default: the style's)")
    parser.add_argument("--out", type=Path, help="folder of the files (default RUN/figures)")
    add_bootstrap_arguments(parser, defaults)


def run(args: argparse.Namespace) -> int:
    """Draw figures of a run folder for a paper: the chosen metrics (one figure each; a frontier holds them all),
    for the chosen models and configs, in vector (PDF, SVG) or raster (PNG) formats, with the report's intervals.
    """
    request = PlotRequest(
        metrics=list(args.metric),
        kinds=list(args.kind) or ["vs_visibility"],
        models=list(args.model),
        configs=list(args.config),
        formats=[f.strip().lower() for f in str(args.format).split(",") if f.strip()],
        style=args.style,
        dpi=args.dpi,
        n_boot=args.n_boot,
        confidence=args.confidence,
        seed=args.seed,
    )
    for path in plot_run(args.run_dir, request, args.out):
        print(f"wrote {path}")
    return 0
