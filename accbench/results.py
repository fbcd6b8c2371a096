"""The results table: its columns, its rows, reading and writing it, and the :class:`Run` that holds it.

This module is the one owner of the results schema (``docs/design.md``, "Results schema"); the sweep runner
builds rows with it and the reports read tables through it. A results table has one row per (model, model
version, config, song, seed), in this column order:

Identity (:data:`IDENTITY_COLUMNS`)
    ``model`` (str, the label in the sweep config), ``model_version`` (str, ``ModelInfo.version``),
    ``model_spec`` (str, the spec the model was loaded from), ``causal`` (bool), ``baseline`` (bool, a
    built-in baseline), ``song`` (str, the song id), ``seed`` (int).
Config (:data:`CONFIG_COLUMNS`)
    ``config_id`` (str, :func:`config_id`), ``future_visibility_frames`` (int, ``t_f`` in frames; negative:
    the model anticipates), ``future_visibility_ms`` (float, ms), ``chunk_frames`` (int, ``k``, frames per
    call), ``chunk_ms`` (float, ms), ``frame_rate_hz`` (float, Hz, ``sample_rate / hop``), ``sample_rate``
    (int, Hz), ``latency`` (str, the inference-time model in force), ``input_latency_ms`` and
    ``output_latency_ms`` (float, ms, ``L_in`` and ``L_out``), ``on_miss`` (str, the miss policy).
Run facts (:data:`RUN_COLUMNS`)
    ``feasible`` (bool, real-time feasible under the config's delays), ``inference_time_ms`` (float, ms, mean
    over calls), ``deterministic`` (bool, ``False`` when the inference times were measured), ``repairs`` (int, chunks
    repaired in lenient mode).
Score facts (:data:`SCORE_INFO_COLUMNS`)
    ``ref_source``, ``ref_source_beats``, ``ref_source_chords`` (str, where the reference beats and chords came
    from), ``skipped`` (str, ``"metric: reason; ..."``), ``notes`` (str, ``"; "``-separated),
    ``embedding.embedder`` (str, the embedder's label; only with the ``embedding`` group), ``beat.tracker`` and
    ``beat.tracker_sha256`` (str, the beat tracker and its checkpoint's SHA-256; with the ``beat`` group),
    ``cocola.checkpoint`` (str, the COCOLA checkpoint's label; with the ``cocola`` group).
Task (:data:`TASK_ID_COLUMN`)
    ``task_id`` (str, 20 hex digits: the hash of everything that determines the row).
Metrics (:func:`metric_columns`), after every other column, sorted by name
    ``<group>.<metric>`` (float, in the registry's unit; NaN when skipped), named as in
    :mod:`accbench.metrics.registry`, e.g. ``beat.f_measure``, ``timing.feasible_future_visibility_frames``
    (frames; NaN when slower than real time).

The failures table (``failures.csv``) has one row per failed task, :data:`FAILURE_COLUMNS`: ``model``,
``model_version``, ``config_id``, ``song``, ``seed`` (empty where the failure is not about one), ``error``
(str, ``"<ErrorClass>: <message>"``), ``call`` (int, the model call that failed, when known) and
``traceback`` (str, the last frames).

Older results files may hold :data:`LEGACY_COLUMNS` (``feasible_future_visibility_frames``, now the metric
``timing.feasible_future_visibility_frames``); readers drop them.

- Row builders: :func:`config_columns`, :func:`results_row`, :func:`failure_row`; tables of rows:
  :func:`results_frame`, :func:`failures_frame`.
- Files: :func:`write_table` (atomic), :func:`read_results`, :func:`read_failures`, :func:`read_run`.
- Metrics: :func:`metric_columns`, :func:`metric_spec` (direction, unit and range from the registry).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import math
import os
import traceback as _traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from accbench.atomic import atomic_path
from accbench.errors import DataError
from accbench.units import frames_to_ms

if TYPE_CHECKING:
    from accbench.metrics.registry import MetricSpec
    from accbench.protocol import ModelInfo
    from accbench.simulators import SimulationConfig, SimulationSummary

__all__ = [
    "CONFIG_COLUMNS",
    "FAILURE_COLUMNS",
    "GROUP_COLUMNS",
    "IDENTITY_COLUMNS",
    "LEGACY_COLUMNS",
    "REQUIRED_COLUMNS",
    "ROW_COLUMNS",
    "RUN_COLUMNS",
    "SCORE_INFO_COLUMNS",
    "TASK_ID_COLUMN",
    "Run",
    "config_columns",
    "config_id",
    "failure_row",
    "failures_frame",
    "metric_columns",
    "metric_spec",
    "read_failures",
    "read_results",
    "read_run",
    "results_frame",
    "results_row",
    "validate_results",
    "write_table",
]


def config_id(config: SimulationConfig) -> str:
    """A stable, readable, file-system-safe id of a simulation config, e.g. ``tf-10_k4_3f2a9c1b``."""
    payload = json.dumps(
        [
            config.future_visibility,
            config.chunk_frames,
            str(config.latency),
            config.input_latency_ms,
            config.output_latency_ms,
            config.on_miss,
            config.lenient,
        ],
        separators=(",", ":"),
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:8]
    return f"tf{config.future_visibility}_k{config.chunk_frames}_{digest}"


IDENTITY_COLUMNS = ("model", "model_version", "model_spec", "causal", "baseline", "song", "seed")
"""Which model, song and seed a row is about."""

_CONFIG_VALUES: dict[str, Callable[[SimulationConfig, ModelInfo], Any]] = {
    "config_id": lambda config, info: config_id(config),
    "future_visibility_frames": lambda config, info: config.future_visibility,
    "future_visibility_ms": lambda config, info: frames_to_ms(config.future_visibility, info.sample_rate, info.hop),
    "chunk_frames": lambda config, info: config.chunk_frames,
    "chunk_ms": lambda config, info: frames_to_ms(config.chunk_frames, info.sample_rate, info.hop),
    "frame_rate_hz": lambda config, info: info.sample_rate / info.hop,
    "sample_rate": lambda config, info: info.sample_rate,
    "latency": lambda config, info: str(config.latency_model(info)),
    "input_latency_ms": lambda config, info: config.input_latency_ms,
    "output_latency_ms": lambda config, info: config.output_latency_ms,
    "on_miss": lambda config, info: config.on_miss,
}
"""How each config column is computed from the simulation config and the model's info (a new one goes here)."""

CONFIG_COLUMNS = tuple(_CONFIG_VALUES)
"""The simulation config of a row (``config_id`` first)."""

RUN_COLUMNS = ("feasible", "inference_time_ms", "deterministic", "repairs")
"""Facts of the simulation run (from its summary)."""

SCORE_INFO_COLUMNS = (
    "ref_source",
    "ref_source_beats",
    "ref_source_chords",
    "skipped",
    "notes",
    "embedding.embedder",
    "beat.tracker",
    "beat.tracker_sha256",
    "cocola.checkpoint",
)
"""Non-numeric facts of the scoring (``Scores.to_dict`` writes them); ``embedding.embedder``, ``beat.tracker``,
``beat.tracker_sha256`` and ``cocola.checkpoint`` are labels, not metrics."""

TASK_ID_COLUMN = "task_id"

ROW_COLUMNS = (*IDENTITY_COLUMNS, *CONFIG_COLUMNS, *RUN_COLUMNS, *SCORE_INFO_COLUMNS, TASK_ID_COLUMN)
"""Every column that is not a metric, in table order (metrics follow, sorted by name)."""

FAILURE_COLUMNS = ("model", "model_version", "config_id", "song", "seed", "error", "call", "traceback")
"""Columns of the failures table."""

REQUIRED_COLUMNS = ("model", "config_id", "song")
"""What a results table must have to be read; other identity columns get defaults (see :func:`read_results`)."""

GROUP_COLUMNS = ("model", "model_version", "config_id")
"""One configuration of one model: what an aggregate over songs is about."""

LEGACY_COLUMNS = ("feasible_future_visibility_frames",)
"""Columns of older results files that readers drop (now ``timing.feasible_future_visibility_frames``)."""

_SORT_COLUMNS = ("model", "future_visibility_frames", "chunk_frames", "config_id", "song", "seed")
_TEXT_COLUMNS = ("model", "model_version", "song", "config_id")
_BOOL_COLUMNS = ("causal", "baseline", "feasible", "deterministic")
_DEFAULTS = {"model_version": "", "seed": 0, "baseline": False, "causal": True}


def config_columns(config: SimulationConfig, info: ModelInfo) -> dict[str, Any]:
    """The config columns of a results row (:data:`CONFIG_COLUMNS`), for ``config`` run on a model with ``info``."""
    return {name: value(config, info) for name, value in _CONFIG_VALUES.items()}


def results_row(
    *,
    model: str,
    model_spec: str,
    baseline: bool,
    song: str,
    seed: int,
    config: SimulationConfig,
    info: ModelInfo,
    summary: SimulationSummary,
    scores: Mapping[str, Any],
    task_id: str,
) -> dict[str, Any]:
    """One results row.

    Parameters
    ----------
    model : str
        The model's label in the sweep.
    model_spec : str
        The spec it was loaded from.
    baseline : bool
        Whether it is a built-in baseline.
    song : str
    seed : int
    config : SimulationConfig
    info : ModelInfo
        The loaded model's info (version, causality, sample rate, hop).
    summary : SimulationSummary
        The simulation's summary (feasibility, mean inference time in ms, determinism, repairs).
    scores : mapping
        ``Scores.to_dict()``: metric columns and score facts.
    task_id : str

    Returns
    -------
    row : dict
        Identity, config and run columns, then ``scores``, then ``task_id``.
    """
    row: dict[str, Any] = {
        "model": model,
        "model_version": info.version,
        "model_spec": model_spec,
        "causal": info.causal,
        "baseline": baseline,
        "song": song,
        "seed": seed,
        **config_columns(config, info),
        "feasible": summary.feasible,
        "inference_time_ms": summary.mean_inference_time_ms,
        "deterministic": summary.deterministic,
        "repairs": summary.repairs,
    }
    row.update(scores)
    row[TASK_ID_COLUMN] = task_id
    return row


def failure_row(
    error: BaseException | str,
    *,
    model: str = "",
    model_version: str = "",
    config_id: str = "",
    song: str = "",
    seed: int | None = None,
    traceback: bool = True,
) -> dict[str, Any]:
    """One failures row (:data:`FAILURE_COLUMNS`).

    Parameters
    ----------
    error : exception or str
        An exception (``error`` is ``"<Class>: <message>"``, ``call`` its ``call`` attribute) or the error text.
    model, model_version, config_id, song, seed
        What failed; empty where the failure is not about one (a song skipped by the dataset: no model).
    traceback : bool
        Keep the last three frames of an exception's traceback (at most 2000 characters).
    """
    text, call, frames = error, None, ""
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}"
        call = getattr(error, "call", None)
        if traceback:
            summary = _traceback.format_exception(type(error), error, error.__traceback__, limit=-3)
            frames = "".join(summary)[-2000:]
    return {
        "model": model,
        "model_version": model_version,
        "config_id": config_id,
        "song": song,
        "seed": seed,
        "error": text,
        "call": call,
        "traceback": frames,
    }


def results_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows as a results table: :data:`ROW_COLUMNS` present, then metric columns by name, sorted by model,
    ``t_f``, ``k``, config, song and seed; legacy columns dropped."""
    rows = list(rows)
    if not rows:
        return pd.DataFrame(columns=list(ROW_COLUMNS))
    frame = _drop_legacy(pd.DataFrame(rows))
    metrics = sorted(column for column in frame.columns if column not in ROW_COLUMNS)
    frame = frame[[c for c in ROW_COLUMNS if c in frame.columns] + metrics]
    frame = frame.sort_values([c for c in _SORT_COLUMNS if c in frame.columns])
    return frame.reset_index(drop=True)


def failures_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Failure rows as a failures table (columns :data:`FAILURE_COLUMNS`, also when empty)."""
    return pd.DataFrame(list(rows), columns=list(FAILURE_COLUMNS))


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a table atomically: Parquet when ``path`` ends in ``.parquet``, else CSV (no index)."""
    path = Path(path)
    with atomic_path(path) as temporary:
        if path.suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)


def validate_results(table: pd.DataFrame, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Check a results table and normalise it for reading.

    Legacy columns are dropped; missing optional identity columns are filled (``model_version`` ``""``,
    ``seed`` 0, ``baseline`` ``False``, ``causal`` ``True``); text columns are strings, flag columns booleans
    and metric columns floats.

    Raises
    ------
    DataError
        A required column (:data:`REQUIRED_COLUMNS`) is missing; names the file and the columns.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise DataError(
            f"results table lacks column(s) {', '.join(missing)} (a results table needs {', '.join(REQUIRED_COLUMNS)})",
            path=None if path is None else str(path),
        )
    table = _drop_legacy(table).copy()
    for column, value in _DEFAULTS.items():
        if column not in table.columns:
            table[column] = value
    for column in _TEXT_COLUMNS:
        table[column] = table[column].fillna("").astype(str)
    for column in _BOOL_COLUMNS:
        if column in table.columns:
            table[column] = table[column].map(_as_bool).astype(bool)
    for column in metric_columns(table):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table


def _drop_legacy(table: pd.DataFrame) -> pd.DataFrame:
    legacy = [column for column in LEGACY_COLUMNS if column in table.columns]
    return table.drop(columns=legacy) if legacy else table


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read a results table (Parquet or CSV) and check it (see :func:`validate_results`).

    Raises
    ------
    DataError
        An unreadable file or a missing required column; names the file.
    """
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, dtype=dict.fromkeys(_TEXT_COLUMNS, str))
    except (OSError, ValueError, ImportError) as error:
        raise DataError(f"cannot read results table: {error}", path=str(path)) from error
    return validate_results(table, path)


def read_failures(path: str | os.PathLike) -> pd.DataFrame:
    """Read a failures table (all columns as text; missing :data:`FAILURE_COLUMNS` are filled with ``""``)."""
    path = Path(path)
    try:
        failures = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read failures table: {error}", path=str(path)) from error
    for column in FAILURE_COLUMNS:
        if column not in failures.columns:
            failures[column] = ""
    return failures


@dataclass
class Run:
    """A sweep's outcome, or a run folder read back.

    Parameters
    ----------
    results : DataFrame
        One row per finished task (see the module docstring).
    failures : DataFrame
        One row per failed task, columns :data:`FAILURE_COLUMNS`; empty (with its columns) when none failed.
    out_dir : Path
        The run folder (also :attr:`path`).
    manifest : dict
        The run manifest; empty when ``manifest.json`` is missing.
    set_metrics : DataFrame
        Metrics over a whole set of songs per (model, config, seed), e.g. the embedding Frechet distance
        (``set_metrics.csv``); empty when the run has none.
    """

    results: pd.DataFrame
    failures: pd.DataFrame
    out_dir: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    set_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def path(self) -> Path:
        """The run folder (the same as :attr:`out_dir`)."""
        return self.out_dir

    @property
    def ok(self) -> bool:
        """``True`` when no task failed."""
        return self.failures.empty

    @property
    def metrics(self) -> list[str]:
        """The metric columns of the results table."""
        return metric_columns(self.results)


def read_run(path: str | os.PathLike) -> Run:
    """Read a run folder: ``results.parquet`` (or ``.csv``), ``failures.csv``, ``manifest.json``, ``set_metrics.csv``.

    Raises
    ------
    DataError
        No folder, no results table, or an unreadable table or manifest.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError("run folder does not exist", path=str(folder))
    for name in ("results.parquet", "results.csv"):
        if (folder / name).is_file():
            results = read_results(folder / name)
            break
    else:
        raise DataError("no results.parquet or results.csv in the run folder", path=str(folder))
    failures_path = folder / "failures.csv"
    failures = read_failures(failures_path) if failures_path.is_file() else failures_frame([])
    set_metrics = pd.DataFrame()
    set_path = folder / "set_metrics.csv"
    if set_path.is_file():
        try:
            set_metrics = pd.read_csv(set_path)
        except (OSError, ValueError, pd.errors.EmptyDataError) as error:
            raise DataError(f"cannot read set metrics: {error}", path=str(set_path)) from error
    return Run(results, failures, folder, _read_manifest(folder / "manifest.json"), set_metrics)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read manifest: {error}", path=str(path)) from error
    if not isinstance(manifest, dict):
        raise DataError("manifest is not a JSON object", path=str(path))
    return manifest


def metric_columns(table: pd.DataFrame) -> list[str]:
    """The metric columns of a results table, in table order.

    A metric column is named ``<group>.<metric>``, holds numbers and is none of :data:`ROW_COLUMNS`
    (``embedding.embedder``, a label, is not a metric).
    """
    return [
        c
        for c in table.columns
        if isinstance(c, str) and "." in c and c not in ROW_COLUMNS and pd.api.types.is_numeric_dtype(table[c])
    ]


def metric_spec(name: str, *, warn: bool = True) -> MetricSpec:
    """The registry spec (direction, unit, range) of metric ``name``.

    When the metric is not registered, its group module (``accbench.metrics.<group>``) is imported once,
    since metric modules register their metrics at import. A metric still unknown (a column of a results
    file written by another version or plugin) gets a defined answer, never one guessed from its name:
    higher is better, no unit, unbounded, and (when ``warn``) a warning says so.

    Parameters
    ----------
    name : str
        ``<group>.<metric>``.
    warn : bool
        Warn when the metric is not in the registry.

    Returns
    -------
    spec : MetricSpec
    """
    from accbench.metrics.registry import UNBOUNDED, MetricSpec
    from accbench.metrics.registry import get as get_spec

    with contextlib.suppress(KeyError):
        return get_spec(name)
    group = name.split(".", 1)[0]
    if group.isidentifier() and group != "registry":
        with contextlib.suppress(ImportError):
            importlib.import_module(f"accbench.metrics.{group}")
        with contextlib.suppress(KeyError):
            return get_spec(name)
    if warn:
        warnings.warn(
            f"metric {name!r} is not in the metric registry; reports treat it as higher is better, without a unit",
            stacklevel=2,
        )
    return MetricSpec(name=name, direction="higher", unit="", range=UNBOUNDED, description="(unregistered metric)")
