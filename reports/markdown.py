"""The Markdown report: the numbers of the HTML report for CI logs and GitHub step summaries.

- :func:`format_interval`: ``0.812 [0.790, 0.833]``.
- :func:`summary_tables`: one Markdown table per model (rows: configs; columns: metrics).
- :func:`render_markdown`: the whole ``report.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from accbench.reports.aggregate import CONFIDENCE
from accbench.reports.honesty import MetricFlag
from accbench.reports.load import dataset_name

__all__ = ["escape_cell", "flag_lines", "format_interval", "render_markdown", "summary_tables"]

MAX_METRICS_PER_TABLE = 6


def escape_cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, newlines flattened, ``<``, ``>`` and ``&`` as entities."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def format_number(value: float, digits: int = 3) -> str:
    """A number for tables: ``digits`` significant digits, ``–`` for NaN."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    return f"{float(value):.{digits}g}"


def format_interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``mean [low, high]`` with ``digits`` significant digits, ``–`` for NaN, no interval when it is a point."""
    if not math.isfinite(float(mean)):
        return "–"
    if not (math.isfinite(float(low)) and math.isfinite(float(high))) or low == high:
        return format_number(mean, digits)
    return f"{format_number(mean, digits)} [{format_number(low, digits)}, {format_number(high, digits)}]"


def _metric_header(metric: str, direction: str, unit: str) -> str:
    arrow = "↑" if direction == "higher" else "↓"
    return f"{metric} {arrow}" + (f" ({unit})" if unit and unit != "fraction" else "")


def summary_tables(summary: pd.DataFrame, metrics: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """One Markdown table per model label (and per block of at most six metrics).

    Returns
    -------
    tables : list of (title, markdown)
        ``title`` is empty for a model's second and later blocks.
    """
    if summary.empty:
        return []
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(summary["metric"]))
    info = summary.drop_duplicates("metric").set_index("metric")
    config_columns = [
        c for c in ("future_visibility_ms", "chunk_ms", "latency", "on_miss", "feasible") if c in summary.columns
    ]
    names = {
        "future_visibility_ms": "t_f (ms)",
        "chunk_ms": "k (ms)",
        "latency": "latency",
        "on_miss": "on miss",
        "feasible": "real-time",
    }
    tables = []
    label_column = "label" if "label" in summary.columns else "model"
    for label, rows in summary.groupby(label_column, sort=True):
        order = [c for c in ("future_visibility_ms", "chunk_ms", "config_id") if c in rows.columns]
        configs = rows.drop_duplicates("config_id").sort_values(order)
        cells = rows.set_index(["config_id", "metric"])
        baseline = bool(rows["baseline"].any()) if "baseline" in rows.columns else False
        causal = bool(rows["causal"].all()) if "causal" in rows.columns else True
        title = str(label) + (" (baseline)" if baseline else "") + ("" if causal else " (non-causal)")
        for number, start in enumerate(range(0, len(metrics), MAX_METRICS_PER_TABLE)):
            block = metrics[start : start + MAX_METRICS_PER_TABLE]
            header = ["config", *(names[c] for c in config_columns)]
            header += [_metric_header(m, info.loc[m, "direction"], info.loc[m, "unit"]) for m in block]
            lines = ["| " + " | ".join(escape_cell(h) for h in header) + " |"]
            lines.append("| " + " | ".join(["---"] * (1 + len(config_columns)) + ["---:"] * len(block)) + " |")
            for config in configs.itertuples(index=False):
                values = []
                for column in config_columns:
                    value = getattr(config, column)
                    if column == "feasible":
                        values.append("yes" if bool(value) else "no")
                    elif isinstance(value, float):
                        values.append(format_number(value, 6))
                    else:
                        values.append(escape_cell(value))
                for metric in block:
                    if (config.config_id, metric) in cells.index:
                        cell = cells.loc[(config.config_id, metric)]
                        values.append(format_interval(cell["mean"], cell["ci_low"], cell["ci_high"]))
                    else:
                        values.append("–")
                lines.append("| " + " | ".join([escape_cell(config.config_id), *values]) + " |")
            tables.append((title if number == 0 else "", "\n".join(lines)))
    return tables


def flag_lines(flags: dict[str, list[MetricFlag]]) -> list[str]:
    """The "Metrics that are not findings on this run" section: one bullet per flag (none when no flag)."""
    bullets = [
        f"- `{escape_cell(flag.metric)}`: {escape_cell(flag.message)}" for found in flags.values() for flag in found
    ]
    if not bullets:
        return []
    return ["## Metrics that are not findings on this run", "", *bullets, ""]


def render_markdown(
    summary: pd.DataFrame,
    *,
    manifest: dict | None = None,
    failures: pd.DataFrame | None = None,
    title: str = "accbench report",
    confidence: float = CONFIDENCE,
    max_failures: int = 20,
    flags: dict[str, list[MetricFlag]] | None = None,
) -> str:
    """The Markdown report of a run.

    A title, the run's provenance (from the manifest), one table per metric group with the mean and interval
    of each (model, config), and the failures.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table (:func:`accbench.reports.aggregate.aggregate`).
    manifest : dict, optional
        Run manifest (versions, dataset, seeds, songs).
    failures : DataFrame, optional
        Failures table.
    title : str
    confidence : float
        The intervals' coverage, for the explanatory line.
    max_failures : int
        Failures listed (the count is always given).
    flags : dict, optional
        Honesty flags per metric (:func:`accbench.reports.honesty.metric_flags`), listed before the tables.
    """
    manifest = manifest or {}
    lines = [f"# {escape_cell(title)}", ""]
    songs = manifest.get("songs") or {}
    facts = [
        ("accbench", manifest.get("accbench_version")),
        ("dataset", dataset_name(manifest)),
        ("songs", len(songs) if songs else None),
        ("seeds", ", ".join(str(s) for s in manifest.get("seeds", [])) or None),
        ("created", manifest.get("created")),
    ]
    facts_text = "; ".join(f"{k}: {escape_cell(v)}" for k, v in facts if v not in (None, ""))
    if facts_text:
        lines += [facts_text, ""]
    lines += [
        f"Mean over songs with a {confidence:.0%} bootstrap interval; ↑ higher is better, ↓ lower is better. "
        "`real-time: no` marks configs that are not real-time feasible under the run's delays.",
        "",
    ]
    lines += flag_lines(flags or {})
    for table_title, table in summary_tables(summary):
        if table_title:
            lines += [f"## {escape_cell(table_title)}", ""]
        lines += [table, ""]
    if summary.empty:
        lines += ["No results.", ""]
    if failures is not None and len(failures):
        lines += [
            f"## Failures ({len(failures)})",
            "",
            "| model | config | song | call | error |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for row in failures.head(max_failures).itertuples(index=False):
            lines.append(
                "| "
                + " | ".join(
                    escape_cell(getattr(row, c, ""))[:300] for c in ("model", "config_id", "song", "call", "error")
                )
                + " |"
            )
        if len(failures) > max_failures:
            lines.append(f"\n... and {len(failures) - max_failures} more (see failures.csv)")
        lines.append("")
    return "\n".join(lines)
