"""Baseline files: what the CI gate needs of a run (its per-song metric values, configs and manifest), and no more.

A baseline file is compact JSON (NaN written as ``null``), format version 2::

    {"format": "accbench-baseline", "format_version": 2, "created": "...", "source": "accbench-out",
     "manifest": {...the run manifest: song hashes, metric versions, accbench version...},
     "bootstrap": {"n_boot": 2000, "confidence": 0.95, "seed": 0},
     "metrics": {"beat.f_measure": {"direction": "higher", "unit": "", "version": "1"}, ...},
     "entries": [{"model": "...", "model_version": "...", "baseline": false, "config_id": "...",
                  "config": {"future_visibility_ms": ..., "chunk_ms": ..., ...},
                  "songs": ["song-a", "song-b"],
                  "values": {"beat.f_measure": [0.81, null], ...}}, ...]}

One entry per (model, model_version, config_id), its ``values`` per metric aligned with its ``songs``
(averaged over seeds, full float precision: a rerun must compare equal). Means are recomputed from the values
when the file is read; intervals are the gate's own paired bootstrap, so none is stored. Version-1 files (one
entry per metric, with stored means and intervals) still load.

- :func:`make_baseline` / :func:`save_baseline`: from a loaded run to a file.
- :func:`load_baseline`: a file as a :class:`Baseline`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from accbench.atomic import atomic_write_text
from accbench.errors import DataError
from accbench.reports.aggregate import CONFIDENCE, CONTEXT_COLUMNS, N_BOOT, per_song
from accbench.reports.load import metric_spec, select_metrics
from accbench.results import GROUP_COLUMNS, Run, metric_columns

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "NOT_A_BASELINE",
    "Baseline",
    "load_baseline",
    "make_baseline",
    "metric_version",
    "save_baseline",
]

FORMAT = "accbench-baseline"
FORMAT_VERSION = 2

_CONFIG_KEYS = tuple(c for c in CONTEXT_COLUMNS if c != "inference_time_ms")
"""The config columns an entry keeps (its ``config``); the inference time is a measurement, not config."""


@dataclass
class Baseline:
    """A baseline loaded from disk.

    Parameters
    ----------
    manifest : dict
        The manifest of the run the baseline was saved from.
    values : DataFrame
        Long table ``model, model_version, config_id, metric, song, value`` (value may be NaN).
    entries : DataFrame
        One row per (model, model_version, config_id, metric): ``baseline`` flag, ``direction``, ``unit``,
        ``metric_version``, ``mean``, ``ci_low``, ``ci_high``, ``n_songs`` and ``config`` (a dict).
    path : Path or None
        Where it was read from.
    """

    manifest: dict
    values: pd.DataFrame
    entries: pd.DataFrame
    path: Path | None = None
    bootstrap: dict = field(default_factory=dict)


def metric_version(manifest: dict, metric: str) -> str | None:
    """The version of ``metric`` recorded in a manifest's ``metric_versions``.

    By the metric's name, else its group's name, else the versions of the analyzers its group reads
    (:attr:`~accbench.metrics.registry.MetricGroup.analyzers`, e.g. ``"beats=4 onset_envelope=3 ..."``: a run
    records :data:`~accbench.metrics.analysis.ANALYZER_VERSIONS` there, so a changed beat tracker changes the
    version of every beat metric); ``None`` when none of them is recorded.
    """
    from accbench.metrics.scoring import GROUP_BY_NAME

    versions = manifest.get("metric_versions") or {}
    if metric in versions:
        return str(versions[metric])
    group = metric.split(".", 1)[0]
    if group in versions:
        return str(versions[group])
    analyzers = GROUP_BY_NAME[group].analyzers if group in GROUP_BY_NAME else ()
    recorded = [f"{name}={versions[name]}" for name in analyzers if name in versions]
    return " ".join(recorded) if recorded else None


def _clean(value: object) -> object:
    """JSON-safe scalar: NaN/inf become None, numpy scalars become Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def make_baseline(
    run: Run,
    *,
    metrics: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> dict:
    """The baseline document (a JSON-ready dict, format version 2) of a loaded run.

    Parameters
    ----------
    run : Run
    metrics : iterable of str, optional
        Shell-style patterns of metrics to keep (default all).
    models : iterable of str, optional
        Shell-style patterns of model names to keep (default all).
    n_boot, confidence, seed
        The bootstrap a gate against this baseline uses unless told otherwise (recorded, not applied here).
    """
    results = run.results
    if models:
        keep = select_metrics(sorted(results["model"].unique()), models)
        results = results[results["model"].isin(keep)]
    chosen = select_metrics(metric_columns(results), metrics)
    if results.empty or not chosen:
        raise DataError("nothing to save: no rows or no metrics match", path=str(run.path))
    songs = per_song(results, chosen)
    configs = results.drop_duplicates(list(GROUP_COLUMNS)).set_index(list(GROUP_COLUMNS))
    entries = []
    for key, group in songs.groupby(list(GROUP_COLUMNS), sort=True):
        row = configs.loc[key]
        entries.append(
            {
                "model": key[0],
                "model_version": key[1],
                "baseline": bool(row["baseline"]) if "baseline" in row.index else False,
                "config_id": key[2],
                "config": {k: _clean(row[k]) for k in _CONFIG_KEYS if k in row.index},
                "songs": [str(song) for song in group["song"]],
                "values": {metric: [_clean(float(v)) for v in group[metric]] for metric in chosen},
            }
        )
    specs = {metric: metric_spec(metric, warn=False) for metric in chosen}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "source": str(run.path),
        "manifest": run.manifest,
        "bootstrap": {"n_boot": int(n_boot), "confidence": float(confidence), "seed": int(seed)},
        "metrics": {
            metric: {"direction": spec.direction, "unit": spec.unit, "version": metric_version(run.manifest, metric)}
            for metric, spec in specs.items()
        },
        "entries": entries,
    }


def save_baseline(run: Run, path: str | os.PathLike, **kwargs: object) -> Path:
    """Write the baseline of ``run`` to ``path`` (atomically); keyword arguments go to :func:`make_baseline`."""
    document = make_baseline(run, **kwargs)  # type: ignore[arg-type]
    path = Path(path)
    text = json.dumps(document, separators=(",", ":"), allow_nan=False, default=_clean)
    atomic_write_text(path, text.replace('{"model":', '\n{"model":') + "\n")  # one line per entry
    return path


NOT_A_BASELINE = "not an accbench baseline file (expected JSON written by 'accbench baseline save')"
"""The reason of the one-line error for a file that is not a baseline (binary, not JSON, or another shape)."""


_JSON_KINDS = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


def _json_kind(value: object) -> str:
    """How JSON names the kind of a decoded ``value`` (``"an array"``, ``"null"``, ...)."""
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


def _not_a_baseline(path: Path, detail: str) -> DataError:
    """The one-line :class:`DataError` naming ``path``: not a baseline file, with what was wrong (``detail``)."""
    return DataError(f"{NOT_A_BASELINE}: {detail}", path=str(path))


def _read_document(path: Path) -> dict:
    """The JSON object in ``path``, checked to be an accbench baseline of a format version this code reads."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read baseline: {error.strerror or error}", path=str(path)) from error
    if not data.strip():
        raise _not_a_baseline(path, "the file is empty")
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _not_a_baseline(path, "binary data, not UTF-8 text") from None
    except ValueError as error:
        raise _not_a_baseline(path, f"invalid JSON ({error})") from None
    if not isinstance(document, dict):
        raise _not_a_baseline(path, f"the top level is {_json_kind(document)}, not an object")
    if document.get("format") != FORMAT:
        raise _not_a_baseline(path, f"its 'format' field is {document.get('format')!r}, not {FORMAT!r}")
    version = document.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _not_a_baseline(path, f"'format_version' is {version!r}, not an integer")
    if version > FORMAT_VERSION:
        raise DataError(
            f"baseline format version {version} is newer than this accbench understands ({FORMAT_VERSION})",
            path=str(path),
        )
    for key, kind in (("entries", list), ("manifest", dict), ("bootstrap", dict), ("metrics", dict)):
        if document.get(key) is not None and not isinstance(document[key], kind):
            raise _not_a_baseline(path, f"{key!r} is {_json_kind(document[key])}, not {_JSON_KINDS[kind]}")
    return document


def _entry_rows(entry: object) -> tuple[dict, list[tuple]]:
    """One version-1 entry as its ``entries`` row and its ``values`` rows (raises on a bad shape)."""
    if not isinstance(entry, dict):
        raise TypeError(f"it is {_json_kind(entry)}, not an object")
    key = (str(entry["model"]), str(entry.get("model_version", "")), str(entry["config_id"]))
    metric = str(entry["metric"])
    row = {
        "model": key[0],
        "model_version": key[1],
        "config_id": key[2],
        "metric": metric,
        "baseline": bool(entry.get("baseline", False)),
        "direction": entry.get("direction"),
        "unit": entry.get("unit", ""),
        "metric_version": entry.get("metric_version"),
        "mean": _float(entry.get("mean")),
        "ci_low": _float(entry.get("ci_low")),
        "ci_high": _float(entry.get("ci_high")),
        "n_songs": int(entry.get("n_songs", 0)),
        "config": dict(entry.get("config") or {}),
    }
    values = entry.get("values") or {}
    if not isinstance(values, dict):
        raise TypeError(f"'values' is {_json_kind(values)}, not an object of song: value")
    return row, [(*key, metric, str(song), _float(value)) for song, value in values.items()]


def _entry_rows_v2(entry: object, metrics: dict) -> tuple[list[dict], list[tuple]]:
    """One version-2 entry (a model and config, all metrics) as ``entries`` rows and ``values`` rows."""
    if not isinstance(entry, dict):
        raise TypeError(f"it is {_json_kind(entry)}, not an object")
    key = (str(entry["model"]), str(entry.get("model_version", "")), str(entry["config_id"]))
    songs = [str(song) for song in entry["songs"]]
    values = entry.get("values") or {}
    if not isinstance(values, dict):
        raise TypeError(f"'values' is {_json_kind(values)}, not an object of metric: [values per song]")
    rows, value_rows = [], []
    for metric, per_song_values in values.items():
        if not isinstance(per_song_values, list) or len(per_song_values) != len(songs):
            raise ValueError(f"'values' of {metric!r} is not a list of one value per song ({len(songs)})")
        numbers = np.array([_float(v) for v in per_song_values], dtype=float)
        finite = numbers[np.isfinite(numbers)]
        meta = metrics.get(metric) or {}
        rows.append(
            {
                "model": key[0],
                "model_version": key[1],
                "config_id": key[2],
                "metric": str(metric),
                "baseline": bool(entry.get("baseline", False)),
                "direction": meta.get("direction"),
                "unit": meta.get("unit", ""),
                "metric_version": meta.get("version"),
                "mean": float(finite.mean()) if finite.size else float("nan"),
                "ci_low": float("nan"),
                "ci_high": float("nan"),
                "n_songs": int(finite.size),
                "config": dict(entry.get("config") or {}),
            }
        )
        value_rows += [(*key, str(metric), song, float(v)) for song, v in zip(songs, numbers, strict=True)]
    return rows, value_rows


def load_baseline(path: str | os.PathLike) -> Baseline:
    """Read a baseline file.

    Raises
    ------
    DataError
        One line naming the file: missing or unreadable, not an accbench baseline (binary, not JSON, JSON of
        another shape: :data:`NOT_A_BASELINE`, with what was wrong), or a newer format version.
    """
    path = Path(path)
    document = _read_document(path)
    value_rows = []
    entry_rows = []
    metrics = document.get("metrics") or {}
    version = document.get("format_version", 1)
    for number, entry in enumerate(document.get("entries") or []):
        try:
            if version >= 2:
                rows, values = _entry_rows_v2(entry, metrics)
            else:
                row, values = _entry_rows(entry)
                rows = [row]
        except KeyError as error:
            raise _not_a_baseline(path, f"entry {number} lacks the key {error}") from None
        except (TypeError, ValueError) as error:
            raise _not_a_baseline(path, f"entry {number} is malformed: {error}") from None
        entry_rows.extend(rows)
        value_rows.extend(values)
    values = pd.DataFrame(value_rows, columns=[*GROUP_COLUMNS, "metric", "song", "value"])
    entries = pd.DataFrame(entry_rows, columns=[*GROUP_COLUMNS, "metric", *_ENTRY_COLUMNS])
    return Baseline(
        manifest=dict(document.get("manifest") or {}),
        values=values,
        entries=entries,
        path=path,
        bootstrap=dict(document.get("bootstrap") or {}),
    )


_ENTRY_COLUMNS = (
    "baseline",
    "direction",
    "unit",
    "metric_version",
    "mean",
    "ci_low",
    "ci_high",
    "n_songs",
    "config",
)
"""The columns of :attr:`Baseline.entries` after the group columns and ``metric``."""


def _float(value: object) -> float:
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]
