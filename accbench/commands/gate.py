"""``accbench gate`` and ``accbench baseline save``: the regression gate of a run against a stored baseline.

``gate`` prints a short summary (:func:`accbench.reports.gate.to_terminal`: a verdict line, the regressions,
counts of the rest, one message about configs only one side has); ``--markdown`` and ``--junit`` get every check.
Exit codes of ``gate``: 0 pass, 1 regression, 2 error (not comparable, bad input).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from accbench.atomic import atomic_write_text
from accbench.commands.common import (
    add_bootstrap_arguments,
    add_command,
    add_group,
    add_patterns,
    option_fields,
    report_error,
)
from accbench.errors import AccbenchError, ConfigError
from accbench.reports.baseline import load_baseline, save_baseline
from accbench.reports.gate import (
    AUTO_RANGE_FRACTION,
    AUTO_RELATIVE_FRACTION,
    GateConfig,
    load_gate_config,
    run_gate,
    to_junit,
    to_markdown,
    to_terminal,
)
from accbench.reports.load import load_run

__all__ = ["register", "run_baseline_save", "run_gate_command"]

#: The one-line help of the two commands; their handlers' docstrings are the longer descriptions.
GATE_HELP = "compare a run with a stored baseline; exit 0 pass, 1 regression, 2 error"
BASELINE_SAVE_HELP = "save a run's per-song metric values, aggregates and manifest as a baseline"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``gate`` and ``baseline save`` to the CLI."""
    gate = add_command(subparsers, "gate", run_gate_command, help=GATE_HELP)
    gate.add_argument("run_dir", type=Path, help="the run folder to check")
    gate.add_argument("--baseline", type=Path, required=True, help="baseline file written by 'accbench baseline save'")
    gate.add_argument(
        "--config",
        type=Path,
        help="gate config (TOML or JSON; keys at top level or under [gate]; default: none, built-in settings)",
    )
    # Options named like GateConfig's fields override the config file's (see run_gate_command).
    add_patterns(gate, "--metric", "metrics that gate, e.g. 'beat.*' (repeatable; default: all)", dest="metrics")
    add_patterns(gate, "--exclude-metric", "metrics never gated (repeatable; default: none)", dest="exclude_metrics")
    add_patterns(gate, "--model", "models that gate (repeatable; default: all)", dest="models")
    gate.add_argument(
        "--tolerance",
        action="append",
        default=[],
        dest="tolerances",
        metavar="METRIC=TOL",
        help="tolerance of a metric pattern: absolute (0.02), relative to the baseline ('5%%') or 'auto' "
        "(repeatable; default: --default-tolerance)",
    )
    gate.add_argument(
        "--default-tolerance",
        help=f"tolerance of other metrics (default 'auto': {AUTO_RANGE_FRACTION:.0%}% of the metric's range, "
        f"else {AUTO_RELATIVE_FRACTION:.0%}% of the baseline mean)",
    )
    add_bootstrap_arguments(gate, GateConfig(), given_only=True)
    gate.add_argument(
        "--allow-missing",
        action="store_true",
        default=None,
        help="missing songs/configs are notes, not errors (default: errors)",
    )
    gate.add_argument(
        "--allow-data-change",
        action="store_true",
        default=None,
        help="changed song hashes are notes, not errors (default: errors)",
    )
    gate.add_argument(
        "--allow-metric-version-change",
        action="store_true",
        default=None,
        help="changed metric versions are notes, not errors (default: errors)",
    )
    gate.add_argument("--junit", type=Path, help="write JUnit XML here (default: not written)")
    gate.add_argument("--markdown", type=Path, help="write the Markdown verdict here (default: not written)")
    gate.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing (default: print the verdict line, the regressions and counts of the rest)",
    )

    actions = add_group(subparsers, "baseline", help="manage gate baselines", dest="baseline_command")
    save = add_command(actions, "save", run_baseline_save, help=BASELINE_SAVE_HELP)
    save.add_argument("run_dir", type=Path, help="the run folder (holding results.parquet or .csv)")
    save.add_argument("--to", type=Path, required=True, help="baseline file to write (JSON; required)")
    add_patterns(save, "--metric", "metrics to keep, e.g. 'beat.*' (repeatable; default: all)")
    add_patterns(save, "--model", "models to keep (repeatable; default: all)")
    add_bootstrap_arguments(save, GateConfig())


def _tolerances(items: list[str]) -> dict[str, str]:
    tolerances = {}
    for item in items:
        pattern, sep, value = item.partition("=")
        if not sep or not pattern.strip() or not value.strip():
            raise ConfigError(f"--tolerance expects METRIC=TOL, got {item!r}")
        tolerances[pattern.strip()] = value.strip()
    return tolerances


def run_gate_command(args: argparse.Namespace) -> int:
    """Paired bootstrap over the songs both runs share, per model, config and metric: a metric regresses when the
    whole interval of its change lies beyond the tolerance in the bad direction.
    """
    try:
        overrides = option_fields(GateConfig, args)  # an option not given is None or [], keeping the file's
        config = load_gate_config(args.config, tolerance=_tolerances(args.tolerances) or None, **overrides)
        run = load_run(args.run_dir)
        baseline = load_baseline(args.baseline)
        result = run_gate(run, baseline, config)
    except AccbenchError as error:
        return report_error("gate", error)
    markdown = to_markdown(result)
    if args.markdown:
        atomic_write_text(args.markdown, markdown + "\n")
    if args.junit:
        atomic_write_text(args.junit, to_junit(result))
    if not args.quiet:
        print(to_terminal(result, baseline=str(args.baseline)))
    return result.exit_code


def run_baseline_save(args: argparse.Namespace) -> int:
    """Write a baseline file for `accbench gate` from a run folder."""
    run = load_run(args.run_dir)
    path = save_baseline(
        run,
        args.to,
        metrics=args.metric or None,
        models=args.model or None,
        n_boot=args.n_boot,
        confidence=args.confidence,
        seed=args.seed,
    )
    print(f"wrote baseline {path}")
    return 0
