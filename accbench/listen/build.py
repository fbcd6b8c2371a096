"""``accbench listen build``: a pairwise listening study from a run folder.

The study folder holds ``index.html`` (the whole site: instructions, consent, one trial per page, the
answers download), ``audio/`` (one compressed clip per system and song, opaque names) and ``study.json``
(the design with its key: which system plays on which side, the attention checks' right answers, the
run's metric values of every system on every song; ``listen analyze`` and ``listen serve`` read it, the
page does not).

A system is one (model, config) of the run. A song takes part only when the run kept audio for every
chosen system (``audio/<model>/<config_id>/<song>.flac``, or a ``<song>.silent`` marker for an all-zero
output) and its input (``audio/inputs/<song>.flac``); the default ``write_audio = "examples"`` keeps 2 songs
per model and config, ``write_audio = "all"`` every song.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accbench.atomic import atomic_write_text
from accbench.audio import audio_info
from accbench.errors import ConfigError, DataError
from accbench.listen.design import CHECK_KINDS, Trial, balanced_design, pair_count
from accbench.listen.render import FORMATS, encode, loudness_match, mix, read_excerpt
from accbench.listen.site import write_site
from accbench.reports.load import load_run, metric_columns, metric_spec, model_labels
from accbench.reports.players import audio_file

__all__ = ["MAX_DEFAULT_TRIALS", "STUDY_FORMAT", "BuildOptions", "Study", "System", "build_study"]

#: ``format`` of ``study.json``.
STUDY_FORMAT = "accbench-listen-study"


@dataclass
class BuildOptions:
    """What ``listen build`` chooses (the CLI options by field name)."""

    models: list[str] = field(default_factory=list)  # shell patterns of model names; empty: all
    configs: list[str] = field(default_factory=list)  # shell patterns of config ids; empty: all
    songs: list[str] = field(default_factory=list)  # shell patterns of song ids; empty: all with audio
    trials: int | None = None  # comparisons; default every pair once per song
    checks: int = 0  # attention checks
    check_kinds: tuple[str, ...] = CHECK_KINDS
    excerpt_seconds: float = 10.0
    start_seconds: float | None = None  # default: the middle of each song
    sample_rate: int = 22050
    audio_format: str = "mp3"
    target_lufs: float = -23.0
    ratings: bool = True  # ask the optional coherence and quality ratings
    seed: int = 0
    title: str = "Listening study"


@dataclass(frozen=True)
class System:
    """One (model, config) of the run, as the study names it."""

    label: str
    model: str
    model_version: str
    config_id: str


@dataclass
class Study:
    """What ``build_study`` wrote: the folder, its design and facts for the user."""

    folder: Path
    systems: list[System]
    songs: list[str]
    skipped_songs: dict[str, str]
    trials: list[Trial]
    clip_bytes: int
    seconds: float


def _matches(value: str, patterns: Sequence[str]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(value, p) for p in patterns)


def choose_systems(results: pd.DataFrame, models: Sequence[str], configs: Sequence[str]) -> list[System]:
    """The (model, config) pairs of the results table matching the patterns, labelled uniquely."""
    keys = results[["model", "model_version", "config_id"]].drop_duplicates()
    keys = keys.sort_values(["model", "model_version", "config_id"])
    labels = model_labels(results)
    chosen = [
        (str(m), str(v), str(c))
        for m, v, c in keys.itertuples(index=False)
        if _matches(str(m), models) and _matches(str(c), configs)
    ]
    several_configs = len({c for _, _, c in chosen}) > 1
    systems = [System(f"{labels[(m, v)]} {c}" if several_configs else labels[(m, v)], m, v, c) for m, v, c in chosen]
    if len(systems) < 2:
        found = ", ".join(sorted({f"{m} {c}" for m, _, c in keys.itertuples(index=False)}))
        raise ConfigError(f"a listening study needs at least 2 systems; the patterns chose {len(systems)} of: {found}")
    return systems


def _output_path(run_dir: Path, system: System, song: str) -> Path | None:
    """The system's audio file of ``song``, ``Path("")`` for a silent output, ``None`` when the run kept none."""
    folder = run_dir / "audio" / system.model / system.config_id
    found = audio_file(folder, song)
    if found is not None:
        return found
    return Path("") if (folder / f"{song}.silent").is_file() else None


def usable_songs(
    run_dir: Path, results: pd.DataFrame, systems: Sequence[System], patterns: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    """The songs with input audio and audio (or a silent marker) of every system; the others with the reason."""
    songs = sorted(str(s) for s in results["song"].unique() if _matches(str(s), patterns))
    if not songs:
        raise ConfigError(f"no song of the run matches {list(patterns)}")
    usable, skipped = [], {}
    for song in songs:
        if audio_file(run_dir / "audio" / "inputs", song) is None:
            skipped[song] = "no input audio in the run folder"
            continue
        missing = [s.label for s in systems if _output_path(run_dir, s, song) is None]
        if missing:
            skipped[song] = "no audio of " + ", ".join(missing)
            continue
        usable.append(song)
    if not usable:
        raise DataError(
            f"no song has audio of every chosen system ({len(skipped)} without); the run keeps audio of 2 songs "
            'per model and config by default: rerun the sweep with write_audio = "all" (or choose songs with --song)',
            path=str(run_dir),
        )
    return usable, skipped


def _excerpt(run_dir: Path, song: str, options: BuildOptions) -> tuple[float, float]:
    """(start_s, seconds) of a song's excerpt: ``options.start_seconds`` or the middle, clipped to the song."""
    duration = float(audio_info(audio_file(run_dir / "audio" / "inputs", song), song=song).duration)
    seconds = min(float(options.excerpt_seconds), duration)
    if options.start_seconds is None:
        start = max(0.0, (duration - seconds) / 2.0)
    else:
        start = min(max(0.0, float(options.start_seconds)), duration - seconds)
    return round(start, 3), round(seconds, 3)


def clip_key(trial: Trial, side: str) -> tuple[str, str, str]:
    """What one side of a trial plays: (song of the input, system or ``""`` for none, song of the accompaniment)."""
    if side == "check:silence":
        return (trial.song, "", trial.song)
    if side == "check:mismatch":
        real = trial.b if trial.a == side else trial.a
        return (trial.song, real, trial.other_song)
    return (trial.song, side, trial.song)


def _clip_keys(trials: Sequence[Trial]) -> list[tuple[str, str, str]]:
    """The distinct clips the trials play, in first-use order."""
    keys: dict[tuple[str, str, str], None] = {}
    for trial in trials:
        for side in (trial.a, trial.b):
            keys[clip_key(trial, side)] = None
    return list(keys)


def _render_clips(
    run_dir: Path,
    trials: Sequence[Trial],
    systems: dict[str, System],
    excerpts: dict[str, tuple[float, float]],
    options: BuildOptions,
) -> tuple[dict[tuple[str, str, str], np.ndarray], dict[tuple[str, str, str], float]]:
    """Every clip of the study, mixed and loudness-matched; with each clip's measured loudness (LUFS)."""
    rate = int(options.sample_rate)
    inputs: dict[str, np.ndarray] = {}
    keys = _clip_keys(trials)
    raw = []
    for song, system, source in keys:
        start, seconds = excerpts[song]
        if song not in inputs:
            inputs[song] = read_excerpt(audio_file(run_dir / "audio" / "inputs", song), start, seconds, rate)
        accompaniment = None
        path = _output_path(run_dir, systems[system], source) if system else None
        if path is not None and path != Path(""):
            accompaniment = read_excerpt(path, excerpts[source][0], seconds, rate)
        raw.append(mix(inputs[song], accompaniment))
    matched, levels = loudness_match(raw, rate, options.target_lufs)
    return dict(zip(keys, matched, strict=True)), dict(zip(keys, levels, strict=True))


def system_metrics(results: pd.DataFrame, systems: Sequence[System], songs: Sequence[str]) -> dict[str, Any]:
    """Per metric of the run: its direction and each system's value on each song (mean over seeds).

    Metrics with no finite value for some system on some study song are left out (they cannot rank the
    trials they miss); ``listen analyze`` compares the rest with the listeners' choices.
    """
    table = results[results["song"].astype(str).isin(list(songs))]
    out: dict[str, Any] = {}
    for metric in metric_columns(table):
        values: dict[str, dict[str, float]] = {}
        for system in systems:
            rows = table[
                (table["model"] == system.model)
                & (table["model_version"] == system.model_version)
                & (table["config_id"] == system.config_id)
            ]
            means = rows.groupby(rows["song"].astype(str))[metric].mean()
            values[system.label] = {str(song): float(means.get(song, np.nan)) for song in songs}
        if all(np.isfinite(v) for per_song in values.values() for v in per_song.values()):
            out[metric] = {"direction": metric_spec(metric, warn=False).direction, "values": values}
    return out


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _clip_name(study_seed: int, key: tuple[str, str, str], suffix: str) -> str:
    """An opaque file name of a clip: nothing in it says which system plays."""
    digest = hashlib.sha256(json.dumps([study_seed, *key]).encode("utf-8")).hexdigest()[:12]
    return f"{digest}.{suffix}"


def _check_out(out: Path) -> None:
    """The study folder is new, empty, or an earlier study without answers (its answers would not fit)."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / "study.json").is_file():
        raise ConfigError(f"--out {out} is neither empty nor a study folder: choose a new folder")
    answers = out / "answers"
    if answers.is_dir() and any(answers.iterdir()):
        raise ConfigError(f"--out {out} holds answers of a study; build the new study in another folder")


#: The most trials a study gets without ``--trials`` (every pair once per song), before it asks for fewer systems.
MAX_DEFAULT_TRIALS = 200


def _check_size(systems: Sequence[System], songs: Sequence[str], trials: int | None) -> None:
    """Refuse a default design too long for one listener (a run's whole grid is usually far too many systems)."""
    pairs = pair_count(len(systems))
    if trials is None and pairs * len(songs) > MAX_DEFAULT_TRIALS:
        models = sorted({s.model for s in systems})
        configs = sorted({s.config_id for s in systems})
        raise ConfigError(
            f"{len(systems)} systems ({len(models)} models x {len(configs)} configs) make {pairs} pairs, "
            f"{pairs * len(songs)} trials over {len(songs)} songs: choose fewer with --model and --config "
            f"(configs: {', '.join(configs[:6])}{', ...' if len(configs) > 6 else ''}) or set --trials"
        )


def build_study(run_dir: str | os.PathLike, out: str | os.PathLike, options: BuildOptions | None = None) -> Study:
    """Build the listening study of a run folder in ``out`` (see the module docstring).

    Raises
    ------
    ConfigError
        Bad options (fewer than 2 systems, an unbalanced trial count, an unknown audio format).
    DataError
        No run folder or results table, or no song with audio of every chosen system.
    """
    began = time.perf_counter()
    options = options or BuildOptions()
    if options.audio_format not in FORMATS:
        raise ConfigError(f"--audio-format {options.audio_format!r} is not one of {', '.join(FORMATS)}")
    if options.excerpt_seconds < 0.5:
        raise ConfigError(f"--excerpt-seconds must be at least 0.5, got {options.excerpt_seconds:g}")
    run_dir, out = Path(run_dir), Path(out)
    _check_out(out)
    run = load_run(run_dir)
    systems = choose_systems(run.results, options.models, options.configs)
    by_label = {s.label: s for s in systems}
    songs, skipped = usable_songs(run_dir, run.results, systems, options.songs)
    _check_size(systems, songs, options.trials)
    audible = {song: [s.label for s in systems if _output_path(run_dir, s, song) != Path("")] for song in songs}
    trials = balanced_design(
        [s.label for s in systems],
        songs,
        n_trials=options.trials,
        seed=options.seed,
        checks=options.checks,
        check_kinds=options.check_kinds,
        audible=audible,
    )
    excerpts = {song: _excerpt(run_dir, song, options) for song in songs}
    clips, levels = _render_clips(run_dir, trials, by_label, excerpts, options)
    names = {key: _clip_name(options.seed, key, options.audio_format) for key in clips}
    size = sum(encode(out / "audio" / names[key], clip, options.sample_rate) for key, clip in clips.items())
    for stale in set((out / "audio").iterdir()) - {out / "audio" / name for name in names.values()}:
        stale.unlink()  # clips of an earlier build of this folder
    design = _study_document(run_dir, run.results, options, systems, songs, skipped, excerpts, trials, names, levels)
    atomic_write_text(out / "study.json", json.dumps(design, indent=1, sort_keys=True) + "\n")
    write_site(out / "index.html", design)
    return Study(out, systems, songs, skipped, trials, size, time.perf_counter() - began)


def _study_document(
    run_dir: Path,
    results: pd.DataFrame,
    options: BuildOptions,
    systems: Sequence[System],
    songs: Sequence[str],
    skipped: dict[str, str],
    excerpts: dict[str, tuple[float, float]],
    trials: Sequence[Trial],
    names: dict[tuple[str, str, str], str],
    levels: dict[tuple[str, str, str], float],
) -> dict[str, Any]:
    """The content of ``study.json``; ``study_id`` hashes everything a participant hears and is asked."""
    trial_rows = [
        {
            **trial.to_dict(),
            "clip_a": "audio/" + names[clip_key(trial, trial.a)],
            "clip_b": "audio/" + names[clip_key(trial, trial.b)],
        }
        for trial in trials
    ]
    document: dict[str, Any] = {
        "format": STUDY_FORMAT,
        "version": 1,
        "title": options.title,
        "run": str(run_dir.resolve()),
        "seed": int(options.seed),
        "sample_rate": int(options.sample_rate),
        "audio_format": options.audio_format,
        "target_lufs": float(options.target_lufs),
        "ratings": bool(options.ratings),
        "systems": [vars(s) for s in systems],
        "songs": [{"song": s, "start_s": excerpts[s][0], "seconds": excerpts[s][1]} for s in songs],
        "skipped_songs": skipped,
        "trials": trial_rows,
        "clips": {
            names[key]: {
                "song": key[0],
                "system": key[1],
                "accompaniment_of": key[2],
                "loudness_lufs": _finite(levels[key]),
            }
            for key in names
        },
        "metrics": system_metrics(results, systems, songs),
    }
    heard = json.dumps([options.title, options.ratings, trial_rows], sort_keys=True)
    document["study_id"] = hashlib.sha256(heard.encode("utf-8")).hexdigest()[:16]
    return document
