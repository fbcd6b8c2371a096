"""``accbench gate`` and ``accbench baseline save``: the regression gate of a run against a stored baseline.

Exit codes of ``gate``: 0 pass, 1 regression, 2 error (not comparable, bad input).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from accbench.atomic import atomic_write_text
from accbench.commands.common import add_bootstrap_arguments, add_command, add_group, add_patterns, report_error
from accbench.errors import AccbenchError, ConfigError
from accbench.reports.baseline import load_baseline, save_baseline
from accbench.reports.gate import GateConfig, load_gate_config, run_gate, to_junit, to_markdown
from accbench.reports.load import load_run

__all__ = ["register", "run_baseline_save", "run_gate_command"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``gate`` and ``baseline save`` to the CLI."""
    gate = add_command(
        subparsers,
        "gate",
        run_gate_command,
        help="compare a run with a stored baseline; exit 0 pass, 1 regression, 2 error",
        description="Paired bootstrap over the songs both runs share, per model, config and metric: a metric "
        "regresses when the whole interval of its change lies beyond the tolerance in the bad direction.",
    )
    gate.add_argument("run_dir", type=Path, help="the run folder to check")
    gate.add_argument("--baseline", type=Path, required=True, help="baseline file (accbench baseline save)")
    gate.add_argument("--config", type=Path, help="gate config (TOML or JSON; keys at top level or under [gate])")
    add_patterns(gate, "--metric", "metrics that gate")
    add_patterns(gate, "--exclude-metric", "metrics never gated")
    add_patterns(gate, "--model", "models that gate")
    gate.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="METRIC=TOL",
        help="tolerance of a metric pattern: absolute (0.02), relative to the baseline ('5%%') or 'auto'",
    )
    gate.add_argument("--default-tolerance", help="tolerance of other metrics (default 'auto')")
    add_bootstrap_arguments(gate, GateConfig(), given_only=True)
    gate.add_argument("--allow-missing", action="store_true", default=None, help="missing songs/configs are notes")
    gate.add_argument(
        "--allow-data-change", action="store_true", default=None, help="changed song hashes are notes, not errors"
    )
    gate.add_argument(
        "--allow-metric-version-change", action="store_true", default=None, help="changed metric versions are notes"
    )
    gate.add_argument("--junit", type=Path, help="write JUnit XML here")
    gate.add_argument("--markdown", type=Path, help="write the Markdown verdict here")
    gate.add_argument("--quiet", action="store_true", help="do not print the Markdown verdict")

    actions = add_group(subparsers, "baseline", help="manage gate baselines", dest="baseline_command")
    save = add_command(
        actions,
        "save",
        run_baseline_save,
        help="save a run's per-song metric values, aggregates and manifest as a baseline",
        description="Write a baseline file for `accbench gate` from a run folder.",
    )
    save.add_argument("run_dir", type=Path, help="the run folder")
    save.add_argument("--to", type=Path, required=True, help="baseline file to write (JSON)")
    add_patterns(save, "--metric", "metrics to keep")
    add_patterns(save, "--model", "models to keep")
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
    """Run the gate; returns its exit code (errors reading inputs are exit 2 with a message)."""
    try:
        config = load_gate_config(
            args.config,
            metrics=args.metric,
            exclude_metrics=args.exclude_metric,
            models=args.model,
            tolerance=_tolerances(args.tolerance) or None,
            default_tolerance=args.default_tolerance,
            confidence=args.confidence,
            n_boot=args.n_boot,
            seed=args.seed,
            allow_missing=args.allow_missing,
            allow_data_change=args.allow_data_change,
            allow_metric_version_change=args.allow_metric_version_change,
        )
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
        print(markdown)
    return result.exit_code


def run_baseline_save(args: argparse.Namespace) -> int:
    """Save a baseline; returns 0."""
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
