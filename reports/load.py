"""Reading a sweep's run folder: the results table, the failures table and the run manifest.

A run folder (``accbench-out/`` by default) holds ``results.parquet`` (or ``results.csv``), one row per
(model, model_version, config, song, seed); ``failures.csv``; ``manifest.json``; and rendered audio under
``audio/<model>/<config_id>/<song>.wav`` (inputs under ``audio/inputs/<song>.wav``). Reports read these
files only: nothing here imports the simulator or the sweep runner.

- :func:`load_run`: the folder as a :class:`Run` (tables plus manifest).
- :func:`metric_columns`: the metric columns of a results table (registry names ``<group>.<metric>``).
- :func:`metric_spec`: direction, unit and range of a metric from the registry, with a warned fallback.
- :func:`model_labels`: one display label per (model, model_version).
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import json
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from accbench.errors import DataError
from accbench.metrics.registry import UNBOUNDED, MetricSpec
from accbench.metrics.registry import get as get_spec

__all__ = [
    "CONFIG_COLUMNS",
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

IDENTITY_COLUMNS = ("model", "model_version", "causal", "baseline", "song", "seed")
"""Columns that say which model, song and seed a row is about."""

CONFIG_COLUMNS = (
    "config_id",
    "future_visibility_frames",
    "future_visibility_ms",
    "chunk_frames",
    "chunk_ms",
    "frame_rate_hz",
    "sample_rate",
    "latency",
    "input_latency_ms",
    "output_latency_ms",
    "on_miss",
    "feasible",
    "feasible_future_visibility_frames",
    "inference_time_ms",
    "ref_source",
)
"""Columns that describe the simulation config of a row (and the row's timing context)."""

FAILURE_COLUMNS = ("model", "model_version", "config_id", "song", "seed", "error", "call", "traceback")

_REQUIRED = ("model", "config_id", "song")

# Words that mark a metric as lower-is-better when the registry does not know it (fallback only).
_LOWER_WORDS = (
    "miss",
    "underrun",
    "error",
    "distance",
    "frechet",
    "offset",
    "lateness",
    "gap",
    "latency",
    "delay",
    "time",
    "rtf",
    "real_time_factor",
)


@dataclass
class Run:
    """A loaded run folder.

    Parameters
    ----------
    path : Path
        The run folder.
    results : DataFrame
        The results table (one row per model, model_version, config, song, seed).
    failures : DataFrame
        The failures table; empty (with its columns) when the run had none.
    manifest : dict
        The run manifest; empty when ``manifest.json`` is missing.
    set_metrics : DataFrame
        Metrics over a whole set of songs per (model, config, seed), e.g. the embedding Frechet distance
        (``set_metrics.csv``); empty when the run has none.
    """

    path: Path
    results: pd.DataFrame
    failures: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    set_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def metrics(self) -> list[str]:
        """The metric columns of the results table."""
        return metric_columns(self.results)


def load_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read a results table (Parquet or CSV) and check it has the columns reports need.

    Parameters
    ----------
    path : path-like
        ``results.parquet`` or ``results.csv``.

    Returns
    -------
    results : DataFrame
        Missing optional identity columns are filled: ``model_version`` ``""``, ``seed`` 0,
        ``baseline``/``causal`` ``False``/``True``.

    Raises
    ------
    DataError
        Unreadable file or a missing required column (``model``, ``config_id``, ``song``).
    """
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, dtype={"model": str, "model_version": str, "song": str, "config_id": str})
    except (OSError, ValueError, ImportError) as error:
        raise DataError(f"cannot read results table: {error}", path=str(path)) from error
    missing = [column for column in _REQUIRED if column not in table.columns]
    if missing:
        raise DataError(f"results table lacks column(s) {', '.join(missing)}", path=str(path))
    return _normalise(table)


def _normalise(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    defaults = {"model_version": "", "seed": 0, "baseline": False, "causal": True}
    for column, value in defaults.items():
        if column not in table.columns:
            table[column] = value
    for column in ("model", "model_version", "song", "config_id"):
        table[column] = table[column].fillna("").astype(str)
    for column in ("baseline", "causal", "feasible"):
        if column in table.columns:
            table[column] = table[column].map(_as_bool).astype(bool)
    for column in metric_columns(table):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def load_run(path: str | os.PathLike) -> Run:
    """Load a run folder.

    Parameters
    ----------
    path : path-like
        The folder a sweep wrote (holding ``results.parquet`` or ``results.csv``).

    Returns
    -------
    run : Run

    Raises
    ------
    DataError
        No results table, an unreadable table, or an unreadable manifest.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError("run folder does not exist", path=str(folder))
    for name in ("results.parquet", "results.csv"):
        if (folder / name).is_file():
            results = load_results(folder / name)
            break
    else:
        raise DataError("no results.parquet or results.csv in the run folder", path=str(folder))
    failures_path = folder / "failures.csv"
    if failures_path.is_file():
        try:
            failures = pd.read_csv(failures_path, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as error:
            raise DataError(f"cannot read failures table: {error}", path=str(failures_path)) from error
        for column in FAILURE_COLUMNS:
            if column not in failures.columns:
                failures[column] = ""
    else:
        failures = pd.DataFrame(columns=list(FAILURE_COLUMNS))
    manifest_path = folder / "manifest.json"
    manifest: dict = {}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataError(f"cannot read manifest: {error}", path=str(manifest_path)) from error
        if not isinstance(manifest, dict):
            raise DataError("manifest is not a JSON object", path=str(manifest_path))
    set_metrics = pd.DataFrame()
    set_path = folder / "set_metrics.csv"
    if set_path.is_file():
        try:
            set_metrics = pd.read_csv(set_path)
        except (OSError, ValueError, pd.errors.EmptyDataError) as error:
            raise DataError(f"cannot read set metrics: {error}", path=str(set_path)) from error
    return Run(path=folder, results=results, failures=failures, manifest=manifest, set_metrics=set_metrics)


def metric_columns(table: pd.DataFrame) -> list[str]:
    """The metric columns of a results table, in table order.

    A metric column is named ``<group>.<metric>``, holds numbers (``embedding.embedder``, a label, does not) and
    is not an identity or config column.
    """
    known = set(IDENTITY_COLUMNS) | set(CONFIG_COLUMNS)
    return [
        c
        for c in table.columns
        if isinstance(c, str) and "." in c and c not in known and pd.api.types.is_numeric_dtype(table[c])
    ]


def select_metrics(metrics: Sequence[str], patterns: Iterable[str] | None) -> list[str]:
    """The metrics matching any of the shell-style ``patterns`` (``"beat.*"``); all when ``patterns`` is empty."""
    patterns = [p for p in (patterns or []) if p]
    if not patterns:
        return list(metrics)
    return [m for m in metrics if any(fnmatch.fnmatchcase(m, p) for p in patterns)]


def metric_spec(name: str, *, warn: bool = True) -> MetricSpec:
    """The registry spec of metric ``name``.

    When the metric is not registered, its group module (``accbench.metrics.<group>``) is imported once,
    since metric modules register their metrics at import. If it is still unknown, a spec is made up
    from the name (lower is better for misses, underruns, errors, distances, offsets, gaps, latencies and
    times; higher otherwise; no unit; unbounded) and a warning says so.

    Parameters
    ----------
    name : str
        ``<group>.<metric>``.
    warn : bool
        Warn when falling back to the name rule.

    Returns
    -------
    spec : MetricSpec
    """
    try:
        return get_spec(name)
    except KeyError:
        pass
    group = name.split(".", 1)[0]
    if group.isidentifier() and group != "registry":
        with contextlib.suppress(ImportError):
            importlib.import_module(f"accbench.metrics.{group}")
        try:
            return get_spec(name)
        except KeyError:
            pass
    lowered = name.lower()
    direction = "lower" if any(word in lowered for word in _LOWER_WORDS) else "higher"
    if warn:
        warnings.warn(
            f"metric {name!r} is not in the metric registry; assuming {direction} is better from its name",
            stacklevel=2,
        )
    return MetricSpec(
        name=name,
        direction=direction,
        unit="",
        range=UNBOUNDED,
        description="(unregistered metric)",
    )


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
