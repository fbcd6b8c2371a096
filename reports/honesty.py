"""Which metrics of a run can carry a finding, and which cannot: flags shown next to every figure and table.

A metric that cannot separate the built-in baselines on a run is not evidence about a model, however good a
figure of it looks. :func:`metric_flags` checks the aggregate table (one row per model, config and metric:
:func:`accbench.reports.aggregate.aggregate`) for

- ``no_values``: NaN for every model and config (skipped, or undefined on these songs). No figure.
- ``no_variation``: one value for every model and config. Nothing to draw; the figure is left out.
- ``same_for_every_model``: every model has the same value on each config (e.g. a deadline-miss rate under
  a fixed latency model): it measures the schedule, not the model. Drawn as one panel.
- ``silence_not_separated``: the ``silence`` baseline (plays nothing) scores inside the ``oracle``'s
  interval on at least half of the configs: the metric cannot tell silence from the reference.
- ``silence_above_oracle``: silence scores better than the oracle beyond the oracle's interval on at least
  half of the configs (e.g. a mix metric that then measures only the input).
- ``like_silence``: other models have silence's value on every config; for ``reaction.*`` metrics that is
  censoring (the output never followed a change within its segment, so the time is the segment length).

The baselines are found by their model names ``silence`` and ``oracle`` (accbench's built-ins); a run
without them gets only the first two checks. Every flag is advisory: the numbers stay in the tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FLAG_KINDS", "MetricFlag", "metric_flags", "same_for_every_model"]

FLAG_KINDS = (
    "no_values",
    "no_variation",
    "same_for_every_model",
    "silence_not_separated",
    "silence_above_oracle",
    "like_silence",
)
"""The kinds of :class:`MetricFlag`, in the order they are reported."""

_RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class MetricFlag:
    """Why a metric's figure is not a finding on this run.

    Parameters
    ----------
    metric : str
    kind : str
        One of :data:`FLAG_KINDS`.
    message : str
        One sentence for the page, with the numbers that triggered it.
    draw : bool
        Whether the metric's figures are still drawn (``False`` for ``no_values`` and ``no_variation``).
    """

    metric: str
    kind: str
    message: str
    draw: bool = True


def _equal(values: np.ndarray) -> bool:
    """Whether the finite ``values`` are one number (relative tolerance 1e-9); ``False`` when none is finite."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return False
    return float(np.ptp(values)) <= _RELATIVE_TOLERANCE * max(1.0, float(np.abs(values).max()))


def same_for_every_model(rows: pd.DataFrame) -> bool:
    """Whether a metric's rows (several models) have one value per config, shared by every model.

    Parameters
    ----------
    rows : DataFrame
        Aggregate rows of one metric with ``model``, ``config_id`` and ``mean``.
    """
    if rows["model"].nunique() < 2:
        return False
    for _, group in rows.groupby("config_id"):
        if group["model"].nunique() < 2:
            continue
        if not _equal(group["mean"].to_numpy(dtype=float)):
            return False
    return bool(np.isfinite(rows["mean"].to_numpy(dtype=float)).any())


def _by_config(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    return rows[rows["model"] == model].set_index("config_id")


def _silence_checks(metric: str, rows: pd.DataFrame) -> list[MetricFlag]:
    """The ``silence`` vs ``oracle`` checks of one metric (none when either baseline is missing)."""
    silence, oracle = _by_config(rows, "silence"), _by_config(rows, "oracle")
    shared = [c for c in silence.index.intersection(oracle.index) if np.isfinite(silence.loc[c, "mean"])]
    shared = [c for c in shared if np.isfinite(oracle.loc[c, "mean"])]
    if not shared:
        return []
    s = silence.loc[shared, "mean"].to_numpy(dtype=float)
    low = oracle.loc[shared, "ci_low"].to_numpy(dtype=float)
    high = oracle.loc[shared, "ci_high"].to_numpy(dtype=float)
    higher = str(oracle["direction"].iloc[0]) == "higher" if "direction" in oracle.columns else True
    above = s > high if higher else s < low
    inside = (s >= low) & (s <= high)
    n = len(shared)
    flags = []
    if 2 * int(above.sum()) >= n:
        flags.append(
            MetricFlag(
                metric,
                "silence_above_oracle",
                f"ranks silence above the oracle on {int(above.sum())} of {n} configs (silence {np.mean(s):.3g}, "
                f"oracle {np.mean(oracle.loc[shared, 'mean']):.3g} on average): it rewards playing nothing",
            )
        )
    elif 2 * int((inside | above).sum()) >= n:
        flags.append(
            MetricFlag(
                metric,
                "silence_not_separated",
                f"silence is inside the oracle's interval on {int((inside | above).sum())} of {n} configs: "
                "this metric cannot tell playing nothing from the reference on this run",
            )
        )
    return flags


def _like_silence(metric: str, rows: pd.DataFrame) -> list[MetricFlag]:
    """Models (other than silence) with silence's value on every shared config."""
    if "silence" not in set(rows["model"]):
        return []
    means = rows.pivot_table(index="config_id", columns="model", values="mean", aggfunc="first", dropna=False)
    silence = means["silence"].to_numpy(dtype=float)
    alike = []
    for model in sorted(set(means.columns) - {"silence"}):
        mine = means[model].to_numpy(dtype=float)
        shared = ~(np.isnan(mine) & np.isnan(silence))  # configs where either ran
        pairs = np.stack([mine[shared], silence[shared]], axis=1)
        if len(pairs) and all(np.isfinite(pair).all() and _equal(pair) for pair in pairs):
            alike.append(model)
    if not alike:
        return []
    why = (
        "censored: the output never followed a change within its segment, so the time is the segment length"
        if metric.startswith("reaction.")
        else "no different from playing nothing"
    )
    return [MetricFlag(metric, "like_silence", f"{', '.join(alike)} equal silence's value on every config ({why})")]


def metric_flags(summary: pd.DataFrame, metrics: Iterable[str] | None = None) -> dict[str, list[MetricFlag]]:
    """The flags of each metric of an aggregate table.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table with ``model``, ``config_id``, ``metric``, ``mean``, ``ci_low``, ``ci_high`` and
        ``direction``.
    metrics : iterable of str, optional
        Metrics to check (default all in ``summary``).

    Returns
    -------
    dict
        ``metric -> list of MetricFlag`` (empty list: nothing to flag), in :data:`FLAG_KINDS` order.
    """
    chosen = list(metrics) if metrics is not None else list(dict.fromkeys(summary["metric"]))
    flags: dict[str, list[MetricFlag]] = {}
    for metric in chosen:
        rows = summary[summary["metric"] == metric]
        means = rows["mean"].to_numpy(dtype=float)
        if not np.isfinite(means).any():
            flags[metric] = [MetricFlag(metric, "no_values", "NaN for every model and config: no figure", draw=False)]
            continue
        if _equal(means):
            value = float(means[np.isfinite(means)][0])
            flags[metric] = [
                MetricFlag(metric, "no_variation", f"{value:.4g} for every model and config: no figure", draw=False)
            ]
            continue
        found = []
        if same_for_every_model(rows):
            found.append(
                MetricFlag(
                    metric,
                    "same_for_every_model",
                    "identical for every model on each config: it measures the schedule (configs and delays), "
                    "not the model",
                )
            )
        else:
            found += _silence_checks(metric, rows)
            found += _like_silence(metric, rows)
        flags[metric] = found
    return flags
