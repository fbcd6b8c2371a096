"""Aggregates of a results table: per (model, config, metric) the mean over songs with a bootstrap interval.

Songs are the unit of resampling. Rows of the same song under several seeds are averaged first (NaN
ignored), so every song counts once; songs whose value is NaN (metric skipped) are left out and counted.
The interval is the seeded percentile bootstrap of the mean: the same table and seed always give the same
interval, and the bootstrap draw of a group does not depend on which other groups are in the table.

- :func:`bootstrap_mean`: mean and percentile interval of a 1-D sample.
- :func:`per_song`: one value per (model, model_version, config_id, song) and metric.
- :func:`aggregate`: the tidy aggregate table (``summary.csv``).
- :func:`config_table`: one row per (model, model_version, config_id) with the config columns.

The results columns come from :mod:`accbench.results`; a new config column there appears here too.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from accbench.reports.load import model_labels
from accbench.results import CONFIG_COLUMNS, GROUP_COLUMNS, metric_columns, metric_spec

__all__ = [
    "AGGREGATE_COLUMNS",
    "CONFIDENCE",
    "CONTEXT_COLUMNS",
    "GROUP_COLUMNS",
    "N_BOOT",
    "aggregate",
    "bootstrap_mean",
    "config_table",
    "group_seed",
    "per_song",
]

_KEY_COLUMNS = ("model", "model_version", "label", "baseline", "causal", "config_id")
CONTEXT_COLUMNS = (*(c for c in CONFIG_COLUMNS if c != "config_id"), "feasible", "inference_time_ms")
"""The config of an aggregate, beside it in the table: config columns, ``feasible`` (every row is) and
``inference_time_ms`` (mean over songs and seeds). Those the results lack are left out."""
_VALUE_COLUMNS = ("metric", "direction", "unit", "mean", "ci_low", "ci_high", "n_songs", "n_nan")
AGGREGATE_COLUMNS = (*_KEY_COLUMNS, *CONTEXT_COLUMNS, *_VALUE_COLUMNS)
"""Columns of the aggregate table, in order (context columns the run lacks are left out)."""


N_BOOT = 2000
"""Bootstrap resamples of every interval unless asked otherwise (aggregates, baselines, reports, the gate)."""
CONFIDENCE = 0.95
"""Coverage of every interval unless asked otherwise (the 2.5th and 97.5th percentiles)."""


def group_seed(seed: int, *key: object) -> int:
    """A bootstrap seed for one group, derived from the run seed and the group's key (stable across runs)."""
    text = "\x1f".join(str(part) for part in key)
    return (int(seed) * 1_000_003 + zlib.crc32(text.encode("utf-8"))) % (2**32)


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    *,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile-bootstrap interval.

    Parameters
    ----------
    values : array_like, shape (n,)
        One value per song. NaN values are dropped.
    n_boot : int
        Bootstrap resamples (default :data:`N_BOOT`).
    confidence : float
        Interval coverage in (0, 1) (default :data:`CONFIDENCE`).
    seed : int
        Seed of the resampling (``numpy.random.default_rng``).

    Returns
    -------
    mean, low, high : float
        NaN for an empty sample. One value gives ``(x, x, x)``: there is nothing to resample.

    Examples
    --------
    >>> bootstrap_mean([1.0, 1.0, 1.0])
    (1.0, 1.0, 1.0)
    """
    sample = np.asarray(values, dtype=float)
    sample = sample[np.isfinite(sample)]
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    # An empty sample has no mean; say so with NaN rather than a numpy warning.
    if sample.size == 0:
        return (float("nan"), float("nan"), float("nan"))
    mean = float(sample.mean())
    # A constant sample (including one song) has a degenerate interval.
    if sample.size == 1 or np.all(sample == sample[0]):
        return (mean, mean, mean)
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, sample.size, size=(int(n_boot), sample.size))
    means = sample[indices].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (mean, float(low), float(high))


def per_song(results: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (model, model_version, config_id, song): metric values averaged over seeds.

    NaN values are ignored in the average; a song whose every seed is NaN stays NaN.
    """
    metrics = list(metrics) if metrics is not None else metric_columns(results)
    keys = [*GROUP_COLUMNS, "song"]
    if results.empty:
        return pd.DataFrame(columns=[*keys, *metrics])
    table = results[[*keys, *metrics]].copy()
    return table.groupby(keys, sort=True, dropna=False)[metrics].mean().reset_index()


def config_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, model_version, config_id): config columns, label, baseline and causal flags.

    ``inference_time_ms`` is the mean over songs and seeds; ``feasible`` is true only if every row is.
    """
    present = [c for c in CONTEXT_COLUMNS if c in results.columns]
    keys = list(GROUP_COLUMNS)
    if results.empty:
        return pd.DataFrame(columns=[*keys, "label", "baseline", "causal", *present])
    grouped = results.groupby(keys, sort=True, dropna=False)
    table = grouped[[c for c in present if c not in ("inference_time_ms", "feasible")]].first()
    if "inference_time_ms" in present:
        table["inference_time_ms"] = grouped["inference_time_ms"].mean()
    if "feasible" in present:
        table["feasible"] = grouped["feasible"].all()
    table["baseline"] = grouped["baseline"].any()
    table["causal"] = grouped["causal"].all()
    table = table.reset_index()
    labels = model_labels(results)
    table["label"] = [labels[(m, v)] for m, v in zip(table["model"], table["model_version"], strict=True)]
    return table


def aggregate(
    results: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    *,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean and bootstrap interval over songs per (model, model_version, config_id, metric).

    Parameters
    ----------
    results : DataFrame
        A results table (see :mod:`accbench.results`).
    metrics : sequence of str, optional
        Metric columns to aggregate; default all.
    n_boot : int
        Bootstrap resamples per group (default :data:`N_BOOT`).
    confidence : float
        Interval coverage (default :data:`CONFIDENCE`).
    seed : int
        Run-level bootstrap seed; each group's draw is seeded from it and the group key.

    Returns
    -------
    table : DataFrame
        Columns :data:`AGGREGATE_COLUMNS` (config columns the results lack are dropped): ``mean``,
        ``ci_low``, ``ci_high`` in the metric's unit, ``n_songs`` songs with a value, ``n_nan`` songs
        without one, and the metric's ``direction`` and ``unit`` from the registry.
    """
    metrics = list(metrics) if metrics is not None else metric_columns(results)
    songs = per_song(results, metrics)
    configs = config_table(results).set_index(list(GROUP_COLUMNS))
    specs = {m: metric_spec(m) for m in metrics}
    rows = []
    for key, group in songs.groupby(list(GROUP_COLUMNS), sort=True, dropna=False):
        context = configs.loc[key].to_dict()
        for metric in metrics:
            values = group[metric].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            mean, low, high = bootstrap_mean(
                finite, n_boot=n_boot, confidence=confidence, seed=group_seed(seed, *key, metric)
            )
            rows.append(
                {
                    "model": key[0],
                    "model_version": key[1],
                    "config_id": key[2],
                    **context,
                    "metric": metric,
                    "direction": specs[metric].direction,
                    "unit": specs[metric].unit,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n_songs": int(finite.size),
                    "n_nan": int(values.size - finite.size),
                }
            )
    columns = [c for c in AGGREGATE_COLUMNS if c in configs.columns or c not in CONTEXT_COLUMNS]
    return pd.DataFrame(rows, columns=columns)
