"""Sweep tasks and how one task runs inside a worker process.

A task is one (model, config, song, seed). Its id is a hash of everything that determines its result (the
model spec, options and version, the simulation config, the song's content hash, the seed and the metric
groups), so a resumed sweep recognises finished work and never mixes results of a changed config or model
version. :func:`execute_task` runs in a worker: it loads the model once per process, loads the song at the
model's rate, simulates, writes the output audio atomically, scores it and returns a row (or a failure).
:func:`init_worker` first puts the sweep's import folders (:attr:`WorkerContext.import_paths`) on
``sys.path``, so that a worker finds the model files the driver found.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accbench.audio import write_audio_atomic
from accbench.checkpoint_files import with_skipped
from accbench.config import ModelEntry
from accbench.datasets import Song
from accbench.errors import ConfigError, ModelError
from accbench.models import BUILTIN_MODELS, load_model
from accbench.protocol import ModelInfo, StreamingModel
from accbench.results import config_id, failure_row, results_row
from accbench.simulators import SimulationConfig
from accbench.song_run import run_song

__all__ = [
    "INFLIGHT",
    "AnalysisTask",
    "Task",
    "TaskOutcome",
    "WorkerContext",
    "add_import_paths",
    "beat_tracker_identity",
    "config_id",
    "execute_task",
    "remove_import_paths",
    "task_id",
]


#: The run folder's subfolder of markers ``<task_id>.<pid>`` of the tasks running now: a worker process that
#: dies leaves its marker, so the local executor knows which tasks to re-run in isolation. Removed when the
#: sweep finishes; markers found at the start of a run are stale (a killed run) and cleared.
INFLIGHT = ".inflight"


def task_id(parts: dict[str, Any]) -> str:
    """SHA-256 (first 20 hex digits) of the JSON of everything that determines a task's result."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Task:
    """One unit of work: a model entry, a config, a song and a seed."""

    task_id: str
    model_index: int
    model_label: str
    model_version: str
    config: SimulationConfig
    config_id: str
    song_id: str
    seed: int


@dataclass(frozen=True)
class AnalysisTask:
    """Analyse one song's input and reference once, before the grid runs (fills the analysis cache).

    Without this phase, parallel workers that start on the same song at the same time would each analyse it.
    """

    task_id: str
    song_id: str
    sample_rate: int
    metrics: tuple[str, ...]


@dataclass
class TaskOutcome:
    """A finished task: a results row, or a failure."""

    task_id: str
    row: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkerContext:
    """What every worker needs, sent once per worker process."""

    models: tuple[ModelEntry, ...]
    songs: dict[str, Song]
    metrics: tuple[str, ...]
    out_dir: str
    cache_dir: str | None
    write_audio: str | bool
    embedder: str = "auto"
    embedder_options: dict[str, Any] = field(default_factory=dict)
    #: Folders put in front of ``sys.path`` in every worker (the sweep config's folder and the driver's working
    #: directory), so that ``spec = "mymodel:make"`` finds ``mymodel.py`` next to the config, as in the driver.
    import_paths: tuple[str, ...] = ()
    beat_tracker: str = "default"
    beat_this_checkpoint: str | None = None
    #: The COCOLA checkpoint (absolute path) of the ``cocola`` group, when it is scored and found.
    cocola_checkpoint: str | None = None
    #: Files the sweep lacks (:attr:`accbench.checkpoint_files.SweepFiles.missing`): the metrics needing them are
    #: skipped in every row with the reason.
    missing: dict[str, str] = field(default_factory=dict)

    def scored_metrics(self, metrics: tuple[str, ...] | list[str] | None = None) -> tuple[list[str], dict[str, str]]:
        """The groups and metrics scored without the missing files, and the skipped metrics with their reasons."""
        from accbench.checkpoint_files import scored_metrics

        return scored_metrics(self.metrics if metrics is None else metrics, self.missing)

    def group_options(self) -> dict[str, dict[str, Any]]:
        """What :func:`accbench.metrics.score` gets as ``group_options=`` (the COCOLA checkpoint)."""
        return {"cocola": {"checkpoint": self.cocola_checkpoint}} if self.cocola_checkpoint else {}

    def embedding_options(self) -> dict[str, Any]:
        """What :func:`accbench.metrics.score` gets as ``embedding=``."""
        return {"embedder": self.embedder, **self.embedder_options}

    def beat_options(self) -> dict[str, Any]:
        """What :func:`accbench.metrics.score` gets as ``beat_tracker=`` and ``beat_this_checkpoint=``."""
        if self.beat_tracker == "beat-this" and "beat-this" in self.missing:  # no metric tracks beats then
            return {"beat_tracker": "default", "beat_this_checkpoint": None}
        checkpoint = self.beat_this_checkpoint if self.beat_tracker == "beat-this" else None
        return {"beat_tracker": self.beat_tracker, "beat_this_checkpoint": checkpoint}


def beat_tracker_identity(beat_tracker: str, beat_this_checkpoint: str | None) -> dict[str, str]:
    """The task-id entries of a non-default beat tracker: its name and, for Beat This, the checkpoint's SHA-256
    (so a resumed sweep never mixes beats of two checkpoints); empty for the default tracker, whose task ids
    stay as they were."""
    if beat_tracker != "beat-this" and beat_this_checkpoint is not None:
        raise ConfigError(f"beat_this_checkpoint is only used with beat_tracker = 'beat-this', not {beat_tracker!r}")
    if beat_tracker == "default":
        return {}
    if beat_tracker != "beat-this":
        return {"beat_tracker": beat_tracker}
    from accbench.metrics import beat_this

    digest = beat_this.checkpoint_digest(beat_this.resolve_checkpoint(beat_this_checkpoint))
    return {"beat_tracker": beat_tracker, "beat_this_sha256": digest}


class MismatchSource:
    """Another song's reference for the ``mismatch`` baseline: the next song (sorted ids, cycling) with one."""

    def __init__(self, songs: dict[str, Song], sample_rate: int) -> None:
        self.songs = songs
        self.sample_rate = sample_rate

    def __call__(self, song_id: str) -> np.ndarray:
        candidates = sorted(name for name, song in self.songs.items() if name != song_id and song.reference is not None)
        if not candidates:
            raise ModelError("mismatch needs at least one other song with a reference", model="mismatch", song=song_id)
        following = [name for name in candidates if name > song_id]
        other = following[0] if following else candidates[0]
        loaded = self.songs[other].load(self.sample_rate)
        return loaded.reference


def instantiate(entry: ModelEntry, songs: dict[str, Song]) -> StreamingModel:
    """Load a sweep's model; ``mismatch`` gets the dataset's other songs as its source."""
    options = dict(entry.options)
    if entry.spec == "mismatch" and "accompaniments" not in options:
        probe = load_model("silence", **{key: options[key] for key in ("sample_rate", "hop") if key in options})
        options["accompaniments"] = MismatchSource(songs, probe.info.sample_rate)
    return load_model(entry.spec, **options)


def describe_model(entry: ModelEntry, songs: dict[str, Song]) -> ModelInfo:
    """Load a model once to read its :class:`ModelInfo`, then close it."""
    model = instantiate(entry, songs)
    try:
        return model.info
    finally:
        model.close()


class _WorkerState:
    def __init__(self, context: WorkerContext) -> None:
        self.context = context
        self.models: dict[int, StreamingModel] = {}
        self.loaded: dict[tuple[str, int], Any] = {}
        from accbench.metrics.cache import AnalysisCache

        self.cache = AnalysisCache(context.cache_dir)

    def model(self, index: int) -> StreamingModel:
        if index not in self.models:
            self.models[index] = instantiate(self.context.models[index], self.context.songs)
        return self.models[index]

    def song(self, song_id: str, sample_rate: int):
        key = (song_id, sample_rate)
        if key not in self.loaded:
            if len(self.loaded) >= 4:  # keep a few songs: tasks of one song tend to run together
                self.loaded.pop(next(iter(self.loaded)))
            self.loaded[key] = self.context.songs[song_id].load(sample_rate)
        return self.loaded[key]

    def close(self) -> None:
        for model in self.models.values():
            with contextlib.suppress(Exception):  # closing must not hide results already produced
                model.close()
        self.models.clear()


_STATE: _WorkerState | None = None
_ADDED_PATHS: list[str] = []


def add_import_paths(folders: tuple[str, ...] | list[str]) -> list[str]:
    """Put ``folders`` in front of ``sys.path``, in order, each once; returns those that were not there yet.

    A folder already on ``sys.path`` (``""`` counting as the working directory) is left where it is, so
    calling this again adds nothing. Undo with :func:`remove_import_paths`.
    """
    present = {os.path.abspath(entry or os.curdir) for entry in sys.path}
    added = [folder for folder in dict.fromkeys(os.path.abspath(f) for f in folders) if folder not in present]
    if added:
        sys.path[:0] = added
        importlib.invalidate_caches()  # a model file written after its folder was last scanned is found
    return added


def remove_import_paths(added: list[str]) -> None:
    """Take back the folders :func:`add_import_paths` added (modules already imported stay imported)."""
    for folder in added:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


def init_worker(context: WorkerContext) -> None:
    """Process-pool initializer: make the sweep's model folders importable, set up the model and song caches."""
    global _STATE
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _warm_up_analyzers()
    if _STATE is not None:
        _STATE.close()
    remove_import_paths(_ADDED_PATHS)
    _ADDED_PATHS[:] = add_import_paths(context.import_paths)
    _STATE = _WorkerState(context)
    atexit.register(_STATE.close)


def _warm_up_analyzers() -> None:
    """Compile librosa's numba kernels one worker at a time (before any model loads librosa): concurrent first
    compiles can corrupt numba's cache (:mod:`accbench.metrics.warmup`). A failure here is not the sweep's: the
    analyses themselves then fail per task, with their own error."""
    from accbench.metrics.warmup import warm_up

    try:
        warm_up()
    except Exception as error:
        logging.getLogger(__name__).warning("warming up the analyzers failed: %s: %s", type(error).__name__, error)


def close_worker() -> None:
    """Close the models this process loaded and take back its import folders (end of a serial run)."""
    global _STATE
    if _STATE is not None:
        _STATE.close()
        _STATE = None
    remove_import_paths(_ADDED_PATHS)
    _ADDED_PATHS.clear()


def run_in_worker(task: Task | AnalysisTask) -> TaskOutcome:
    """Run a task with the state :func:`init_worker` set up (the process-pool entry point)."""
    if _STATE is None:
        raise RuntimeError("init_worker was not called in this process")
    if isinstance(task, AnalysisTask):
        return analyse_song(task, _STATE)
    marker = Path(_STATE.context.out_dir) / INFLIGHT / f"{task.task_id}.{os.getpid()}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    try:
        return execute_task(task, _STATE)
    finally:
        marker.unlink(missing_ok=True)


def _failure(task: Task, error: BaseException) -> dict[str, Any]:
    """The failures row of ``task`` (see :func:`accbench.results.failure_row`)."""
    return failure_row(
        error,
        model=task.model_label,
        model_version=task.model_version,
        config_id=task.config_id,
        song=task.song_id,
        seed=task.seed,
    )


def analyse_song(task: AnalysisTask, state: _WorkerState) -> TaskOutcome:
    """Compute (or find cached) every analysis of a song's input and reference that scoring will need.

    Scoring a silent output runs the input, input-mix and reference-mix analyses the grid's tasks will reuse
    (the silent output's own analyses are cheap and cached too).
    """
    from accbench.metrics import score

    began = time.perf_counter()
    try:
        song = state.song(task.song_id, task.sample_rate)
        silent = np.zeros_like(song.input)
        metrics, _ = state.context.scored_metrics([metric for metric in task.metrics if metric != "timing"])
        score(
            song.input,
            silent,
            sample_rate=song.sample_rate,
            reference=song.reference,
            annotations=song.annotations,
            metrics=metrics,
            cache=state.cache,
            song=task.song_id,
            group_options=state.context.group_options(),
            **state.context.beat_options(),
        )
    except Exception as error:  # the grid's tasks of this song will fail with the same error, and record it
        return TaskOutcome(task.task_id, failure={"song": task.song_id, "error": f"{type(error).__name__}: {error}"})
    return TaskOutcome(task.task_id, seconds={"analyse": time.perf_counter() - began})


def execute_task(task: Task, state: _WorkerState) -> TaskOutcome:
    """Simulate and score one task (the single-song path, :func:`accbench.song_run.run_song`); any error
    becomes a failure outcome, never an exception."""
    context = state.context
    entry = context.models[task.model_index]
    try:
        model = state.model(task.model_index)
        info = model.info
        song = state.song(task.song_id, info.sample_rate)
        metrics, skipped = context.scored_metrics()
        run = run_song(
            model,
            song,
            task.config,
            song_id=task.song_id,
            metrics=metrics,
            cache=state.cache,
            embedding=context.embedding_options() if "embedding" in context.metrics else None,
            group_options=context.group_options(),
            **context.beat_options(),
        )
        seconds = dict(run.seconds)
        began = time.perf_counter()
        _write_outputs(context, task, run, song, state.cache)
        seconds["write"] = time.perf_counter() - began
    except Exception as error:  # data, config and a model's own bugs alike: one task fails, the sweep goes on
        return TaskOutcome(task.task_id, failure=_failure(task, error))
    row = results_row(
        model=task.model_label,
        model_spec=entry.spec,
        baseline=entry.spec in BUILTIN_MODELS,
        song=task.song_id,
        seed=task.seed,
        config=task.config,
        info=info,
        summary=run.result.summary,
        scores=with_skipped(run.scores.to_dict(), skipped),
        task_id=task.task_id,
    )
    return TaskOutcome(task.task_id, row=row, seconds=seconds)


def _keeps_audio(context: WorkerContext, song_id: str) -> bool:
    """Whether the song's audio is written: every song (``"all"``), or the first ``EXAMPLE_SONGS`` by sorted id."""
    from accbench.config import EXAMPLE_SONGS, write_audio_mode

    mode = write_audio_mode(context.write_audio)  # booleans (older callers) read as "all"/"none"
    return mode == "all" or (mode == "examples" and song_id in sorted(context.songs)[:EXAMPLE_SONGS])


def _write_outputs(context: WorkerContext, task: Task, run: Any, song: Any, cache: Any) -> None:
    """The task's output audio (16-bit FLAC) and set-metric embeddings, and the song's input once per run.

    Audio is written as ``audio/<model>/<config_id>/<song>.flac`` for the songs :func:`_keeps_audio` keeps; an
    all-zero output is not written, a 0-byte ``<song>.silent`` marker says so. Samples beyond [-1, 1] are
    clipped (a warning names the count; scores use the float output). With the embedding metrics, the window
    embeddings of the float output mix and reference mix (what the workers scored, not the quantised file) go
    to ``embeddings/<model>/<config_id>/<song>.npz`` for :func:`accbench.set_metrics.frechet_per_config`,
    whatever ``write_audio`` says. All writes are atomic.
    """
    result, out = run.result, Path(context.out_dir)
    if "embedding" in context.metrics:
        _write_embeddings(context, task, run, cache)
    if not _keeps_audio(context, task.song_id):
        return
    folder = out / "audio" / task.model_label / task.config_id
    if not np.any(result.output):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{task.song_id}.silent").touch()
    else:
        clipped = write_audio_atomic(folder / f"{task.song_id}.flac", result.output, result.sample_rate, "PCM_16")
        if clipped:
            logging.getLogger(__name__).warning(
                "%s %s %s: %d output samples beyond [-1, 1] clipped in the written 16-bit audio",
                task.model_label,
                task.config_id,
                task.song_id,
                clipped,
            )
    inputs = out / "audio" / "inputs" / f"{task.song_id}.flac"
    if not inputs.exists():
        write_audio_atomic(inputs, song.input, song.sample_rate, "PCM_16")


def _write_embeddings(context: WorkerContext, task: Task, run: Any, cache: Any) -> None:
    """The float output's window embeddings (output mix, reference mix) as ``embeddings/.../<song>.npz``."""
    from accbench.atomic import atomic_path
    from accbench.metrics.embedding import mix_window_embeddings

    prepared = run.song
    if prepared.reference is None:
        return
    generated, reference = mix_window_embeddings(
        prepared.input,
        run.result.output,
        run.result.sample_rate,
        reference=prepared.reference,
        cache=cache,
        song=task.song_id,
        **context.embedding_options(),
    )
    path = Path(context.out_dir) / "embeddings" / task.model_label / task.config_id / f"{task.song_id}.npz"
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, generated=generated, reference=reference)
