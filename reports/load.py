"""Reading a sweep's run folder: the results table, the failures table and the run manifest.

A run folder (``accbench-out/`` by default) holds ``results.parquet`` (or ``results.csv``), one row per
(model, model_version, config, song, seed); ``failures.csv``; ``manifest.json``; and rendered audio under
``audio/<model>/<config_id>/<song>.flac`` (inputs under ``audio/inputs/<song>.flac``; older runs hold
``.wav`` files, read the same way). Reports read these
files only: nothing here imports the simulator or the sweep runner.

The schema, the readers and :class:`Run` live in :mod:`accbench.results`; this module re-exports them for
the reports and adds what only reports need.

- :func:`load_run`: the folder as a :class:`Run` (tables plus manifest).
- :func:`load_results`: one results table, checked.
- :func:`metric_columns`: the metric columns of a results table (registry names ``<group>.<metric>``).
- :func:`metric_spec`: direction, unit and range of a metric from the registry (a defined answer, with a
  warning, for a metric the registry does not know).
- :func:`select_metrics`: metrics matching shell-style patterns.
- :func:`model_labels`: one display label per (model, model_version).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

import pandas as pd

from accbench.results import (
    CONFIG_COLUMNS,
    FAILURE_COLUMNS,
    IDENTITY_COLUMNS,
    Run,
    metric_columns,
    metric_spec,
)
from accbench.results import read_results as load_results
from accbench.results import read_run as load_run

__all__ = [
    "CONFIG_COLUMNS",
    "FAILURE_COLUMNS",
    "IDENTITY_COLUMNS",
    "Run",
    "dataset_name",
    "load_results",
    "load_run",
    "metric_columns",
    "metric_spec",
    "model_labels",
    "select_metrics",
]


def select_metrics(metrics: Sequence[str], patterns: Iterable[str] | None) -> list[str]:
    """The metrics matching any of the shell-style ``patterns`` (``"beat.*"``); all when ``patterns`` is empty."""
    patterns = [p for p in (patterns or []) if p]
    if not patterns:
        return list(metrics)
    return [m for m in metrics if any(fnmatch.fnmatchcase(m, p) for p in patterns)]


def dataset_name(manifest: dict) -> str:
    """A short name of the manifest's dataset (its ``name`` or ``spec`` when it is a dict); ``""`` if none."""
    dataset = manifest.get("dataset")
    if isinstance(dataset, dict):
        return str(dataset.get("name") or dataset.get("spec") or "")
    return "" if dataset is None else str(dataset)


def model_labels(table: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Display label per (model, model_version): the model name, plus the version when a name has several."""
    pairs = table[["model", "model_version"]].drop_duplicates().itertuples(index=False)
    pairs = sorted((str(m), str(v)) for m, v in pairs)
    counts: dict[str, int] = {}
    for model, _ in pairs:
        counts[model] = counts.get(model, 0) + 1
    return {(m, v): (f"{m} {v}" if counts[m] > 1 and v else m) for m, v in pairs}
