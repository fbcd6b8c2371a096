"""Sweep config: the declared schema, its one generic reader and writer, and the messages naming the key path."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from accbench.config import (
    DEFAULT_SWEEP,
    Invalid,
    SweepConfig,
    describe_schema,
    load_sweep_config,
    read_table,
    rule,
    to_plain,
)
from accbench.config import __doc__ as CONFIG_DOC
from accbench.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GRID = {"future_visibility": [0], "chunk_frames": [1]}
LATENCY_HELP = (
    "expected one of 'zero', 'fixed:30ms', 'linear:20ms,2ms/frame', 'trace:FILE', 'measured', optionally followed "
    "by ',jitter=5ms'"
)
TOP_KEYS = (
    "beat_this_checkpoint, beat_tracker, cocola_checkpoint, dataset, embedder, embedder_options, grid, lenient, "
    "metrics, models, out, paper_table, results_format, seeds, vggish_fad, vggish_weights, write_audio"
)
OPTIONAL_KEYS = {"beat_this_checkpoint", "cocola_checkpoint", "vggish_fad", "vggish_weights"}  # None: not written
GRID_KEYS = "chunk_frames, future_visibility, input_latency_ms, latency, on_miss, output_latency_ms"


def sweep(**changes):
    data = {"models": [{"spec": "silence"}], "grid": dict(GRID)}
    data.update(changes)
    return data


def grid(**changes):
    return sweep(grid={**GRID, **changes})


def model(**entry):
    return sweep(models=[{"spec": "silence", **entry}])


BAD = [
    ([1], "(top level): expected a table, got list"),
    (sweep(extra=1), f"extra: unknown key (known: {TOP_KEYS})"),
    ({"grid": GRID}, "models: missing: list at least one model ([[models]] spec = ...)"),
    ({"models": ["silence"]}, "grid: missing: give future_visibility and chunk_frames"),
    (sweep(models=[]), "models: must not be empty"),
    (sweep(models=[3]), "models[0]: expected a table, got int"),
    (model(nme="x"), "models[0].nme: unknown key (did you mean 'name'?) (known: name, options, resources, spec)"),
    (sweep(models=[{"spec": "silence"}, {"options": {}}]), "models[1].spec: required: a model name or "
     "'package.module:factory'"),
    (model(spec="  "), "models[0].spec: required: a model name or 'package.module:factory'"),
    (model(spec=3), "models[0].spec: required: a model name or 'package.module:factory'"),
    (model(options=[1]), "models[0].options: expected a table, got list"),
    (model(resources=3), "models[0].resources: expected a table, got int"),
    (model(resources={"gpus": 1}), "models[0].resources.gpus: unknown key (did you mean 'num_gpus'?) "
     "(known: num_cpus, num_gpus)"),
    (model(resources={"num_cpus": -1}), "models[0].resources.num_cpus: must be a number >= 0, got -1"),
    (model(resources={"num_cpus": True}), "models[0].resources.num_cpus: must be a number >= 0, got True"),
    (model(resources={"num_gpus": "1"}), "models[0].resources.num_gpus: must be a number >= 0, got '1'"),
    (model(name=""), "models[0].name: must be a non-empty string, got ''"),
    (model(name=3), "models[0].name: must be a non-empty string, got 3"),
    (sweep(models=["x", "x"]), "models: model 'x' appears twice; give each a distinct name"),
    (sweep(models=[{"spec": "x", "name": "y"}, "y"]), "models: model 'y' appears twice; give each a distinct name"),
    (sweep(grid=3), "grid: expected a table, got int"),
    (grid(chunk_frame=[1]), f"grid.chunk_frame: unknown key (did you mean 'chunk_frames'?) (known: {GRID_KEYS})"),
    (sweep(grid={"chunk_frames": [1]}), "grid.future_visibility: required"),
    (sweep(grid={"future_visibility": [1]}), "grid.chunk_frames: required"),
    (grid(future_visibility=[]), "grid.future_visibility: must not be empty"),
    (grid(future_visibility=[1.5]), "grid.future_visibility: values must be whole frames or durations like '80ms', "
     "got 1.5"),
    (grid(future_visibility=[True]), "grid.future_visibility: values must be whole frames or durations like '80ms', "
     "got True"),
    (grid(chunk_frames=[0]), "grid.chunk_frames: must be >= 1, got 0"),
    (grid(chunk_frames=[1.0]), "grid.chunk_frames: values must be whole frames or durations like '80ms', got 1.0"),
    (grid(latency=["soon"]), f"grid.latency: invalid latency spec 'soon': {LATENCY_HELP}"),
    (grid(latency=[5]), f"grid.latency: invalid latency spec '5': {LATENCY_HELP}"),
    (grid(latency=[]), "grid.latency: must not be empty"),
    (grid(input_latency_ms=[-1]), "grid.input_latency_ms: values must be numbers >= 0, got -1"),
    (grid(output_latency_ms=[False]), "grid.output_latency_ms: values must be numbers >= 0, got False"),
    (grid(on_miss=["never"]), "grid.on_miss: must be one of auto, truncate, drop, ignore, got 'never'"),
    (sweep(dataset=3), "dataset: expected a table, got int"),
    (sweep(dataset={"opts": {}}), "dataset.opts: unknown key (did you mean 'options'?) "
     "(known: on_error, options, spec)"),
    (sweep(dataset={"options": 3}), "dataset.options: expected a table, got int"),
    (sweep(dataset={"on_error": "ignore"}), "dataset.on_error: must be 'skip' or 'raise', got 'ignore'"),
    (sweep(seeds=[1, 1]), "seeds: values must be distinct"),
    (sweep(seeds=[-1]), "seeds: values must be integers >= 0, got -1"),
    (sweep(seeds=[1.0]), "seeds: values must be integers >= 0, got 1.0"),
    (sweep(seeds=[]), "seeds: must not be empty"),
    (sweep(metrics=["vibes"]), "metrics: unknown metric group 'vibes' (known: beat, harmony, timing, reaction, "
     "embedding, cocola)"),
    (sweep(results_format="xlsx"), "results_format: must be 'parquet' or 'csv', got 'xlsx'"),
    (sweep(write_audio=1), "write_audio: must be 'none', 'examples' or 'all' (or true/false), got 1"),
    (sweep(lenient="yes"), "lenient: must be true or false, got 'yes'"),
    (sweep(out=""), "out: must be a folder path, got ''"),
    (sweep(out=3), "out: must be a folder path, got 3"),
    (sweep(embedder="vggish"), "embedder: must be 'auto', 'clap' or 'spectral', got 'vggish'"),
    (sweep(embedder_options=[1]), "embedder_options: expected a table, got list"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), BAD, ids=[message.split(":")[0] for _, message in BAD])
def test_invalid_configs_name_the_key_path(data, message):
    with pytest.raises(ConfigError) as info:
        SweepConfig.from_dict(data)
    assert str(info.value) == message
    with pytest.raises(ConfigError, match=r"^sweep\.toml: " + re.escape(message) + "$"):
        SweepConfig.from_dict(data, source="sweep.toml")


@pytest.mark.parametrize(
    ("data", "path", "suggestion"),
    [
        ({"models": ["silence"], "gird": GRID}, "gird", "grid"),
        (grid(future_visiblity=[0]), "grid.future_visiblity", "future_visibility"),
        (model(optoins={}), "models[0].optoins", "options"),
    ],
)
def test_unknown_keys_suggest_the_closest_known_key(data, path, suggestion):
    with pytest.raises(ConfigError) as info:
        SweepConfig.from_dict(data)
    assert str(info.value).startswith(f"{path}: unknown key (did you mean {suggestion!r}?) (known: ")
    with pytest.raises(ConfigError) as far:
        SweepConfig.from_dict(sweep(xyzzy=1))
    assert "did you mean" not in str(far.value)


def test_shorthands_scalars_and_defaults():
    config = SweepConfig.from_dict(
        sweep(
            models=["oracle", {"spec": " follower ", "name": "f", "resources": {"num_gpus": 1}}],
            grid={"future_visibility": "-100ms", "chunk_frames": 2, "input_latency_ms": 2, "latency": "fixed:5ms"},
            dataset="folder:/songs",
            seeds=3,
            metrics=["beat", "timing", "beat"],
        )
    )
    first, second = config.models
    assert (first.spec, first.name, first.options, first.num_cpus, first.num_gpus) == ("oracle", None, {}, 1.0, 0.0)
    assert (second.spec, second.name, second.num_gpus) == ("follower", "f", 1.0)
    assert config.grid.future_visibility == ("-100ms",) and config.grid.chunk_frames == (2,)
    assert config.grid.input_latency_ms == (2.0,) and isinstance(config.grid.input_latency_ms[0], float)
    assert config.grid.latency == ("fixed:5ms",) and config.grid.on_miss == ("auto",)
    assert config.grid.output_latency_ms == (0.0,) and config.grid.size == 1
    assert (config.dataset.spec, config.dataset.options, config.dataset.on_error) == ("folder:/songs", {}, "skip")
    assert config.seeds == (3,) and config.metrics == ("beat", "timing")
    assert (config.out, config.results_format, config.write_audio, config.lenient) == (
        "accbench-out",
        "parquet",
        "examples",
        False,
    )
    assert config.embedder == "auto" and config.embedder_options == {} and config.source is None


def test_to_dict_reads_back_and_keeps_the_file_format():
    config = load_sweep_config(None)
    assert config.source == "default sweep" and config.grid.size == 15
    plain = config.to_dict()
    assert SweepConfig.from_dict(plain, source="default sweep") == config
    assert plain["models"][0] == {"spec": "silence", "options": {}, "resources": {"num_cpus": 1.0, "num_gpus": 0.0}}
    assert plain["dataset"] == {"spec": "demo", "options": {"songs": 4, "split": "test"}, "on_error": "skip"}
    assert plain["grid"]["future_visibility"] == [-25, -5, -1, 0, 5] and plain["grid"]["on_miss"] == ["auto"]
    assert set(plain) == set(TOP_KEYS.split(", ")) - OPTIONAL_KEYS
    named = SweepConfig.from_dict(sweep(models=[{"spec": "x", "name": "y", "options": {"a": [1]}}]))
    assert named.to_dict()["models"] == [
        {"spec": "x", "name": "y", "options": {"a": [1]}, "resources": {"num_cpus": 1.0, "num_gpus": 0.0}}
    ]
    plain["models"][0]["options"]["new"] = 1  # a copy: the config is not changed through it
    assert config.models[0].options == {}
    assert DEFAULT_SWEEP["models"][0] == {"spec": "silence"}


@pytest.mark.parametrize("name", ["sweep.toml", "paper_grid.toml", "stream_music_gen.toml"])
def test_examples_load(name):
    config = load_sweep_config(EXAMPLES / name)
    assert config.source == str(EXAMPLES / name) and config.models and config.grid.size >= 1
    assert load_sweep_config(config.to_dict()) == SweepConfig.from_dict(config.to_dict())


def test_files_errors(tmp_path):
    with pytest.raises(ConfigError, match="sweep config not found"):
        load_sweep_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("models = [")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_sweep_config(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text('[[models]]\nspec = "silence"\n[grid]\nfuture_visibility = [0]\nchunk_frame = [1]\n')
    with pytest.raises(ConfigError, match=r"typo\.toml: grid\.chunk_frame: unknown key"):
        load_sweep_config(typo)


def test_every_key_is_declared_with_help_and_documented():
    keys = dict(describe_schema(SweepConfig))
    assert "models[].resources.num_cpus" in keys and "grid.on_miss" in keys and "dataset.on_error" in keys
    assert "source" not in keys  # not a file key
    assert all(text.strip() for text in keys.values())
    example = CONFIG_DOC.split("::", 1)[1].split("Unknown keys", 1)[0]
    for path in keys:
        assert re.search(rf"\b{re.escape(path.rsplit('.', 1)[-1].removesuffix('[]'))}\b", example), path


@dataclass(frozen=True)
class _Inner:
    size: int = field(default=1, metadata=rule("a size", check=int, section="shape"))


@dataclass(frozen=True)
class _Outer:
    name: str = field(metadata=rule("a name", required="give a name"))
    parts: tuple[_Inner, ...] = field(default=(), metadata=rule("parts", table=_Inner, many=True))
    untracked: int = 0


def test_the_reader_is_generic():
    outer = read_table(_Outer, {"name": "a", "parts": [{}, {"shape": {"size": 3}}]})
    assert outer == _Outer("a", (_Inner(1), _Inner(3)))
    assert to_plain(outer) == {"name": "a", "parts": [{"shape": {"size": 1}}, {"shape": {"size": 3}}]}
    assert read_table(_Outer, to_plain(outer)) == outer
    for data, path, message in (
        ({}, "name", "give a name"),
        ({"name": "a", "untracked": 1}, "untracked", "unknown key (known: name, parts)"),
        ({"name": "a", "parts": [{"size": 1}]}, "parts[0].size", "unknown key (known: shape)"),
        ({"name": "a", "parts": [{"shape": 2}]}, "parts[0].shape", "expected a table, got int"),
    ):
        with pytest.raises(Invalid) as info:
            read_table(_Outer, copy.deepcopy(data))
        assert (info.value.path, info.value.message) == (path, message)
