"""Sweep configuration: which models, which songs, which grid, which metrics, where to write.

A sweep is read from a TOML file (or a dict with the same shape)::

    out = "accbench-out"          # output folder
    seeds = [0]
    metrics = ["beat", "harmony", "timing", "reaction"]
    results_format = "parquet"    # or "csv"
    embedder = "auto"             # for metrics = [..., "embedding"]: clap (needs a local model), spectral, auto
    embedder_options = { }        # e.g. { model = "/models/larger_clap_music", batch_size = 8 }

    [dataset]
    spec = "demo"                 # demo | manifest:PATH | folder:PATH | slakh:ROOT | musdb:ROOT | moisesdb:ROOT
    options = { songs = 4 }
    on_error = "skip"             # skip bad songs (reported) or "raise"

    [[models]]
    spec = "follower"             # built-in name, "pkg.module:factory", "torch:...", "subprocess:...", entry point
    name = "follower"             # optional label in results (default: the model's own name)
    options = { }                 # keyword arguments of the factory
    resources = { num_cpus = 1, num_gpus = 0 }

    [grid]
    future_visibility = [-10, 0, "100ms"]   # frames of each model's hop, or durations
    chunk_frames = [1, 5]
    latency = ["zero", "fixed:30ms"]
    input_latency_ms = [0]
    output_latency_ms = [0]
    on_miss = ["auto"]            # auto = truncate for t_f <= 0, ignore for t_f > 0 (offline study)

Unknown keys and invalid values raise :class:`~accbench.errors.ConfigError` naming the key path.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accbench.errors import ConfigError
from accbench.simulators.latency import parse_latency

__all__ = ["DEFAULT_SWEEP", "DatasetConfig", "GridConfig", "ModelEntry", "SweepConfig", "load_sweep_config"]

METRIC_GROUPS = ("beat", "harmony", "timing", "reaction", "embedding")
ON_MISS_CHOICES = ("auto", "truncate", "drop", "ignore")

#: The sweep ``accbench run`` runs without a config: the demo set, the built-in baselines and a small grid.
DEFAULT_SWEEP: dict[str, Any] = {
    "out": "accbench-out",
    "seeds": [0],
    "metrics": ["beat", "harmony", "timing", "reaction"],
    "dataset": {"spec": "demo", "options": {"songs": 4, "split": "test"}},
    "models": [
        {"spec": "silence"},
        {"spec": "oracle"},
        {"spec": "oracle-delayed"},
        {"spec": "mismatch"},
        {"spec": "follower"},
    ],
    "grid": {
        "future_visibility": [-25, -5, 0, 5],
        "chunk_frames": [1, 10],
        "latency": ["fixed:5ms"],
        "input_latency_ms": [0],
        "output_latency_ms": [0],
        "on_miss": ["auto"],
    },
}


def _fail(path: str, message: str, source: str | None) -> ConfigError:
    where = f"{source}: " if source else ""
    return ConfigError(f"{where}{path}: {message}")


def _check_keys(table: Mapping[str, Any], allowed: set[str], path: str, source: str | None) -> None:
    if not isinstance(table, Mapping):
        raise _fail(path or "(top level)", f"expected a table, got {type(table).__name__}", source)
    unknown = sorted(set(table) - allowed)
    if unknown:
        prefix = f"{path}." if path else ""
        raise _fail(f"{prefix}{unknown[0]}", f"unknown key (known: {', '.join(sorted(allowed))})", source)


def _list(value: Any, path: str, source: str | None) -> list[Any]:
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise _fail(path, "must not be empty", source)
    return values


@dataclass(frozen=True)
class ModelEntry:
    """One model of a sweep.

    Parameters
    ----------
    spec : str
        What :func:`accbench.load_model` loads.
    name : str or None
        Label in results; ``None`` uses the model's own ``info.name``.
    options : dict
        Factory keyword arguments.
    num_cpus, num_gpus : float
        What one task of this model needs (honoured by the Ray executor; the local pool runs one task per
        worker and ignores GPUs).
    """

    spec: str
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    num_cpus: float = 1.0
    num_gpus: float = 0.0


@dataclass(frozen=True)
class DatasetConfig:
    spec: str = "demo"
    options: dict[str, Any] = field(default_factory=dict)
    on_error: str = "skip"


@dataclass(frozen=True)
class GridConfig:
    """The grid; every combination of the lists is one config."""

    future_visibility: tuple[int | str, ...]
    chunk_frames: tuple[int | str, ...]
    latency: tuple[str, ...] = ("zero",)
    input_latency_ms: tuple[float, ...] = (0.0,)
    output_latency_ms: tuple[float, ...] = (0.0,)
    on_miss: tuple[str, ...] = ("auto",)

    @property
    def size(self) -> int:
        size = 1
        for values in (
            self.future_visibility,
            self.chunk_frames,
            self.latency,
            self.input_latency_ms,
            self.output_latency_ms,
            self.on_miss,
        ):
            size *= len(values)
        return size


@dataclass(frozen=True)
class SweepConfig:
    """A whole sweep (see the module docstring for the file format)."""

    models: tuple[ModelEntry, ...]
    grid: GridConfig
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    seeds: tuple[int, ...] = (0,)
    metrics: tuple[str, ...] = ("beat", "harmony", "timing", "reaction")
    out: str = "accbench-out"
    results_format: str = "parquet"
    write_audio: bool = True
    lenient: bool = False
    embedder: str = "auto"
    embedder_options: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> SweepConfig:
        """Validate and build a config; errors name the key path and the file."""
        top = {
            "out",
            "seeds",
            "metrics",
            "results_format",
            "write_audio",
            "lenient",
            "embedder",
            "embedder_options",
            "dataset",
            "models",
            "grid",
        }
        _check_keys(data, top, "", source)
        if "models" not in data:
            raise _fail("models", "missing: list at least one model ([[models]] spec = ...)", source)
        if "grid" not in data:
            raise _fail("grid", "missing: give future_visibility and chunk_frames", source)
        models = []
        for index, entry in enumerate(_list(data["models"], "models", source)):
            path = f"models[{index}]"
            if isinstance(entry, str):
                entry = {"spec": entry}
            _check_keys(entry, {"spec", "name", "options", "resources"}, path, source)
            if not isinstance(entry.get("spec"), str) or not entry["spec"].strip():
                raise _fail(f"{path}.spec", "required: a model name or 'package.module:factory'", source)
            options = entry.get("options", {})
            _check_keys(options, set(options) if isinstance(options, Mapping) else set(), f"{path}.options", source)
            resources = entry.get("resources", {})
            _check_keys(resources, {"num_cpus", "num_gpus"}, f"{path}.resources", source)
            numbers = {}
            for key in ("num_cpus", "num_gpus"):
                value = resources.get(key, 1.0 if key == "num_cpus" else 0.0)
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise _fail(f"{path}.resources.{key}", f"must be a number >= 0, got {value!r}", source)
                numbers[key] = float(value)
            name = entry.get("name")
            if name is not None and (not isinstance(name, str) or not name.strip()):
                raise _fail(f"{path}.name", f"must be a non-empty string, got {name!r}", source)
            models.append(ModelEntry(entry["spec"].strip(), name, dict(options), **numbers))
        labels = [model.name or model.spec for model in models]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise _fail("models", f"model {duplicates[0]!r} appears twice; give each a distinct name", source)

        grid_data = data["grid"]
        _check_keys(
            grid_data,
            {"future_visibility", "chunk_frames", "latency", "input_latency_ms", "output_latency_ms", "on_miss"},
            "grid",
            source,
        )
        for key in ("future_visibility", "chunk_frames"):
            if key not in grid_data:
                raise _fail(f"grid.{key}", "required", source)
        future = _list(grid_data["future_visibility"], "grid.future_visibility", source)
        chunks = _list(grid_data["chunk_frames"], "grid.chunk_frames", source)
        for key, values in (("future_visibility", future), ("chunk_frames", chunks)):
            for value in values:
                if isinstance(value, bool) or not isinstance(value, int | str):
                    raise _fail(
                        f"grid.{key}", f"values must be whole frames or durations like '80ms', got {value!r}", source
                    )
                if key == "chunk_frames" and isinstance(value, int) and value < 1:
                    raise _fail("grid.chunk_frames", f"must be >= 1, got {value}", source)
        latencies = [str(value) for value in _list(grid_data.get("latency", ["zero"]), "grid.latency", source)]
        for value in latencies:
            try:
                parse_latency(value)
            except ConfigError as error:
                raise _fail("grid.latency", str(error), source) from None
        delays = {}
        for key in ("input_latency_ms", "output_latency_ms"):
            values = _list(grid_data.get(key, [0.0]), f"grid.{key}", source)
            for value in values:
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise _fail(f"grid.{key}", f"values must be numbers >= 0, got {value!r}", source)
            delays[key] = tuple(float(value) for value in values)
        on_miss = _list(grid_data.get("on_miss", ["auto"]), "grid.on_miss", source)
        for value in on_miss:
            if value not in ON_MISS_CHOICES:
                raise _fail("grid.on_miss", f"must be one of {', '.join(ON_MISS_CHOICES)}, got {value!r}", source)
        grid = GridConfig(
            tuple(future),
            tuple(chunks),
            tuple(latencies),
            delays["input_latency_ms"],
            delays["output_latency_ms"],
            tuple(on_miss),
        )

        dataset_data = data.get("dataset", {})
        if isinstance(dataset_data, str):
            dataset_data = {"spec": dataset_data}
        _check_keys(dataset_data, {"spec", "options", "on_error"}, "dataset", source)
        dataset_options = dataset_data.get("options", {})
        _check_keys(
            dataset_options,
            set(dataset_options) if isinstance(dataset_options, Mapping) else set(),
            "dataset.options",
            source,
        )
        on_error = dataset_data.get("on_error", "skip")
        if on_error not in ("skip", "raise"):
            raise _fail("dataset.on_error", f"must be 'skip' or 'raise', got {on_error!r}", source)
        dataset = DatasetConfig(str(dataset_data.get("spec", "demo")), dict(dataset_options), on_error)

        seeds = _list(data.get("seeds", [0]), "seeds", source)
        for seed in seeds:
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise _fail("seeds", f"values must be integers >= 0, got {seed!r}", source)
        if len(set(seeds)) != len(seeds):
            raise _fail("seeds", "values must be distinct", source)
        metrics = _list(data.get("metrics", list(cls.metrics)), "metrics", source)
        for metric in metrics:
            if metric not in METRIC_GROUPS:
                raise _fail("metrics", f"unknown metric group {metric!r} (known: {', '.join(METRIC_GROUPS)})", source)
        results_format = data.get("results_format", "parquet")
        if results_format not in ("parquet", "csv"):
            raise _fail("results_format", f"must be 'parquet' or 'csv', got {results_format!r}", source)
        for key in ("write_audio", "lenient"):
            if not isinstance(data.get(key, False), bool):
                raise _fail(key, f"must be true or false, got {data[key]!r}", source)
        out = data.get("out", cls.out)
        if not isinstance(out, str) or not out:
            raise _fail("out", f"must be a folder path, got {out!r}", source)
        embedder = data.get("embedder", "auto")
        if embedder not in ("auto", "clap", "spectral"):
            raise _fail("embedder", f"must be 'auto', 'clap' or 'spectral', got {embedder!r}", source)
        embedder_options = data.get("embedder_options", {})
        _check_keys(
            embedder_options,
            set(embedder_options) if isinstance(embedder_options, Mapping) else set(),
            "embedder_options",
            source,
        )
        return cls(
            models=tuple(models),
            grid=grid,
            dataset=dataset,
            seeds=tuple(int(seed) for seed in seeds),
            metrics=tuple(dict.fromkeys(metrics)),
            out=out,
            results_format=results_format,
            write_audio=bool(data.get("write_audio", True)),
            lenient=bool(data.get("lenient", False)),
            embedder=embedder,
            embedder_options=dict(embedder_options),
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that :meth:`from_dict` reads back to an equal config (stored in the run manifest)."""
        return {
            "out": self.out,
            "seeds": list(self.seeds),
            "metrics": list(self.metrics),
            "results_format": self.results_format,
            "write_audio": self.write_audio,
            "lenient": self.lenient,
            "embedder": self.embedder,
            "embedder_options": copy.deepcopy(self.embedder_options),
            "dataset": {
                "spec": self.dataset.spec,
                "options": copy.deepcopy(self.dataset.options),
                "on_error": self.dataset.on_error,
            },
            "models": [
                {
                    "spec": m.spec,
                    **({"name": m.name} if m.name else {}),
                    "options": copy.deepcopy(m.options),
                    "resources": {"num_cpus": m.num_cpus, "num_gpus": m.num_gpus},
                }
                for m in self.models
            ],
            "grid": {
                "future_visibility": list(self.grid.future_visibility),
                "chunk_frames": list(self.grid.chunk_frames),
                "latency": list(self.grid.latency),
                "input_latency_ms": list(self.grid.input_latency_ms),
                "output_latency_ms": list(self.grid.output_latency_ms),
                "on_miss": list(self.grid.on_miss),
            },
        }


def load_sweep_config(source: str | Path | Mapping[str, Any] | SweepConfig | None = None) -> SweepConfig:
    """Read a sweep config from a TOML file, a dict, or return the default sweep for ``None``."""
    if isinstance(source, SweepConfig):
        return source
    if source is None:
        return SweepConfig.from_dict(DEFAULT_SWEEP, source="default sweep")
    if isinstance(source, Mapping):
        return SweepConfig.from_dict(source)
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"sweep config not found: {str(path)!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return SweepConfig.from_dict(data, source=str(path))
