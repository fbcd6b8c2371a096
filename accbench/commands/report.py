"""``accbench report``: the HTML and Markdown report, plots and ``summary.csv`` of a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from accbench.commands.common import add_bootstrap_arguments, add_command, add_patterns
from accbench.errors import ConfigError
from accbench.reports.build import FORMATS, ReportOptions, build_report

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` to the CLI (option defaults are those of :class:`~accbench.reports.build.ReportOptions`)."""
    defaults = ReportOptions()
    parser = add_command(
        subparsers, "report", run, help="write report.html, report.md, plots/ and summary.csv for a run folder"
    )
    parser.add_argument("run_dir", type=Path, help="the sweep's output folder (holding results.parquet or .csv)")
    parser.add_argument("--out", type=Path, help="write the report here (default: the run folder)")
    add_patterns(parser, "--metric", "metrics to report, e.g. 'beat.*' (repeatable)")
    add_patterns(
        parser,
        "--plot-metric",
        "metrics that get figures (repeatable; default: the main beat, harmony, embedding, reaction and timing ones, "
        "the first two clean coherence metrics leading; '*': all)",
    )
    parser.add_argument(
        "--format",
        default=",".join(defaults.formats),
        help=f"plot file formats, comma-separated, from {', '.join(FORMATS)} (default {','.join(defaults.formats)})",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the plots (tables only)")
    add_bootstrap_arguments(parser, defaults)
    parser.add_argument(
        "--audio-song",
        action="append",
        default=[],
        metavar="SONG",
        help="song ids that get audio players (repeatable; default: the first --audio-songs songs)",
    )
    parser.add_argument(
        "--audio-songs",
        type=int,
        default=defaults.audio_songs,
        help=f"how many songs get players (default {defaults.audio_songs}; 0: none)",
    )
    parser.add_argument(
        "--audio-seconds",
        type=float,
        default=defaults.audio_seconds,
        help=f"clip length in seconds (default {defaults.audio_seconds:g})",
    )
    parser.add_argument(
        "--audio-budget-mb",
        type=float,
        default=defaults.audio_budget_mb,
        help=f"embed at most this much audio, link the rest (default {defaults.audio_budget_mb:g})",
    )
    parser.add_argument("--title", help="report title")


def run(args: argparse.Namespace) -> int:
    """Aggregate a sweep's results over songs (mean and seeded bootstrap interval per model, config and metric),
    draw the trade-off plots and write a self-contained HTML page and a Markdown summary.
    """
    formats = tuple(f.strip().lower() for f in str(args.format).split(",") if f.strip())
    if not formats:
        raise ConfigError("--format needs at least one of " + ", ".join(FORMATS))
    options = ReportOptions(
        metrics=list(args.metric),
        plot_metrics=list(args.plot_metric),
        formats=formats,
        plots=not args.no_plots,
        n_boot=args.n_boot,
        confidence=args.confidence,
        seed=args.seed,
        audio_songs=list(args.audio_song) if args.audio_song else args.audio_songs,
        audio_seconds=args.audio_seconds,
        audio_budget_mb=args.audio_budget_mb,
        title=args.title,
    )
    files = build_report(args.run_dir, args.out, options)
    print(f"wrote {files.html}")
    print(f"wrote {files.markdown}")
    print(f"wrote {files.summary_csv}")
    print(f"wrote {len(files.plots)} plot file(s) in {files.html.parent / 'plots'} ({files.seconds:.1f} s)")
    return 0
