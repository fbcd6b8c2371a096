"""The sweep runner: the (model x config x song x seed) grid, resumable, on any executor.

:func:`sweep` is what ``accbench run`` calls. It runs in three stages: *plan* (read the config, read each
model's info once and expand its grid, load the dataset, make the tasks with deterministic ids, skip tasks a
previous (killed) run of the same sweep already finished), *run* (the rest, on an executor) and *write*,
in the output folder. A model that does not load or a grid value that is not whole frames of a model's hop
is a :class:`~accbench.errors.ConfigError` raised before the output folder is created. Model specs are
imported from the config file's folder and the working directory too (:func:`import_folders`, in the
driver and, through the :class:`~accbench.tasks.WorkerContext`, in every worker). The run writes:

- ``results.parquet`` (or ``.csv``): one row per (model, model version, config, song, seed), columns as
  :mod:`accbench.results` defines them;
- ``failures.csv``: one row per failed task (model, config, song, seed, error, call, traceback);
- ``manifest.json``: accbench and package versions, the config, models and versions, seeds, song content
  hashes, metric versions, machine, start and end times, and the sweep's fingerprint;
- ``journal.jsonl``: the driver's append-only log of finished tasks (fsynced line by line), from which a
  rerun resumes; ``audio/<model>/<config_id>/<song>.flac``: the outputs (16-bit; by default only a few example
  songs, ``write_audio``; an all-zero output is a ``<song>.silent`` marker); ``embeddings/<model>/<config_id>/
  <song>.npz``: the window embeddings set metrics pool, when embeddings are scored; ``.inflight/`` while tasks run
  (see :data:`accbench.tasks.INFLIGHT`), removed when the run finishes.

The driver is the only writer of these files; all of them except the journal are replaced atomically.
A rerun with a changed config, model version or data is refused instead of being mixed into old results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import platform
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accbench.api import to_frames
from accbench.atomic import atomic_path, atomic_write_text
from accbench.checkpoint_files import SweepFiles, sweep_files
from accbench.config import SweepConfig, load_sweep_config
from accbench.datasets import Song, load_dataset
from accbench.errors import AccbenchError, ConfigError
from accbench.executors import Executor, make_executor
from accbench.protocol import ModelInfo
from accbench.results import (
    FAILURE_COLUMNS,
    Run,
    config_id,
    failure_row,
    failures_frame,
    results_frame,
    write_table,
)
from accbench.simulators import SimulationConfig
from accbench.tasks import (
    INFLIGHT,
    AnalysisTask,
    Task,
    TaskOutcome,
    WorkerContext,
    add_import_paths,
    describe_model,
    remove_import_paths,
    task_id,
)

__all__ = ["FAILURE_COLUMNS", "Run", "sweep"]

log = logging.getLogger(__name__)


def _grid_configs(sweep_config: SweepConfig, info: ModelInfo, seed: int) -> list[SimulationConfig]:
    grid = sweep_config.grid
    configs = []
    combos = itertools.product(
        grid.future_visibility,
        grid.chunk_frames,
        grid.latency,
        grid.input_latency_ms,
        grid.output_latency_ms,
        grid.on_miss,
    )
    for future, chunk, latency, input_ms, output_ms, on_miss in combos:
        future_frames = to_frames(future, "grid.future_visibility", info)
        chunk_frames = to_frames(chunk, "grid.chunk_frames", info)
        if on_miss == "auto":
            on_miss = "ignore" if future_frames > 0 else "truncate"
        configs.append(
            SimulationConfig(
                future_frames, chunk_frames, latency, input_ms, output_ms, on_miss, seed, sweep_config.lenient
            )
        )
    return list(dict.fromkeys(configs))


def _metric_versions() -> dict[str, str]:
    """Versions of every analyzer whose output the metrics depend on (a change invalidates comparisons)."""
    from accbench.metrics import analysis

    return {str(key): str(value) for key, value in sorted(analysis.ANALYZER_VERSIONS.items())}


def _machine() -> dict[str, Any]:
    import scipy

    packages = {"numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__}
    try:
        import librosa

        packages["librosa"] = librosa.__version__
    except ImportError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "packages": packages,
    }


class _Journal:
    """Append-only JSON-lines log of finished tasks; each line is flushed and fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return entries
        lines = self.path.read_bytes().split(b"\n")
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                if number < len(lines) - 1:
                    log.warning("%s: skipping unreadable line %d", self.path, number + 1)
                continue  # the last line of a killed run may be cut short; that task simply runs again
            entries[entry["task_id"]] = entry
        return entries

    def repair(self) -> None:
        """Cut a partial last line left by a kill, so new lines start on a line of their own."""
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data[: data.rfind(b"\n") + 1]
            with atomic_path(self.path) as temporary:
                temporary.write_bytes(keep)

    def append(self, outcome: TaskOutcome) -> None:
        entry = {"task_id": outcome.task_id}
        if outcome.row is not None:
            entry["row"] = outcome.row
        else:
            entry["failure"] = outcome.failure
        line = json.dumps(entry, default=_json_default) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: Config keys that do not change what a task computes: the output folder; the COCOLA and Beat This checkpoints
#: (their digests are in the task ids, so a file supplied later re-scores the tasks); what is computed after them.
_NOT_FINGERPRINTED = ("out", "cocola_checkpoint", "beat_this_checkpoint", "vggish_weights", "vggish_fad", "paper_table")


def _fingerprint(config: SweepConfig, infos: Mapping[str, ModelInfo], song_hashes: Mapping[str, str]) -> str:
    from accbench import __version__

    payload = {
        "config": {key: value for key, value in config.to_dict().items() if key not in _NOT_FINGERPRINTED},
        "models": {label: [info.name, info.version] for label, info in sorted(infos.items())},
        "songs": dict(sorted(song_hashes.items())),
        "accbench": __version__,
        "metric_versions": _metric_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _prepare_out_dir(out_dir: Path, fingerprint: str, overwrite: bool) -> None:
    manifest_path = out_dir / "manifest.json"
    if not manifest_path.is_file():
        return
    try:
        previous = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, OSError):
        previous = {}
    if previous.get("fingerprint") == fingerprint:
        return
    if not overwrite:
        raise ConfigError(
            f"{out_dir} holds results of a different sweep (config, model versions, data or accbench changed); "
            "choose another output folder or pass --overwrite to replace them"
        )
    log.info("replacing the results of a different sweep in %s", out_dir)
    stale = ("set_metrics.csv", "vggish_fad_songs.csv", "paper_table.md", "paper_table.csv")
    for name in ("journal.jsonl", "results.parquet", "results.csv", "failures.csv", "manifest.json", *stale):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "audio", ignore_errors=True)


def sweep(
    config: str | os.PathLike | Mapping[str, Any] | SweepConfig | None = None,
    *,
    out: str | os.PathLike | None = None,
    executor: str | Executor = "local",
    workers: int | None = None,
    address: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    retry_failed: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> Run:
    """Run a sweep (or finish an interrupted one): plan the tasks, run those left to do, write the results.

    Parameters
    ----------
    config : path, dict, SweepConfig or None
        A TOML file, a dict of the same shape, or ``None`` for the default sweep (demo set, baselines).
        Model specs are imported from the file's folder and the working directory as well (during the sweep).
    out : path, optional
        Output folder; overrides the config's ``out``.
    executor : {"local", "serial", "ray"} or Executor
    workers : int, optional
        Worker processes (local; default: the number of cores) or actors per model (ray).
    address : str, optional
        Ray cluster address (``"auto"`` to join a running cluster).
    cache_dir : path, optional
        Analysis cache folder; default ``$ACCBENCH_CACHE`` or ``~/.cache/accbench``.
    retry_failed : bool
        Run again the tasks that failed in an earlier run of this sweep.
    overwrite : bool
        Replace the results of a *different* sweep found in ``out``.
    progress : bool
        Show a progress bar with ETA.

    Returns
    -------
    Run

    Raises
    ------
    ConfigError
        A bad config, a model that does not load, a grid value that is not whole frames of a model's hop,
        or an output folder holding a different sweep; raised before anything is written.
    """
    sweep_config = load_sweep_config(config)
    out_dir = Path(out if out is not None else sweep_config.out)
    if cache_dir is None:
        from accbench.metrics.cache import default_cache_dir

        cache_dir = default_cache_dir() / "analysis"
    runner = executor if isinstance(executor, Executor) else make_executor(executor, workers, address)
    folders = import_folders(sweep_config)
    added = add_import_paths(folders)
    try:
        plan = _plan(sweep_config, out_dir, retry_failed=retry_failed, overwrite=overwrite)
        context = _worker_context(plan, Path(cache_dir), folders)
        seconds = _run_tasks(plan, context, runner, progress=progress)
    finally:
        remove_import_paths(added)
    shutil.rmtree(out_dir / INFLIGHT, ignore_errors=True)  # markers of running tasks: none are left now
    return _write_results(plan, context, seconds)


def _worker_context(plan: _Plan, cache_dir: Path, folders: tuple[str, ...]) -> WorkerContext:
    """What every worker of the planned sweep needs (sent once per worker)."""
    config = plan.config
    return WorkerContext(
        models=config.models,
        songs=plan.songs,
        metrics=config.metrics,
        out_dir=str(plan.out_dir),
        cache_dir=str(cache_dir),
        write_audio=config.write_audio,
        embedder=config.embedder,
        embedder_options=dict(config.embedder_options),
        import_paths=folders,
        beat_tracker=config.beat_tracker,
        beat_this_checkpoint=plan.files.beat_this,
        cocola_checkpoint=plan.files.cocola,
        missing=dict(plan.files.missing),
    )


def import_folders(config: SweepConfig) -> tuple[str, ...]:
    """Where a sweep's model specs are imported from, first to last: the config file's folder, the working
    directory (absolute paths; as pytest puts its rootdir on ``sys.path``)."""
    folders = []
    if config.source and Path(config.source).is_file():
        folders.append(str(Path(config.source).resolve().parent))
    folders.append(os.path.abspath(os.curdir))
    return tuple(dict.fromkeys(folders))


@dataclass
class _Plan:
    """What a sweep does: its tasks, those an earlier run of it finished, and what is known before running.

    ``failures`` are the failures found while planning (songs the dataset skipped, models that did not load);
    ``finished`` maps task ids to journal entries (``{"row": ...}`` or ``{"failure": ...}``) and grows as
    tasks finish.
    """

    config: SweepConfig
    out_dir: Path
    songs: dict[str, Song]
    infos: dict[str, ModelInfo]
    tasks: list[Task]
    todo: list[Task]
    finished: dict[str, dict[str, Any]]
    failures: list[dict[str, Any]]
    journal: _Journal
    manifest: dict[str, Any]
    files: SweepFiles = field(default_factory=SweepFiles)


def _plan(sweep_config: SweepConfig, out_dir: Path, *, retry_failed: bool, overwrite: bool) -> _Plan:
    """Stage 1: check the models and the grid, load the songs, expand the tasks, read the journal and write the
    first manifest. Nothing is created in ``out_dir`` before the models, the grid and the data are known to be
    good: a bad config is an error (:class:`ConfigError`), not a run with failures."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    files = sweep_files(sweep_config)  # the one message about missing checkpoint files, before anything runs
    if files.missing:
        log.warning("%s", files.message())
    infos, configs = _model_configs(sweep_config)
    dataset = load_dataset(
        sweep_config.dataset.spec, on_error=sweep_config.dataset.on_error, **sweep_config.dataset.options
    )
    songs = {song.song_id: song for song in dataset}
    if not songs:
        raise AccbenchError(f"dataset {sweep_config.dataset.spec!r} has no usable songs")
    song_hashes = {song_id: song.content_hash() for song_id, song in songs.items()}
    failures = [
        failure_row(f"DataError: song skipped: {reason}", song=song_id)
        for song_id, reason in getattr(dataset, "skipped", [])
    ]
    tasks = _expand_tasks(sweep_config, infos, configs, song_hashes, files.identity)

    fingerprint = _fingerprint(sweep_config, infos, song_hashes)
    _prepare_out_dir(out_dir, fingerprint, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = _Journal(out_dir / "journal.jsonl")
    journal.repair()
    finished = journal.read()
    if retry_failed:
        finished = {key: entry for key, entry in finished.items() if "row" in entry}
    todo = [task for task in tasks if task.task_id not in finished]
    manifest = _manifest(sweep_config, infos, song_hashes, fingerprint, started, dataset, out_dir)
    manifest["missing_files"] = dict(files.missing)
    atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    per_model = [len(per_seed[0][1]) for _, per_seed in configs.values()]  # configs of one seed, by model
    log.info(
        "%s; %d already done, %d to run",
        describe_grid(len(tasks), per_model, len(songs), len(sweep_config.seeds)),
        len(tasks) - len(todo),
        len(todo),
    )
    return _Plan(sweep_config, out_dir, songs, infos, tasks, todo, finished, failures, journal, manifest, files)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def describe_grid(tasks: int, configs_per_model: list[int], songs: int, seeds: int) -> str:
    """``"160 tasks (5 models x 8 configs x 4 songs x 1 seed)"``.

    Models whose grids differ in size (durations that round to the same frames at one hop and not at
    another) show the range: ``"8-12 configs"``.
    """
    low, high = min(configs_per_model, default=0), max(configs_per_model, default=0)
    configs = _plural(low, "config") if low == high else f"{low}-{high} configs"
    parts = [_plural(len(configs_per_model), "model"), configs, _plural(songs, "song"), _plural(seeds, "seed")]
    return f"{_plural(tasks, 'task')} ({' x '.join(parts)})"


ModelConfigs = dict[str, tuple[int, list[tuple[int, list[SimulationConfig]]]]]


def _model_configs(sweep_config: SweepConfig) -> tuple[dict[str, ModelInfo], ModelConfigs]:
    """Each model's info (loaded once) and, by label, its index and ``(seed, configs)`` of the grid.

    Raises
    ------
    ConfigError
        A model that does not load, a grid value that is not whole frames of a model's hop, two models with
        the same label: the message names the config file, the model and the key.
    """
    where = f"{sweep_config.source}: " if sweep_config.source else ""
    infos: dict[str, ModelInfo] = {}
    configs: ModelConfigs = {}
    for index, entry in enumerate(sweep_config.models):
        try:
            info = describe_model(entry, {})  # the songs are only read when a model runs (mismatch)
        except AccbenchError as error:
            raise ConfigError(f"{where}models[{index}]: {error}") from error
        label = entry.name or info.name
        if label in infos:
            raise ConfigError(f"{where}two models are labelled {label!r}; give them distinct names in the config")
        try:
            per_seed = [(seed, _grid_configs(sweep_config, info, seed)) for seed in sweep_config.seeds]
        except ConfigError as error:  # the message names the key, the value and the model's frame length
            raise ConfigError(f"{where}model {label!r}: {error}") from error
        infos[label] = info
        configs[label] = (index, per_seed)
    return infos, configs


def _expand_tasks(
    sweep_config: SweepConfig,
    infos: Mapping[str, ModelInfo],
    configs: ModelConfigs,
    song_hashes: Mapping[str, str],
    tracker: Mapping[str, str],
) -> list[Task]:
    """The grid's tasks (model x config x song x seed), sorted by song, with their deterministic ids (``tracker``:
    the beat tracker's and checkpoints' entries, :attr:`accbench.checkpoint_files.SweepFiles.identity`)."""
    tasks: list[Task] = []
    for label, (index, per_seed) in configs.items():
        entry, info = sweep_config.models[index], infos[label]
        for seed, seed_configs in per_seed:
            for simulation_config in seed_configs:
                for song_id, song_hash in song_hashes.items():
                    identity = {
                        "model": label,
                        "spec": entry.spec,
                        "options": entry.options,
                        "version": info.version,
                        "config": repr(simulation_config),
                        "song": song_id,
                        "song_hash": song_hash,
                        "seed": seed,
                        "metrics": list(sweep_config.metrics),
                        "embedder": sweep_config.embedder,
                        **tracker,
                    }
                    cid = config_id(simulation_config)
                    task = Task(task_id(identity), index, label, info.version, simulation_config, cid, song_id, seed)
                    tasks.append(task)
    tasks.sort(key=lambda task: (task.song_id, task.model_index, task.config_id, task.seed))
    return tasks


def _run_tasks(plan: _Plan, context: WorkerContext, runner: Executor, *, progress: bool) -> dict[str, float]:
    """Stage 2: analyse the songs once, then run the tasks left to do, journalling each as it finishes.

    Returns the worker seconds spent per phase (``analyse``, ``simulate``, ``write``, ``score``).
    """
    seconds: dict[str, float] = {}
    if not plan.todo:
        return seconds
    from tqdm.auto import tqdm

    def record_analysis(outcome: TaskOutcome) -> None:
        seconds["analyse"] = seconds.get("analyse", 0.0) + outcome.seconds.get("analyse", 0.0)
        if outcome.failure is not None:
            log.warning("analysis of song %s failed: %s", outcome.failure["song"], outcome.failure["error"])

    with (
        tqdm(
            total=len(plan.tasks),
            initial=len(plan.tasks) - len(plan.todo),
            disable=not progress,
            unit="task",
            desc="accbench run",
            dynamic_ncols=True,
        ) as bar,
        _logs_above(bar, progress),
    ):

        def record(outcome: TaskOutcome) -> None:
            seconds.update({key: seconds.get(key, 0.0) + value for key, value in outcome.seconds.items()})
            plan.journal.append(outcome)
            plan.finished[outcome.task_id] = (
                {"row": outcome.row} if outcome.row is not None else {"failure": outcome.failure}
            )
            if outcome.failure is not None:
                log.warning(
                    "failed: %s / %s / %s: %s",
                    outcome.failure["model"],
                    outcome.failure["config_id"],
                    outcome.failure["song"],
                    outcome.failure["error"],
                )
            bar.update(1)

        analyses = _analysis_tasks(plan.todo, plan.infos, plan.config)
        try:
            if analyses:
                log.info("analysing the input and reference of %d song(s) once", len(analyses))
                runner.run(analyses, context, record_analysis)
            runner.run(plan.todo, context, record)
        finally:
            runner.close()
    return seconds


def _logs_above(bar: Any, progress: bool) -> contextlib.AbstractContextManager[Any]:
    """While the progress ``bar`` is shown, log records print above it (``tqdm.write``), not onto its line."""
    if not progress:
        return contextlib.nullcontext()
    from tqdm.contrib.logging import logging_redirect_tqdm

    return logging_redirect_tqdm(tqdm_class=type(bar))


def _write_results(plan: _Plan, context: WorkerContext, seconds: Mapping[str, float]) -> Run:
    """Stage 3: write the results, failures and set-metrics tables and the final manifest."""
    wanted = {task.task_id for task in plan.tasks}
    entries = [entry for key, entry in plan.finished.items() if key in wanted]
    rows = [entry["row"] for entry in entries if "row" in entry]
    results = results_frame(rows)
    failures = failures_frame(plan.failures + [entry["failure"] for entry in entries if "failure" in entry])
    write_table(results, plan.out_dir / _results_name(plan.config))
    write_table(failures, plan.out_dir / "failures.csv")
    set_metrics = pd.DataFrame()
    if "embedding" in plan.config.metrics:  # from the embeddings every task saved, whatever write_audio keeps
        from accbench.set_metrics import frechet_per_config

        set_metrics = frechet_per_config(
            results, plan.songs, plan.out_dir, embedding=context.embedding_options(), cache_dir=context.cache_dir
        )
        write_table(set_metrics, plan.out_dir / "set_metrics.csv")
    set_metrics = _paper_outputs(plan, context, results, set_metrics)
    manifest = plan.manifest
    manifest["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest["tasks"] = {"total": len(plan.tasks), "succeeded": len(rows), "failed": len(failures)}
    manifest["worker_seconds"] = {key: round(value, 3) for key, value in sorted(seconds.items())}
    atomic_write_text(plan.out_dir / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    log.info("%d rows, %d failures -> %s", len(results), len(failures), plan.out_dir)
    return Run(results, failures, plan.out_dir, manifest, set_metrics)


def _paper_outputs(
    plan: _Plan, context: WorkerContext, results: pd.DataFrame, set_metrics: pd.DataFrame
) -> pd.DataFrame:
    """The seed paper's set metric and table: the VGGish FAD per (model, config, seed) merged into
    ``set_metrics.csv`` (per-song FAD in ``vggish_fad_songs.csv``) when asked for and the weights are there, and
    ``paper_table.md``/``.csv`` when ``paper_table`` is on. Returns the set metrics."""
    files = plan.files
    if files.vggish_fad and files.vggish is not None:
        from accbench.set_metrics import merge_set_metrics, vggish_fad_per_config

        per_config, per_song = vggish_fad_per_config(
            results, plan.songs, plan.out_dir, weights=files.vggish, cache_dir=context.cache_dir
        )
        set_metrics = merge_set_metrics(results, set_metrics, per_config)
        write_table(set_metrics, plan.out_dir / "set_metrics.csv")
        write_table(per_song, plan.out_dir / "vggish_fad_songs.csv")
    if plan.config.paper_table:
        from accbench.reports.paper_table import write_paper_table

        notes = {name: f"skipped: {reason}" for name, reason in files.missing.items()}
        if not files.vggish_fad:
            notes["vggish"] = "not computed: the sweep does not ask for it (vggish_fad)"
        write_paper_table(results, set_metrics, plan.out_dir, notes=notes)
    return set_metrics


def _results_name(config: SweepConfig) -> str:
    """``results.parquet`` or ``results.csv``, as the config's ``results_format`` says."""
    return f"results.{'parquet' if config.results_format == 'parquet' else 'csv'}"


def _analysis_tasks(todo: list[Task], infos: Mapping[str, ModelInfo], config: SweepConfig) -> list[AnalysisTask]:
    """One analysis task per (song, model sample rate) among the tasks still to run."""
    needed = sorted({(task.song_id, infos[task.model_label].sample_rate) for task in todo})
    metrics = tuple(metric for metric in config.metrics if metric != "timing")
    if not metrics:
        return []
    return [
        AnalysisTask(f"analyse:{song_id}:{sample_rate}", song_id, sample_rate, metrics)
        for song_id, sample_rate in needed
    ]


def _manifest(
    config: SweepConfig,
    infos: Mapping[str, ModelInfo],
    song_hashes: Mapping[str, str],
    fingerprint: str,
    started: str,
    dataset: Any,
    out_dir: Path,
) -> dict[str, Any]:
    from accbench import __version__

    return {
        "accbench_version": __version__,
        "created": started,
        "finished": None,
        "fingerprint": fingerprint,
        "config": config.to_dict(),
        "config_source": config.source,
        "models": [
            {
                "name": label,
                "model_name": info.name,
                "version": info.version,
                "causal": info.causal,
                "sample_rate": info.sample_rate,
                "hop": info.hop,
            }
            for label, info in infos.items()
        ],
        "seeds": list(config.seeds),
        "dataset": {
            "spec": config.dataset.spec,
            "options": config.dataset.options,
            "name": getattr(dataset, "name", config.dataset.spec),
            "skipped": [list(item) for item in getattr(dataset, "skipped", [])],
        },
        "songs": dict(song_hashes),
        "metric_versions": _metric_versions(),
        "machine": _machine(),
        "results": _results_name(config),
    }
