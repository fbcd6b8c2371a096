"""A newcomer's sweep: a model file next to the config, errors before anything is created, the log line,
``-q``, log lines above the progress bar, no leftovers in a finished run folder."""

from __future__ import annotations

import logging
import os
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile

from accbench.cli import main
from accbench.runner import describe_grid, sweep
from accbench.tasks import WorkerContext, close_worker, init_worker

SR = 22050

MODEL_SOURCE = '''
import numpy as np
from accbench import ModelInfo


class Echo:
    """Plays the newly visible input back (or raises at call 2, with fail=True)."""

    def __init__(self, fail=False):
        self.info = ModelInfo("echo", "1", 22050, 441)
        self.fail = fail

    def reset(self, session):
        pass

    def step(self, new_input, ctx):
        if self.fail and ctx.index == 2:
            raise RuntimeError("deliberate failure")
        head = new_input[:1, : ctx.chunk_frames * ctx.hop]  # float32 in, float32 out
        return np.pad(head, ((0, 0), (0, ctx.chunk_frames * ctx.hop - head.shape[1])))

    def close(self):
        pass


def make(fail=False):
    return Echo(fail)
'''


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def one_song(tmp_path_factory) -> Path:
    """A dataset folder with one 1-second song (a sine as input, another as reference)."""
    root = tmp_path_factory.mktemp("one_song")
    folder = root / "song0"
    folder.mkdir()
    t = np.arange(SR) / SR
    soundfile.write(folder / "input.wav", 0.3 * np.sin(2 * np.pi * 440 * t), SR, subtype="FLOAT")
    soundfile.write(folder / "reference.wav", 0.3 * np.sin(2 * np.pi * 220 * t), SR, subtype="FLOAT")
    return root


@pytest.fixture
def model_module():
    """A fresh module name for a model file (so no earlier import of it is reused); forgotten afterwards."""
    name = f"usermodel_{uuid.uuid4().hex[:8]}"
    yield name
    sys.modules.pop(name, None)


ONE_CONFIG = "future_visibility = [0]\nchunk_frames = [2]"


def write_sweep(folder: Path, dataset: Path, models: str, grid: str = ONE_CONFIG) -> Path:
    """A small sweep TOML in ``folder``: timing metrics only, CSV results, the given models and grid."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.toml"
    path.write_text(
        f'results_format = "csv"\nmetrics = ["timing"]\n[dataset]\nspec = "folder:{dataset}"\n'
        f"{models}\n[grid]\n{grid}\n"
    )
    return path


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_a_model_file_next_to_the_config_loads_without_pythonpath(
    executor, one_song, model_module, tmp_path, monkeypatch
):
    project = tmp_path / "project"
    project.mkdir()
    (project / f"{model_module}.py").write_text(MODEL_SOURCE)
    path = write_sweep(project, one_song, f'[[models]]\nspec = "{model_module}:make"')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    before = list(sys.path)
    run = sweep(path, out=tmp_path / "out", executor=executor, workers=1, progress=False)
    assert run.ok and len(run.results) == 1 and list(run.results["model"]) == ["echo"]
    assert sys.path == before  # the folders were on sys.path for the sweep only
    assert not (tmp_path / "out" / ".inflight").exists()


def test_a_model_file_in_the_working_directory_loads(one_song, model_module, tmp_path, monkeypatch):
    (tmp_path / f"{model_module}.py").write_text(MODEL_SOURCE)
    path = write_sweep(tmp_path / "configs", one_song, f'[[models]]\nspec = "{model_module}:make"')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", os.getcwd())])
    run = sweep(path, out=tmp_path / "out", executor="serial", progress=False)
    assert run.ok and len(run.results) == 1


def test_workers_put_the_import_folders_on_sys_path_once(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    context = WorkerContext(
        models=(), songs={}, metrics=("timing",), out_dir=str(tmp_path), cache_dir=None, write_audio=False,
        import_paths=(first, second, first),
    )  # fmt: skip
    before = list(sys.path)
    try:
        init_worker(context)
        init_worker(context)  # a second initialisation adds nothing
        assert sys.path[:2] == [first, second] and sys.path.count(first) == 1
    finally:
        close_worker()
    assert sys.path == before


def run_cli(capsys, *args: str) -> tuple[int, str]:
    """``accbench run ARGS`` in this process: its exit status and what it printed on stderr."""
    status = main(["run", *args, "--executor", "serial"])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("models", "grid", "expected"),
    [
        ('[[models]]\nspec = "folower"', ONE_CONFIG, ["models[0]: model 'folower': unknown model 'folower'"]),
        (
            '[[models]]\nspec = "silence"',
            'future_visibility = ["7ms"]\nchunk_frames = [2]',
            ["model 'silence': grid.future_visibility", "not a whole number of frames"],
        ),
        (
            '[[models]]\nspec = "silence"',
            'future_visibility = [0]\nchunk_frames = ["30ms"]',
            ["model 'silence': grid.chunk_frames", "not a whole number of frames"],
        ),
    ],
    ids=["unknown-model", "t_f-not-whole-frames", "k-not-whole-frames"],
)
def test_bad_models_and_grids_exit_2_before_anything_is_created(one_song, tmp_path, capsys, models, grid, expected):
    path = write_sweep(tmp_path, one_song, models, grid)
    out = tmp_path / "out"
    status, err = run_cli(capsys, "--config", str(path), "--out", str(out), "-q")
    assert status == 2 and not out.exists()
    line = err.strip()
    assert line.startswith("accbench run: error: ") and "\n" not in line and str(path) in line
    for text in expected:
        assert text in line


def test_the_log_line_counts_models_configs_songs_and_seeds(one_song, tmp_path, caplog):
    assert describe_grid(160, [8] * 5, 4, 1) == "160 tasks (5 models x 8 configs x 4 songs x 1 seed)"
    assert describe_grid(1, [1], 1, 2) == "1 task (1 model x 1 config x 1 song x 2 seeds)"
    # 40 ms is 2 frames of a 441-sample hop (the same config as t_f = 2) but 1 frame of an 882-sample hop.
    data = {
        "dataset": {"spec": f"folder:{one_song}"},
        "models": [
            {"spec": "silence", "name": "fine"},
            {"spec": "silence", "name": "coarse", "options": {"hop": 882}},
        ],
        "grid": {"future_visibility": [2, "40ms"], "chunk_frames": [2]},
        "metrics": ["timing"],
        "results_format": "csv",
        "write_audio": False,
    }
    with caplog.at_level(logging.INFO, logger="accbench.runner"):
        run = sweep(data, out=tmp_path / "out", executor="serial", progress=False)
    assert len(run.results) == 3
    assert "3 tasks (2 models x 1-2 configs x 1 song x 1 seed); 0 already done, 3 to run" in caplog.text


def test_quiet_hides_info_lines(one_song, tmp_path, capsys, caplog):
    path = write_sweep(tmp_path, one_song, '[[models]]\nspec = "silence"')
    levels = {name: logging.getLogger(name).level for name in ("accbench", "metrics")}
    status, err = run_cli(capsys, "--config", str(path), "--out", str(tmp_path / "quiet"), "-q")
    assert status == 0 and "INFO" not in err
    assert not [record for record in caplog.records if record.levelno < logging.WARNING]
    caplog.clear()
    status, _ = run_cli(capsys, "--config", str(path), "--out", str(tmp_path / "loud"))
    assert status == 0
    assert any("1 task (1 model x 1 config" in record.getMessage() for record in caplog.records)
    assert {name: logging.getLogger(name).level for name in levels} == levels  # restored after the command


def test_log_records_print_above_the_progress_bar(one_song, model_module, tmp_path, monkeypatch):
    import tqdm.std

    (tmp_path / f"{model_module}.py").write_text(MODEL_SOURCE)
    path = write_sweep(tmp_path, one_song, f'[[models]]\nspec = "{model_module}:make"\noptions = {{ fail = true }}')
    written: list[str] = []
    monkeypatch.setattr(tqdm.std.tqdm, "write", classmethod(lambda cls, text, **kwargs: written.append(text)))
    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(handler)
    try:
        run = sweep(path, out=tmp_path / "out", executor="serial", progress=True)
    finally:
        logging.getLogger().removeHandler(handler)
    assert len(run.failures) == 1
    assert any("failed: echo" in text and "deliberate failure" in text for text in written)


def test_a_finished_sweep_removes_stale_inflight_markers(one_song, tmp_path):
    path = write_sweep(tmp_path, one_song, '[[models]]\nspec = "silence"')
    out = tmp_path / "out"
    assert sweep(path, out=out, executor="serial", progress=False).ok
    assert not (out / ".inflight").exists()
    (out / ".inflight").mkdir()
    (out / ".inflight" / "0123456789abcdef0123.4242").touch()  # left by a killed run
    assert sweep(path, out=out, executor="serial", progress=False).ok  # nothing left to run
    assert not (out / ".inflight").exists()
