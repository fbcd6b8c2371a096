"""The sweep runner: rows, resume after a kill, refusal to mix sweeps, failures, crashes, analyses once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from accbench import ConfigError
from accbench.cli import main
from accbench.config import load_sweep_config
from accbench.metrics import cache as cache_module
from accbench.results import ROW_COLUMNS
from accbench.runner import sweep
from accbench.synth import render_notes

TESTS = Path(__file__).parent
SR = 22050


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """Three 4-second songs: a melody as input, held triads as reference, with beats and chords."""
    root = tmp_path_factory.mktemp("tiny")
    roots = [(60, "C:maj", (60, 64, 67)), (57, "A:min", (57, 60, 64)), (55, "G:maj", (55, 59, 62))]
    for index, (tonic, label, triad) in enumerate(roots):
        folder = root / f"song{index}"
        folder.mkdir()
        beat = 0.5
        onsets = np.arange(8) * beat
        melody = render_notes(
            onsets, np.full(8, beat * 0.9), [tonic + 12 + (2 * i) % 7 for i in range(8)], SR, n_samples=4 * SR
        )
        chords = sum(render_notes([0.0, 2.0], [2.0, 2.0], [p, p], SR, n_samples=4 * SR) for p in triad)
        soundfile.write(folder / "input.wav", melody, SR, subtype="FLOAT")
        soundfile.write(folder / "reference.wav", chords * 0.3, SR, subtype="FLOAT")
        (folder / "beats.txt").write_text("\n".join(f"{t:.3f}" for t in onsets) + "\n")
        (folder / "chords.lab").write_text(f"0.000\t4.000\t{label}\n")
    return root


def config(dataset, **overrides):
    data = {
        "dataset": {"spec": f"folder:{dataset}"},
        "models": [{"spec": "oracle-delayed"}, {"spec": "silence"}],
        "grid": {"future_visibility": [-5, 0], "chunk_frames": [2], "latency": ["fixed:5ms"]},
        "metrics": ["beat", "harmony", "timing"],
        "results_format": "csv",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))


def test_config_errors_name_the_key_path(tiny_dataset):
    with pytest.raises(ConfigError, match=r"grid\.chunk_frame: unknown key"):
        load_sweep_config(config(tiny_dataset, grid={"future_visibility": [0], "chunk_frame": [1]}))
    with pytest.raises(ConfigError, match=r"grid\.latency: .*invalid latency spec 'soon'"):
        load_sweep_config(
            config(tiny_dataset, grid={"future_visibility": [0], "chunk_frames": [1], "latency": ["soon"]})
        )
    with pytest.raises(ConfigError, match=r"models\[1\]\.spec: required"):
        load_sweep_config(config(tiny_dataset, models=[{"spec": "silence"}, {"options": {}}]))
    with pytest.raises(ConfigError, match=r"metrics: unknown metric group 'vibes'"):
        load_sweep_config(config(tiny_dataset, metrics=["vibes"]))
    with pytest.raises(ConfigError, match="seeds"):
        load_sweep_config(config(tiny_dataset, seeds=[1, 1]))


def test_shipped_example_configs_are_valid():
    examples = sorted((TESTS.parent / "examples").glob("*.toml"))
    assert examples, "examples/*.toml missing"
    for path in examples:
        parsed = load_sweep_config(path)
        assert parsed.models and parsed.grid.size >= 1
        assert load_sweep_config(parsed.to_dict()) == load_sweep_config(parsed.to_dict())


def test_sweep_writes_one_row_per_task_and_a_manifest(tiny_dataset, tmp_path):
    run = sweep(config(tiny_dataset), out=tmp_path / "out", executor="serial", progress=False)
    assert run.ok and len(run.results) == 2 * 2 * 3
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(results) == 12 and results["task_id"].is_unique
    for column in (
        "model",
        "model_version",
        "config_id",
        "future_visibility_ms",
        "chunk_ms",
        "feasible",
        "ref_source",
        "beat.f_measure",
        "harmony.majmin",
        "timing.miss_rate",
    ):
        assert column in results.columns
    assert set(results["ref_source"]) == {"annotation"}
    # The feasible bound is the timing metric's column only (older files had an unprefixed copy too).
    assert "timing.feasible_future_visibility_frames" in results.columns
    assert "feasible_future_visibility_frames" not in results.columns
    labels = [c for c in results.columns if c in ROW_COLUMNS]
    assert list(results.columns[: len(labels)]) == labels == [c for c in ROW_COLUMNS if c in labels]
    assert set(results["future_visibility_ms"]) == {-100.0, 0.0}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(manifest["songs"]) == {"song0", "song1", "song2"}
    assert manifest["tasks"] == {"total": 12, "succeeded": 12, "failed": 0}
    assert (tmp_path / "out" / "audio" / "silence").is_dir()
    oracle = results[results["model"] == "oracle-delayed"].groupby("future_visibility_frames")["harmony.majmin"].mean()
    assert oracle[0] >= oracle[-5]
    assert (results[results["model"] == "silence"]["beat.f_measure"] == 0).all()


def test_rerun_is_identical_and_resumes_nothing(tiny_dataset, tmp_path):
    first = sweep(config(tiny_dataset), out=tmp_path / "a", executor="serial", progress=False)
    again = sweep(config(tiny_dataset), out=tmp_path / "a", executor="serial", progress=False)
    pd.testing.assert_frame_equal(first.results, again.results)
    other = sweep(config(tiny_dataset), out=tmp_path / "b", executor="serial", progress=False)
    metric_columns = [c for c in first.results.columns if "." in c]
    pd.testing.assert_frame_equal(first.results[metric_columns], other.results[metric_columns])


def test_resume_after_kill_loses_and_duplicates_nothing(tiny_dataset, tmp_path):
    path = tmp_path / "sweep.toml"
    grid = '[grid]\nfuture_visibility = [-5, 0, 3]\nchunk_frames = [1, 2]\nlatency = ["fixed:5ms"]\n'
    path.write_text(
        f'results_format = "csv"\nmetrics = ["beat", "timing"]\n[dataset]\nspec = "folder:{tiny_dataset}"\n'
        '[[models]]\nspec = "oracle-delayed"\n[[models]]\nspec = "silence"\n' + grid
    )
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "accbench.cli",
            "run",
            "--config",
            str(path),
            "--out",
            str(out),
            "--executor",
            "serial",
            "-q",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.is_file() and journal.read_bytes().count(b"\n") >= 4:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    done_before = journal.read_bytes().count(b"\n")
    assert 4 <= done_before < 36, "the kill should land mid-sweep"
    with open(journal, "ab") as handle:  # and a half-written line, as a kill mid-write leaves
        handle.write(b'{"task_id": "deadbeef", "row": {"model": "x"')
    resumed = sweep(path, out=out, executor="serial", progress=False)
    assert len(resumed.results) == 36 and resumed.results["task_id"].is_unique and resumed.ok
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(lines) == 36 and len({line["task_id"] for line in lines}) == 36
    fresh = sweep(path, out=tmp_path / "fresh", executor="serial", progress=False)
    metric_columns = [c for c in fresh.results.columns if "." in c]
    pd.testing.assert_frame_equal(fresh.results[metric_columns], resumed.results[metric_columns])


def test_a_changed_sweep_is_not_mixed_into_old_results(tiny_dataset, tmp_path):
    sweep(config(tiny_dataset), out=tmp_path / "out", executor="serial", progress=False)
    changed = config(tiny_dataset, grid={"future_visibility": [-5, 0], "chunk_frames": [3], "latency": ["fixed:5ms"]})
    with pytest.raises(ConfigError, match="different sweep"):
        sweep(changed, out=tmp_path / "out", executor="serial", progress=False)
    replaced = sweep(changed, out=tmp_path / "out", executor="serial", progress=False, overwrite=True)
    assert set(replaced.results["chunk_frames"]) == {3} and len(replaced.results) == 12


def test_a_failing_song_is_a_row_in_failures_and_the_rest_succeed(tiny_dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(TESTS))
    data = config(tiny_dataset, models=[{"spec": "sweep_models:FailsOn", "options": {"song": "song1"}}])
    path = tmp_path / "fails.toml"
    path.write_text(
        f'results_format = "csv"\nmetrics = ["timing"]\n[dataset]\nspec = "folder:{tiny_dataset}"\n'
        '[[models]]\nspec = "sweep_models:FailsOn"\noptions = { song = "song1" }\n'
        "[grid]\nfuture_visibility = [0]\nchunk_frames = [1, 2]\n"
    )
    run = sweep(data, out=tmp_path / "out", executor="serial", progress=False)
    assert len(run.results) == 4 and set(run.results["song"]) == {"song0", "song2"}
    assert len(run.failures) == 2 and set(run.failures["song"]) == {"song1"}
    failure = run.failures.iloc[0]
    assert "deliberate failure" in failure["error"] and failure["call"] == 3 and failure["model"] == "fails-on"
    assert "deliberate failure" in (tmp_path / "out" / "failures.csv").read_text()
    assert main(["run", "--config", str(path), "--out", str(tmp_path / "cli"), "--executor", "serial", "-q"]) == 1
    assert "FAILED fails-on" in capsys.readouterr().out


def test_a_crashing_worker_process_only_fails_its_own_task(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.syspath_prepend(str(TESTS))
    data = config(
        tiny_dataset,
        metrics=["timing"],
        models=[{"spec": "sweep_models:FailsOn", "options": {"song": "song1", "mode": "crash"}}],
        grid={"future_visibility": [0], "chunk_frames": [1, 2]},
    )
    run = sweep(data, out=tmp_path / "out", executor="local", workers=2, progress=False)
    assert len(run.results) == 4 and set(run.results["song"]) == {"song0", "song2"}
    assert len(run.failures) == 2 and run.failures["error"].str.contains("WorkerCrash").all()


def test_each_song_is_analysed_once_for_the_whole_grid(tiny_dataset, tmp_path, monkeypatch):
    computed: Counter = Counter()
    original = cache_module.AnalysisCache.get_or_compute

    def counting(self, analyzer, version, content_hash, params, compute):
        def wrapped():
            computed[(analyzer, content_hash, json.dumps(params, sort_keys=True, default=str))] += 1
            return compute()

        return original(self, analyzer, version, content_hash, params, wrapped)

    monkeypatch.setattr(cache_module.AnalysisCache, "get_or_compute", counting)
    grid = {"future_visibility": [-8, -3, 0, 2], "chunk_frames": [1, 4], "latency": ["fixed:5ms"]}
    run = sweep(config(tiny_dataset, grid=grid), out=tmp_path / "out", executor="serial", progress=False)
    assert len(run.results) == 2 * 8 * 3
    assert computed and max(computed.values()) == 1  # nothing analysed twice: 8 configs share each song's analyses
    inputs = {}
    for song in ("song0", "song1", "song2"):
        audio, sr = soundfile.read(tiny_dataset / song / "input.wav", dtype="float32", always_2d=True)
        inputs[song] = cache_module.audio_hash(np.ascontiguousarray(audio.T), sr)
    input_analyses = [key for key in computed if key[1] in set(inputs.values())]
    assert len({key[1] for key in input_analyses}) == 3


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("ray") is None, reason="ray is not installed (pip install accbench[ray])"
)
def test_ray_executor_on_a_local_cluster(tiny_dataset, tmp_path):
    serial = sweep(config(tiny_dataset), out=tmp_path / "serial", executor="serial", progress=False)
    on_ray = sweep(config(tiny_dataset), out=tmp_path / "ray", executor="ray", workers=1, progress=False)
    metric_columns = [c for c in serial.results.columns if "." in c]
    pd.testing.assert_frame_equal(serial.results[metric_columns], on_ray.results[metric_columns])


def test_embedding_metrics_per_song_and_frechet_per_config(tiny_dataset, tmp_path):
    data = config(
        tiny_dataset,
        metrics=["timing", "embedding"],
        embedder="spectral",
        models=[{"spec": "oracle"}, {"spec": "silence"}],
        grid={"future_visibility": [0], "chunk_frames": [2]},
    )
    run = sweep(data, out=tmp_path / "out", executor="serial", progress=False)
    assert run.ok
    assert set(run.results["embedding.embedder"]) == {"spectral (not comparable to CLAP)"}
    from accbench.reports.load import metric_columns

    assert "embedding.embedder" not in metric_columns(run.results)
    assert "embedding.spectral_cosine_mix" in metric_columns(run.results)
    by_model = run.results.groupby("model")["embedding.spectral_cosine_mix"].mean()
    assert by_model["oracle"] == pytest.approx(1.0) and by_model["silence"] < by_model["oracle"]
    sets = pd.read_csv(tmp_path / "out" / "set_metrics.csv").set_index("model")
    assert sets.loc["oracle", "embedding.spectral_frechet"] == pytest.approx(0.0, abs=1e-6)
    assert sets.loc["silence", "embedding.spectral_frechet"] > 0
    assert (sets["embedding.spectral_frechet_n_songs"] == 3).all()
    # write_audio = "examples" keeps 2 songs' audio, yet the set metrics pool all 3 songs' float-output embeddings.
    assert len(list((tmp_path / "out" / "audio" / "oracle").rglob("*.flac"))) == 2
    assert len(list((tmp_path / "out" / "embeddings" / "oracle").rglob("*.npz"))) == 3
    with pytest.raises(ConfigError, match="embedder"):
        load_sweep_config(config(tiny_dataset, embedder="vggish"))
    from accbench.reports.build import ReportOptions, build_report

    build_report(tmp_path / "out", tmp_path / "report", ReportOptions(plots=False, audio_songs=0))
    page = (tmp_path / "report" / "report.html").read_text()
    assert 'id="set-metrics-table"' in page and "embedding.spectral_frechet_ci_low" in page
