"""Sweep configuration: which models, which songs, which grid, which metrics, where to write.

A sweep is read from a TOML file (or a dict with the same shape)::

    out = "accbench-out"          # output folder
    seeds = [0]
    metrics = ["beat", "harmony", "timing", "reaction"]
    results_format = "parquet"    # or "csv"
    write_audio = "examples"      # output audio (16-bit FLAC, clipped to [-1, 1]): none | examples | all
    lenient = false               # repair bad chunks (recorded) instead of failing the task
    embedder = "auto"             # for metrics = [..., "embedding"]: clap (needs a local model), spectral, auto
    embedder_options = { }        # e.g. { model = "/models/larger_clap_music", batch_size = 8 }
    beat_tracker = "default"      # default | madmom | beat-this (the seed paper's tracker; extra beat-this)
    beat_this_checkpoint = "final0"  # a .ckpt file, or a name in $TORCH_HOME/hub/checkpoints (never downloaded)
    cocola_checkpoint = "cocola.ckpt"   # for metrics = [..., "cocola"] (default $ACCBENCH_COCOLA_CHECKPOINT)
    vggish_weights = "vggish-10086976.pth"  # VGGish FAD per (model, config) after the sweep
    vggish_fad = true             # compute that FAD (default: true when vggish_weights is given)
    paper_table = true            # write paper_table.md/.csv, the seed paper's results table
                                  # (checkpoint and weights paths are relative to this file)

    [dataset]
    spec = "demo"                 # demo | demo-band | manifest:PATH | folder:PATH | slakh:ROOT | musdb:ROOT
                                  # | moisesdb:ROOT
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

Unknown keys and invalid values raise :class:`~accbench.errors.ConfigError` naming the key path (an unknown
key with the closest known spelling: ``gird: unknown key (did you mean 'grid'?)``).

The schema is declared once, on the dataclasses below: every key of the file is a dataclass field whose
metadata (made by :func:`rule`) holds a :class:`Rule`: the key's check, whether it is a list, a nested table or
sits in a sub-table, the message when a required key is missing, and its help; the field's default is the key's
default. One generic reader, :func:`read_table`, walks a mapping against a schema dataclass; one generic writer,
:func:`to_plain`, writes a config back; :func:`describe_schema` lists every key path with its help.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from accbench.errors import ConfigError
from accbench.simulators.latency import parse_latency
from accbench.suggest import did_you_mean

__all__ = [
    "DEFAULT_SWEEP",
    "DatasetConfig",
    "GridConfig",
    "Invalid",
    "ModelEntry",
    "Rule",
    "SweepConfig",
    "describe_schema",
    "load_sweep_config",
    "read_table",
    "rule",
    "to_plain",
    "write_audio_mode",
]

METRIC_GROUPS = ("beat", "harmony", "timing", "reaction", "embedding", "cocola")
BEAT_TRACKERS = ("default", "madmom", "beat-this")  # accbench.metrics.analysis.BEAT_TRACKERS (a test checks)
ON_MISS_CHOICES = ("auto", "truncate", "drop", "ignore")

#: The sweep ``accbench run`` runs without a config: the demo set, the built-in baselines and a grid that
#: shows both trade-offs. Frames are 20 ms (50 Hz); with a 5 ms inference time the live bound is
#: t_f <= -1 frame, so t_f in {-25, -5, -1} runs live and meets its deadlines, t_f = 0 runs live past the bound
#: (misses every deadline) and t_f = +5 is scored offline (``on_miss = "auto"`` -> ``ignore``); k in
#: {1, 5, 25} frames is 20, 100 and 500 ms.
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
        "future_visibility": [-25, -5, -1, 0, 5],
        "chunk_frames": [1, 5, 25],
        "latency": ["fixed:5ms"],
        "input_latency_ms": [0],
        "output_latency_ms": [0],
        "on_miss": ["auto"],
    },
}

Schema = TypeVar("Schema")


# ---------------------------------------------------------------------------------------------- the schema
class Invalid(Exception):
    """A value broke a rule: ``message`` says how; the reader adds the key ``path``."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Rule:
    """How one key of a config file is read; kept in the metadata (key ``"rule"``) of a schema field.

    Attributes
    ----------
    help : str
        What the key means (with its unit).
    check : callable or None
        ``value -> stored value``; raises :class:`Invalid` with the message (for ``many``: applied to each
        element). ``None`` keeps the value as it is.
    many : bool
        The value is a non-empty list (a single value counts as a list of one), stored as a tuple.
    table : type or None
        A schema dataclass the value (each element, for ``many``) is a table of.
    shorthand : str or None
        With ``table``: a plain string stands for ``{shorthand: string}``.
    required : str or None
        The message when the key is missing; ``None``: optional, the field's default applies.
    section : str or None
        The key sits in this sub-table of the table (``resources.num_cpus``).
    finish : callable or None
        With ``many``: ``tuple -> tuple`` over all elements (distinctness, de-duplication); raises
        :class:`Invalid`.
    """

    help: str
    check: Callable[[Any], Any] | None = None
    many: bool = False
    table: type | None = None
    shorthand: str | None = None
    required: str | None = None
    section: str | None = None
    finish: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None


def rule(help: str, **options: Any) -> dict[str, Rule]:
    """Field metadata declaring a config key: ``field(default=..., metadata=rule("what it means", check=...))``."""
    return {"rule": Rule(help, **options)}


@functools.cache
def _rules(schema: type) -> tuple[tuple[str, Rule], ...]:
    """The ``(field name, rule)`` pairs of a schema dataclass, in field order (fields without a rule skipped)."""
    return tuple((f.name, f.metadata["rule"]) for f in dataclasses.fields(schema) if "rule" in f.metadata)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _table(value: Any, path: str | None = None, allowed: Sequence[str] | None = None) -> Mapping[str, Any]:
    """``value`` as a table whose keys are in ``allowed`` (``None``: any key); ``path`` ``""`` is the top level."""
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a table, got {type(value).__name__}", "(top level)" if path == "" else path)
    unknown = sorted(set(value) - set(allowed)) if allowed is not None else []
    if unknown:
        known = sorted(allowed or ())
        hint = did_you_mean(unknown[0], known)
        raise Invalid(f"unknown key{hint} (known: {', '.join(known)})", _join(path or "", unknown[0]))
    return value


def read_table(schema: type[Schema], data: Any, path: str = "") -> Schema:
    """Build a ``schema`` dataclass from a mapping, checking every key against its :class:`Rule`.

    Unknown keys are refused first, then missing required keys, then each value in field order.

    Raises
    ------
    Invalid
        With the key path (``models[1].resources.num_cpus``) and the message.
    """
    rules = _rules(schema)
    sections: dict[str, list[str]] = {}
    for name, rule in rules:
        if rule.section:
            sections.setdefault(rule.section, []).append(name)
    top = [name for name, rule in rules if not rule.section]
    table = _table(data, path, top + list(sections))
    for name, rule in rules:
        if rule.required and not rule.section and name not in table:
            raise Invalid(rule.required, _join(path, name))
    values: dict[str, Any] = {}
    for name, rule in rules:
        where = table
        if rule.section:
            section_path = _join(path, rule.section)
            where = _table(table.get(rule.section, {}), section_path, sections[rule.section])
            key_path = _join(section_path, name)
        else:
            key_path = _join(path, name)
        if name in where:
            values[name] = _read_value(rule, where[name], key_path)
    return schema(**values)


def _read_value(rule: Rule, value: Any, path: str) -> Any:
    if not rule.many:
        return _read_item(rule, value, path)
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise Invalid("must not be empty", path)
    read = tuple(_read_item(rule, item, f"{path}[{i}]" if rule.table else path) for i, item in enumerate(items))
    return _at(path, rule.finish, read) if rule.finish else read


def _read_item(rule: Rule, value: Any, path: str) -> Any:
    if rule.table is not None:
        if rule.shorthand and isinstance(value, str):
            value = {rule.shorthand: value}
        return read_table(rule.table, value, path)
    return _at(path, rule.check, value) if rule.check else value


def _at(path: str, function: Callable[[Any], Any], value: Any) -> Any:
    """``function(value)``, an :class:`Invalid` it raises without a path getting ``path``."""
    try:
        return function(value)
    except Invalid as error:
        error.path = error.path or path
        raise


def to_plain(config: Any) -> dict[str, Any]:
    """A schema dataclass as the plain dict :func:`read_table` reads back to an equal one (``None`` left out)."""
    plain: dict[str, Any] = {}
    for name, rule in _rules(type(config)):
        value = getattr(config, name)
        if value is not None:
            (plain.setdefault(rule.section, {}) if rule.section else plain)[name] = _plain_value(value)
    return plain


def _plain_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_plain(value)
    if isinstance(value, tuple | list):
        return [_plain_value(item) for item in value]
    return copy.deepcopy(value)


def describe_schema(schema: type, path: str = "") -> list[tuple[str, str]]:
    """``(key path, help)`` of every key of a schema, nested tables included (``models[].spec``)."""
    lines = []
    for name, rule in _rules(schema):
        key = _join(_join(path, rule.section) if rule.section else path, name)
        lines.append((key, rule.help))
        if rule.table is not None:
            lines += describe_schema(rule.table, f"{key}[]" if rule.many else key)
    return lines


# ------------------------------------------------------------------------------------------------ checks
def _choice(choices: Sequence[str], template: str = "must be {quoted}, got {value!r}") -> Callable[[Any], str]:
    """A check accepting one of ``choices``; ``template`` may use ``{quoted}``, ``{plain}`` and ``{value}``."""
    quoted = " or ".join([", ".join(repr(c) for c in choices[:-1]), repr(choices[-1])] if len(choices) > 1 else [])
    plain = ", ".join(choices)

    def check(value: Any) -> str:
        if value not in choices:
            raise Invalid(template.format(quoted=quoted or repr(choices[0]), plain=plain, value=value))
        return value

    return check


def _number(template: str) -> Callable[[Any], float]:
    """A check accepting a number >= 0 (stored as float); ``template`` formats the refused ``value``."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise Invalid(template.format(value=value))
        return float(value)

    return check


def _free_table(value: Any) -> dict[str, Any]:
    """Any table (options passed on as keyword arguments), copied."""
    return dict(_table(value))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {value!r}")
    return value


#: Songs (the first by sorted id) whose audio ``write_audio = "examples"`` keeps, per model and config.
EXAMPLE_SONGS = 2

_AUDIO_MODES = ("none", "examples", "all")


def write_audio_mode(value: Any) -> str:
    """``write_audio``: one of :data:`_AUDIO_MODES`; the booleans of old configs map to ``"all"``/``"none"``."""
    if isinstance(value, bool):
        return "all" if value else "none"
    if value not in _AUDIO_MODES:
        hint = did_you_mean(value, _AUDIO_MODES) if isinstance(value, str) else ""
        raise Invalid(f"must be 'none', 'examples' or 'all' (or true/false), got {value!r}{hint}")
    return value


def _folder(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"must be a folder path, got {value!r}")
    return value


def _spec(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(MODEL_SPEC_REQUIRED)
    return value.strip()


def _label(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise Invalid(f"must be a non-empty string, got {value!r}")
    return value


def _frames_or_duration(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid(f"values must be whole frames or durations like '80ms', got {value!r}")
    return value


def _chunk(value: Any) -> int | str:
    value = _frames_or_duration(value)
    if isinstance(value, int) and value < 1:
        raise Invalid(f"must be >= 1, got {value}")
    return value


def _latency(value: Any) -> str:
    """A latency spec (:func:`accbench.simulators.latency.parse_latency` parses its durations), kept as text."""
    try:
        parse_latency(str(value))
    except ConfigError as error:
        raise Invalid(str(error)) from None
    return str(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(f"values must be integers >= 0, got {value!r}")
    return int(value)


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(set(values)) != len(values):
        raise Invalid("values must be distinct")
    return values


def _distinct_labels(models: tuple[ModelEntry, ...]) -> tuple[ModelEntry, ...]:
    labels = [model.name or model.spec for model in models]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise Invalid(f"model {repeated[0]!r} appears twice; give each a distinct name")
    return models


def _once(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))


MODEL_SPEC_REQUIRED = "required: a model name or 'package.module:factory'"
_DELAY = _number("values must be numbers >= 0, got {value!r}")
_RESOURCE = _number("must be a number >= 0, got {value!r}")


# ------------------------------------------------------------------------------------------------ configs
@dataclass(frozen=True)
class ModelEntry:
    """One model of a sweep (a ``[[models]]`` table).

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
        worker and ignores GPUs). In the file: ``resources = { num_cpus = 1, num_gpus = 0 }``.
    """

    spec: str = field(
        metadata=rule(
            "built-in name, 'pkg.module:factory', 'torch:...', 'subprocess:...' or an entry point",
            check=_spec,
            required=MODEL_SPEC_REQUIRED,
        )
    )
    name: str | None = field(
        default=None, metadata=rule("label in results (default: the model's own name)", check=_label)
    )
    options: dict[str, Any] = field(
        default_factory=dict, metadata=rule("keyword arguments of the factory", check=_free_table)
    )
    num_cpus: float = field(default=1.0, metadata=rule("CPUs one task needs", check=_RESOURCE, section="resources"))
    num_gpus: float = field(
        default=0.0, metadata=rule("GPUs one task needs (Ray executor)", check=_RESOURCE, section="resources")
    )


@dataclass(frozen=True)
class DatasetConfig:
    """The songs of a sweep (the ``[dataset]`` table, or a spec string)."""

    spec: str = field(
        default="demo",
        metadata=rule(
            "demo, demo-band, manifest:PATH, folder:PATH, slakh:ROOT, musdb:ROOT or moisesdb:ROOT", check=str
        ),
    )
    options: dict[str, Any] = field(
        default_factory=dict, metadata=rule("keyword arguments of the dataset loader", check=_free_table)
    )
    on_error: str = field(
        default="skip", metadata=rule("skip bad songs (reported) or raise", check=_choice(("skip", "raise")))
    )


@dataclass(frozen=True)
class GridConfig:
    """The grid (the ``[grid]`` table); every combination of the lists is one config."""

    future_visibility: tuple[int | str, ...] = field(
        metadata=rule(
            "t_f: whole frames of each model's hop, or durations ('100ms')",
            check=_frames_or_duration,
            many=True,
            required="required",
        )
    )
    chunk_frames: tuple[int | str, ...] = field(
        metadata=rule("k, frames per call (>= 1), or durations ('80ms')", check=_chunk, many=True, required="required")
    )
    latency: tuple[str, ...] = field(
        default=("zero",),
        metadata=rule("inference-time models: zero, fixed:30ms, linear:20ms,2ms/frame, ...", check=_latency, many=True),
    )
    input_latency_ms: tuple[float, ...] = field(
        default=(0.0,), metadata=rule("L_in, milliseconds (>= 0)", check=_DELAY, many=True)
    )
    output_latency_ms: tuple[float, ...] = field(
        default=(0.0,), metadata=rule("L_out, milliseconds (>= 0)", check=_DELAY, many=True)
    )
    on_miss: tuple[str, ...] = field(
        default=("auto",),
        metadata=rule(
            "late-chunk policy; auto = truncate for t_f <= 0, ignore for t_f > 0",
            check=_choice(ON_MISS_CHOICES, "must be one of {plain}, got {value!r}"),
            many=True,
        ),
    )

    @property
    def size(self) -> int:
        """The number of configs (the product of the list lengths)."""
        size = 1
        for name, _ in _rules(GridConfig):
            size *= len(getattr(self, name))
        return size


@dataclass(frozen=True)
class SweepConfig:
    """A whole sweep (see the module docstring for the file format)."""

    models: tuple[ModelEntry, ...] = field(
        metadata=rule(
            "the models ([[models]] tables, or spec strings)",
            table=ModelEntry,
            shorthand="spec",
            many=True,
            finish=_distinct_labels,
            required="missing: list at least one model ([[models]] spec = ...)",
        )
    )
    grid: GridConfig = field(
        metadata=rule(
            "the grid of delay configs", table=GridConfig, required="missing: give future_visibility and chunk_frames"
        )
    )
    dataset: DatasetConfig = field(
        default_factory=DatasetConfig,
        metadata=rule("the songs ([dataset] table, or a spec string)", table=DatasetConfig, shorthand="spec"),
    )
    seeds: tuple[int, ...] = field(
        default=(0,), metadata=rule("seeds (distinct integers >= 0)", check=_seed, many=True, finish=_distinct)
    )
    metrics: tuple[str, ...] = field(
        default=("beat", "harmony", "timing", "reaction"),
        metadata=rule(
            f"metric groups from {', '.join(METRIC_GROUPS)}",
            check=_choice(METRIC_GROUPS, "unknown metric group {value!r} (known: {plain})"),
            many=True,
            finish=_once,
        ),
    )
    out: str = field(default="accbench-out", metadata=rule("output folder", check=_folder))
    results_format: str = field(
        default="parquet", metadata=rule("results table format", check=_choice(("parquet", "csv")))
    )
    write_audio: str = field(
        default="examples",
        metadata=rule(
            "output audio kept in the run folder as 16-bit FLAC: 'none', 'examples' (the first "
            f"{EXAMPLE_SONGS} songs by sorted id) or 'all'; true/false (old configs) mean 'all'/'none'",
            check=write_audio_mode,
        ),
    )
    lenient: bool = field(default=False, metadata=rule("repair bad chunks (recorded) instead of failing", check=_flag))
    embedder: str = field(
        default="auto", metadata=rule("embedder of the embedding metrics", check=_choice(("auto", "clap", "spectral")))
    )
    embedder_options: dict[str, Any] = field(
        default_factory=dict, metadata=rule("options of the embedder (model, batch_size, ...)", check=_free_table)
    )
    beat_tracker: str = field(
        default="default",
        metadata=rule(
            "beat tracker of every beat analysis: default, madmom, or beat-this (the seed paper's; extra beat-this)",
            check=_choice(BEAT_TRACKERS),
        ),
    )
    beat_this_checkpoint: str | None = field(
        default=None,
        metadata=rule(
            "Beat This checkpoint file, or a name in $TORCH_HOME/hub/checkpoints (default final0); never downloaded",
            check=_label,
        ),
    )
    cocola_checkpoint: str | None = field(
        default=None,
        metadata=rule(
            "COCOLA checkpoint (COCOLA_HP_v1 .ckpt) of the cocola metrics, relative to the config file; default "
            "$ACCBENCH_COCOLA_CHECKPOINT; never downloaded",
            check=_label,
        ),
    )
    vggish_weights: str | None = field(
        default=None,
        metadata=rule(
            "torchvggish weights (vggish-10086976.pth) of the VGGish FAD, relative to the config file; default "
            "$ACCBENCH_VGGISH_WEIGHTS; never downloaded",
            check=_label,
        ),
    )
    vggish_fad: bool | None = field(
        default=None,
        metadata=rule(
            "compute the seed paper's VGGish FAD per (model, config) into set_metrics.csv after the sweep (needs "
            "every output: write_audio = 'all'); default: true when vggish_weights is given",
            check=_flag,
        ),
    )
    paper_table: bool = field(
        default=False,
        metadata=rule("write paper_table.md and paper_table.csv, the seed paper's results table", check=_flag),
    )
    source: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> SweepConfig:
        """Validate and build a config; errors name the key path and the file."""
        try:
            config = read_table(cls, data)
        except Invalid as error:
            where = f"{source}: " if source else ""
            raise ConfigError(f"{where}{error.path}: {error.message}") from None
        return dataclasses.replace(config, source=source)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that :meth:`from_dict` reads back to an equal config (stored in the run manifest)."""
        return to_plain(self)


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
