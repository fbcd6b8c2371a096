"""The seed paper's protocol in a sweep: COCOLA, VGGish FAD and Beat This from a config, the missing-file message,
and paper_table.md / .csv.

The three checkpoints are random-weight files in the published formats, built by the helpers of
tests/test_cocola.py (a Lightning ``.ckpt`` pickling the upstream enums), tests/test_vggish.py (torchvggish's state
dict) and tests/test_beat_this.py (``beat_this.save_random_checkpoint``): their numbers mean nothing, the plumbing
is what is tested.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_pytorch")
pytest.importorskip("torchvggish")
pytest.importorskip("rotary_embedding_torch")

import soundfile  # noqa: E402
from test_cocola import published  # noqa: E402, F401  (the random-weight COCOLA checkpoint fixture)

from accbench.checkpoint_files import sweep_files  # noqa: E402
from accbench.config import load_sweep_config  # noqa: E402
from accbench.errors import ConfigError  # noqa: E402
from accbench.metrics import beat_this  # noqa: E402
from accbench.reports.aggregate import aggregate  # noqa: E402
from accbench.reports.paper_table import GROUND_TRUTH, paper_table  # noqa: E402
from accbench.runner import sweep  # noqa: E402

SR = 22050
TINY = {"stem_dim": 8, "head_dim": 8, "transformer_dim": 32, "n_layers": 1}


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared machine the networks run many times faster than with several."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def files(tmp_path_factory, published):  # noqa: F811
    """The folder holding ``cocola.ckpt``, ``vggish-10086976.pth`` and ``beat_this-tiny.ckpt`` (random weights)."""
    from torchvggish.torchvggish import VGG, make_layers

    folder = tmp_path_factory.mktemp("checkpoints")
    (folder / "cocola.ckpt").write_bytes(published[0].read_bytes())
    torch.manual_seed(1)
    torch.save(VGG(make_layers(), postprocess=False).state_dict(), folder / "vggish-10086976.pth")
    beat_this.save_random_checkpoint(folder / "beat_this-tiny.ckpt", seed=0, **TINY)
    return folder


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """Three 3 s songs: clicks at 150, 120 and 100 bpm with a tone (input), a chord and the clicks (reference)."""
    root = tmp_path_factory.mktemp("songs")
    t = np.arange(3 * SR) / SR
    for index in range(3):
        folder = root / f"song{index}"
        folder.mkdir()
        clicks = (np.mod(t, 0.4 + 0.1 * index) < 0.01) * 0.5
        melody = 0.2 * np.sin(2 * np.pi * (220 + 40 * index) * t) + clicks
        chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (330 + 20 * index, 415, 495)) + 0.5 * clicks
        soundfile.write(folder / "input.wav", melody.astype(np.float32), SR, subtype="FLOAT")
        soundfile.write(folder / "reference.wav", chord.astype(np.float32), SR, subtype="FLOAT")
    return root


def _config(songs, tmp_path, **changes):
    text = f"""
seeds = [42]
metrics = ["beat", "cocola", "timing"]
beat_tracker = "beat-this"
beat_this_checkpoint = "checkpoints/beat_this-tiny.ckpt"
cocola_checkpoint = "checkpoints/cocola.ckpt"
vggish_weights = "checkpoints/vggish-10086976.pth"
write_audio = "all"
paper_table = true
results_format = "csv"
[dataset]
spec = "folder:{songs}"
[[models]]
spec = "mismatch"
name = "random-pairing"
[[models]]
spec = "oracle"
[grid]
future_visibility = ["0ms", "100ms"]
chunk_frames = ["100ms"]
latency = ["zero"]
"""
    for key, value in changes.items():
        text = text.replace(f'{key} = "checkpoints/', f'{key} = "{value}/')
    path = tmp_path / "paper.toml"
    path.write_text(text)
    return path


def test_a_sweep_with_the_three_checkpoints_writes_the_paper_table(files, songs, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "checkpoints").symlink_to(files)  # paths in the config are relative to the config file
    monkeypatch.chdir(songs)  # not to the working directory
    run = sweep(_config(songs, tmp_path), out=tmp_path / "run", executor="serial", progress=False)
    assert run.ok and len(run.results) == 12 and run.manifest["missing_files"] == {}
    rows = run.results
    assert rows["cocola.checkpoint"].str.startswith("cocola (cocola.ckpt").all()
    assert (rows["beat.tracker"] == "beat-this").all()
    for name in ("cocola.score", "cocola.harmonic", "cocola.reference_percussive", "beat.paper_alignment_f_measure"):
        assert np.isfinite(rows[name]).all(), name
    oracle = rows[rows["model"] == "oracle"]
    assert np.allclose(oracle["cocola.score"], oracle["cocola.reference_score"], atol=1e-3)  # output = reference
    fad = run.set_metrics.set_index(["model", "config_id"])["vggish.fad"]
    assert len(fad) == 4 and (fad.xs("oracle") < 1e-3).all()
    # FAD is a statistic of the set: the random pairing's outputs are the same set of stems as the references.
    assert np.allclose(fad.xs("random-pairing"), fad.xs("oracle"))
    assert (tmp_path / "run" / "vggish_fad_songs.csv").is_file()

    table = pd.read_csv(tmp_path / "run" / "paper_table.csv")
    assert list(table["system"]) == [GROUND_TRUTH, "random-pairing", "oracle"]
    assert list(table["configs"]) == [0, 2, 2]  # both play an accompaniment whatever the config: one row each
    gt_songs = rows.groupby("song")["cocola.reference_score"].mean()
    assert table.loc[0, "cocola_mean"] == pytest.approx(gt_songs.mean())
    assert table.loc[0, "cocola_std"] == pytest.approx(np.std(gt_songs.to_numpy()))
    assert math.isnan(table.loc[0, "fad"]) and table.loc[2, "fad"] < 1e-3
    summary = aggregate(rows, ["cocola.score"]).set_index(["model", "config_id"])
    row = table.iloc[2]
    expected = summary.loc[("oracle", row["config_id"])]
    assert (row["cocola_ci_low"], row["cocola_ci_high"]) == pytest.approx((expected["ci_low"], expected["ci_high"]))
    markdown = (tmp_path / "run" / "paper_table.md").read_text()
    assert "| ground truth (reference vs input) | " in markdown and "random-pairing (same in all 2 configs)" in markdown
    assert " ± " in markdown and "FAD (VGGish)" in markdown and "Not in this table" not in markdown


def test_missing_checkpoints_are_named_once_and_the_run_completes(songs, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ACCBENCH_COCOLA_CHECKPOINT", raising=False)
    monkeypatch.delenv("ACCBENCH_VGGISH_WEIGHTS", raising=False)
    config = _config(songs, tmp_path, beat_this_checkpoint="nowhere", cocola_checkpoint="nowhere",
                     vggish_weights="nowhere")  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="accbench.runner"):
        run = sweep(config, out=tmp_path / "run", executor="serial", progress=False)
    messages = [record.getMessage() for record in caplog.records if "checkpoint file(s) missing" in record.getMessage()]
    assert len(messages) == 1
    assert "drive.google.com" in messages[0] and "vggish-10086976.pth" in messages[0]
    assert "beat_this" in messages[0] or "Beat This" in messages[0]
    assert run.ok and len(run.results) == 12  # every task still ran: timing is scored
    assert set(run.manifest["missing_files"]) == {"cocola", "vggish", "beat-this"}
    rows = run.results
    assert rows["cocola.score"].isna().all() and rows["beat.paper_alignment_f_measure"].isna().all()
    assert rows["timing.miss_rate"].notna().all()
    assert rows["skipped"].str.contains("cocola.score: COCOLA checkpoint").all()
    assert rows["skipped"].str.contains("beat.f_measure: Beat This checkpoint file not found").all()
    assert "vggish.fad" not in run.set_metrics
    markdown = (tmp_path / "run" / "paper_table.md").read_text()
    assert "Not in this table" in markdown and "- vggish: skipped: VGGish weights" in markdown
    assert "n/a" in markdown


def test_checkpoint_paths_are_relative_to_the_config_file_and_fad_needs_all_audio(files, songs, tmp_path):
    (tmp_path / "checkpoints").symlink_to(files)
    found = sweep_files(load_sweep_config(_config(songs, tmp_path)))
    assert found.missing == {} and found.vggish_fad
    assert found.cocola == str((files / "cocola.ckpt").resolve()) and found.beat_this.endswith("beat_this-tiny.ckpt")
    assert found.identity["cocola_sha256"] != "missing" and len(found.identity["beat_this_sha256"]) == 64
    data = load_sweep_config(_config(songs, tmp_path)).to_dict()
    with pytest.raises(ConfigError, match="write_audio = 'all'"):
        sweep_files(load_sweep_config({**data, "write_audio": "examples"}))


def test_the_paper_table_of_a_results_table():
    rng = np.random.default_rng(0)
    rows = []
    for model, spec in (("m", "follower"), ("r", "mismatch")):
        for tf in (-100, 0):
            for song in range(5):
                value = rng.normal() if model == "m" else float(song)  # "r" is the same in every config
                rows.append({"model": model, "model_version": "1", "model_spec": spec, "config_id": f"tf{tf}_k1",
                             "future_visibility_frames": tf, "chunk_frames": 1, "song": f"s{song}", "seed": 0,
                             "cocola.score": value, "cocola.reference_score": 2.0 + song,
                             "beat.paper_alignment_f_measure": np.nan if song == 0 else 0.5})  # fmt: skip
    results = pd.DataFrame(rows)
    table = paper_table(results, None, n_boot=200)
    assert list(table["system"]) == [GROUND_TRUTH, "r", "m", "m"]
    assert list(table["future_visibility_frames"].iloc[2:]) == [-100, 0]
    assert table.loc[0, "cocola_mean"] == pytest.approx(4.0) and table.loc[0, "cocola_std"] == pytest.approx(
        np.std(range(5))
    )
    assert table.loc[2, "beat_f1_n"] == 4 and table.loc[2, "beat_f1_std"] == 0.0
    assert table.loc[0, "beat_f1_n"] == 0 and math.isnan(table.loc[0, "beat_f1_mean"])
    m = results[(results["model"] == "m") & (results["config_id"] == "tf-100_k1")]["cocola.score"]
    assert table.loc[2, "cocola_std"] == pytest.approx(np.std(m.to_numpy()))
    assert table.loc[2, "cocola_ci_low"] < table.loc[2, "cocola_mean"] < table.loc[2, "cocola_ci_high"]


def test_the_preset_is_the_papers_grid_metrics_and_controls(monkeypatch):
    from pathlib import Path

    from accbench.runner import _model_configs

    monkeypatch.delenv("ACCBENCH_COCOLA_CHECKPOINT", raising=False)
    monkeypatch.delenv("ACCBENCH_VGGISH_WEIGHTS", raising=False)
    preset = load_sweep_config(Path(__file__).resolve().parent.parent / "examples" / "stream_music_gen.toml")
    assert set(preset.metrics) >= {"beat", "cocola"} and preset.beat_tracker == "beat-this"
    assert preset.vggish_fad and preset.paper_table and preset.write_audio == "all" and preset.seeds == (42,)
    assert preset.models[0].spec == "mismatch"
    _, configs = _model_configs(preset)
    for _, per_seed in configs.values():
        grid = {(c.future_visibility, c.chunk_frames) for c in per_seed[0][1]}
        assert grid == {(t, k) for t in (-100, 0, 100) for k in (1, 50, 100)}  # frames at 50 Hz
    found = sweep_files(preset)
    assert (
        found.vggish_fad and found.identity["cocola_sha256"] == "missing" and {"cocola", "vggish"} <= set(found.missing)
    )


def test_set_metric_tables_merge_on_their_keys_with_the_config_columns():
    from accbench.set_metrics import SET_KEYS, merge_set_metrics

    results = pd.DataFrame(
        [{"model": "m", "model_version": "1", "config_id": c, "seed": 0, "song": s, "chunk_frames": k}
         for c, k in (("a", 1), ("b", 5)) for s in ("s0", "s1")]
    )  # fmt: skip
    frechet = pd.DataFrame([{"model": "m", "model_version": "1", "config_id": "a", "seed": 0, "chunk_frames": 1,
                             "embedding.spectral_frechet": 2.0}])  # fmt: skip
    fad = pd.DataFrame([{"model": "m", "model_version": 1, "config_id": c, "seed": 0, "vggish.fad": v}
                        for c, v in (("a", 0.5), ("b", 0.7))])  # fmt: skip
    merged = merge_set_metrics(results, frechet, fad, pd.DataFrame())
    assert list(merged.columns) == [*SET_KEYS, "chunk_frames", "embedding.spectral_frechet", "vggish.fad"]
    assert list(merged["config_id"]) == ["a", "b"] and list(merged["chunk_frames"]) == [1, 5]
    assert merged["embedding.spectral_frechet"].iloc[0] == 2.0 and math.isnan(
        merged["embedding.spectral_frechet"].iloc[1]
    )
    assert list(merged["vggish.fad"]) == [0.5, 0.7]
    assert list(merge_set_metrics(results).columns) == SET_KEYS


def test_accbench_run_takes_the_checkpoint_files_relative_to_the_working_directory(tmp_path, monkeypatch):
    import argparse
    from pathlib import Path

    from accbench import runner
    from accbench.commands import run as run_command

    seen = []

    def fake_sweep(config, **options):
        seen.append(config)
        raise SystemExit(0)

    monkeypatch.setattr(runner, "sweep", fake_sweep)
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    run_command.register(parser.add_subparsers())
    preset = Path(__file__).resolve().parent.parent / "examples" / "stream_music_gen.toml"
    argv = ["run", "--config", str(preset), "--cocola-checkpoint", "c.ckpt", "--vggish-weights", "v.pth"]
    args = parser.parse_args([*argv, "--beat-this-checkpoint", "b/final0.ckpt"])
    with pytest.raises(SystemExit):
        args.handler(args)
    config = seen[0]
    assert config.cocola_checkpoint == str(tmp_path / "c.ckpt") and config.vggish_weights == str(tmp_path / "v.pth")
    assert config.beat_this_checkpoint == str(tmp_path / "b" / "final0.ckpt")
    args = parser.parse_args(["run", "--config", str(preset), "--beat-this-checkpoint", "small0"])
    with pytest.raises(SystemExit):
        args.handler(args)
    assert seen[1].beat_this_checkpoint == "small0" and seen[1].cocola_checkpoint is None


def test_files_supplied_later_rescore_the_same_run_folder(files, songs, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "checkpoints").symlink_to(files)
    missing = _config(songs, tmp_path, beat_this_checkpoint="nowhere", cocola_checkpoint="nowhere",
                      vggish_weights="nowhere")  # fmt: skip
    first = sweep(missing, out=tmp_path / "run", executor="serial", progress=False)
    assert first.results["cocola.score"].isna().all()
    found = sweep(_config(songs, tmp_path), out=tmp_path / "run", executor="serial", progress=False)  # no --overwrite
    assert found.ok and len(found.results) == 12 and found.manifest["missing_files"] == {}
    assert np.isfinite(found.results["cocola.score"]).all() and "vggish.fad" in found.set_metrics
    assert set(found.results["task_id"]).isdisjoint(first.results["task_id"])
