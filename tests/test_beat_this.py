"""Beat This (metrics/beat_this.py): checkpoints, spectrogram, chunked inference, postprocessor, scoring, CLI.

No network and no real weights: a small random-weight checkpoint is written in the published format
(``hyper_parameters`` + ``state_dict`` with the ``model.`` prefix). Parity with the ``beat-this`` package on the
same weights is measured by ``scripts/parity_beat_this.py`` (it needs torchaudio, in a separate environment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("rotary_embedding_torch")

import torch

from accbench.audio import write_audio_atomic
from accbench.commands import score as score_command
from accbench.errors import ConfigError, DataError
from accbench.metrics import analysis, beat_this
from accbench.metrics.beat_this_model import BeatThisModel
from accbench.metrics.cache import AnalysisCache
from accbench.metrics.scoring import score

TINY = {"stem_dim": 8, "head_dim": 8, "transformer_dim": 32, "n_layers": 1}
SR = 22050


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return beat_this.save_random_checkpoint(tmp_path_factory.mktemp("bt") / "tiny.ckpt", seed=0, **TINY)


def clicks(seconds: float, period: float, sr: int = SR) -> np.ndarray:
    audio = np.zeros(int(sr * seconds), dtype=np.float32)
    for t in np.arange(0.1, seconds - 0.05, period):
        audio[int(t * sr) : int(t * sr) + 300] += np.hanning(300).astype(np.float32)
    return audio


def test_the_published_format_loads_strictly(checkpoint, tmp_path):
    model = beat_this.load_model(checkpoint)
    assert isinstance(model, BeatThisModel) and not model.training
    content = torch.load(checkpoint, weights_only=True)
    assert set(content) >= {"hyper_parameters", "state_dict"} and all(
        k.startswith("model.") for k in content["state_dict"]
    )
    # A key missing from the state dict: strict loading refuses, naming the file.
    del content["state_dict"]["model.task_heads.beat_downbeat_lin.bias"]
    torch.save(content, tmp_path / "broken.ckpt")
    with pytest.raises(DataError, match=r"broken\.ckpt.*does not fit.*beat_downbeat_lin\.bias"):
        beat_this.load_model(tmp_path / "broken.ckpt")
    torch.save({"weights": 1}, tmp_path / "other.ckpt")
    with pytest.raises(DataError, match="no 'state_dict'"):
        beat_this.load_model(tmp_path / "other.ckpt")


class _Payload:
    """Unpickling this would create a file: a checkpoint must never be able to run code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_checkpoint_that_pickles_code_is_refused_unexecuted(tmp_path):
    marker = tmp_path / "executed"
    torch.save({"state_dict": {}, "hyper_parameters": _Payload(marker)}, tmp_path / "evil.ckpt")
    with pytest.raises(DataError, match="weights_only=True"):
        beat_this.load_model(tmp_path / "evil.ckpt")
    assert not marker.exists()


def test_checkpoints_come_from_a_path_or_the_torch_hub_cache_never_the_network(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "beat_this-final0.ckpt"
    with pytest.raises(ConfigError) as error:
        beat_this.resolve_checkpoint(None)
    message = str(error.value)
    assert str(cached) in message and f"{beat_this.CHECKPOINT_URL}/final0.ckpt" in message
    assert "--beat-this-checkpoint" in message and "\n" not in message
    with pytest.raises(ConfigError, match=r"file not found: '.*nope\.ckpt'"):
        beat_this.resolve_checkpoint(tmp_path / "nope.ckpt")
    cached.parent.mkdir(parents=True)
    shutil.copy(checkpoint, cached)
    assert beat_this.resolve_checkpoint("final0") == cached.resolve() == beat_this.resolve_checkpoint(None)
    expected = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert beat_this.checkpoint_digest(cached) == expected == beat_this.checkpoint_digest(checkpoint)


def test_log_mel_is_torchaudios_mel_spectrogram():
    """The same definition through librosa's STFT: magnitude / sqrt(n_fft), Slaney mel, log1p(1000 x)."""
    import librosa

    rng = np.random.default_rng(0)
    mono = (0.3 * rng.standard_normal(SR * 2)).astype(np.float32)
    spect = beat_this.log_mel(mono).numpy()
    mel = librosa.feature.melspectrogram(
        y=mono, sr=SR, n_fft=1024, hop_length=441, power=1.0, center=True, pad_mode="reflect",
        n_mels=128, fmin=30.0, fmax=11000.0, htk=False, norm=None,
    )  # fmt: skip
    expected = np.log1p(1000.0 * mel.T / np.sqrt(1024.0))
    assert spect.shape == (1 + mono.size // 441, 128)
    np.testing.assert_allclose(spect, expected, rtol=1e-4, atol=1e-4 * expected.max())
    assert beat_this.log_mel(np.zeros(512, dtype=np.float32)).shape == (0, 128)


class _Position(torch.nn.Module):
    """A stand-in network: the beat logit of a frame is its first mel bin plus 1000 x the call's index."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return {"beat": x[..., 0] + 1000.0 * self.calls, "downbeat": x[..., 1]}


@pytest.mark.parametrize("n_frames", [1, 7, 1487, 1488, 1489, 1494, 1500, 1501, 2977, 4500])
def test_chunks_cover_every_frame_once_and_earlier_chunks_win(n_frames):
    spect = torch.stack([torch.arange(n_frames, dtype=torch.float32), -torch.arange(n_frames) * 0.5], dim=1)
    spect = torch.nn.functional.pad(spect, (0, 126))
    model = _Position()
    beat, downbeat = beat_this.frame_logits(model, spect)
    starts = beat_this._chunk_starts(n_frames)
    assert model.calls == len(starts) and starts[0] == -6
    # Chunks run last to first, so chunk i (in order) is call len(starts) - i; a frame keeps the first chunk's.
    owner = np.array([min(i for i, s in enumerate(starts) if s + 6 <= f < s + 1494) for f in range(n_frames)])
    np.testing.assert_array_equal(beat, np.arange(n_frames) + 1000.0 * (len(starts) - owner))
    np.testing.assert_array_equal(downbeat, -np.arange(n_frames) * 0.5)
    if n_frames > 1488:
        assert starts[-1] == n_frames - 1494  # the last chunk ends at the piece's end


def test_the_minimal_postprocessor():
    beat = np.full(200, -5.0, dtype=np.float32)
    beat[[10, 40, 41, 80, 81, 82, 120]] = [2.0, 3.0, 3.0, 1.0, 1.0, 1.0, 4.0]
    beat[122] = 3.0  # within +-3 frames of a higher peak: not a peak
    beat[150] = -0.5  # a maximum, but not above 0
    downbeat = np.full(200, -5.0, dtype=np.float32)
    downbeat[[12, 79]] = 1.0
    beats, downbeats = beat_this.postprocess(beat, downbeat)
    # 40 and 41 merge to 40.5; 80, 81, 82: 81 is within one frame of 80, 82 is 1.5 from the mean 80.5
    np.testing.assert_array_equal(beats, np.array([10, 40.5, 80.5, 82, 120]) / 50)
    np.testing.assert_array_equal(downbeats, np.array([10, 80.5]) / 50)  # moved to the nearest beat
    assert [a.size for a in beat_this.postprocess(np.zeros(0), np.zeros(0))] == [0, 0]


def test_track_takes_any_rate_and_channels(checkpoint):
    stereo = np.stack([clicks(4, 0.5), 0.5 * clicks(4, 0.5)])
    found = beat_this.track(stereo, SR, checkpoint)
    assert found["beat_logits"].shape == (1 + stereo.shape[1] // 441,)
    mono = beat_this.track(stereo.mean(axis=0), SR, beat_this.load_model(checkpoint))
    np.testing.assert_array_equal(found["beat_logits"], mono["beat_logits"])
    assert np.all(np.isin(found["downbeats"], found["beats"])) and np.all(np.diff(found["beats"]) > 0)
    with pytest.raises(DataError, match="NaN"):
        beat_this.track(np.full(SR, np.nan, dtype=np.float32), SR, checkpoint)


def test_score_with_beat_this_records_the_tracker_and_keys_the_cache_by_digest(checkpoint, tmp_path):
    melody, output = clicks(6, 0.5), clicks(6, 0.5)
    cache = AnalysisCache()
    result = score(melody, output, sample_rate=SR, metrics=["beat"], beat_tracker="beat-this",
                   beat_this_checkpoint=checkpoint, cache=cache)  # fmt: skip
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert result.info == {"beat.tracker": "beat-this", "beat.tracker_sha256": digest}
    assert cache.computed["beats-beat-this"] == 1 and cache.computed["beats"] == 0  # output and input equal
    assert 0.0 <= result["beat.paper_alignment_f_measure"] <= 1.0
    # The same file elsewhere hits the same entries; another checkpoint does not.
    shutil.copy(checkpoint, tmp_path / "copy.ckpt")
    score(melody, output, sample_rate=SR, metrics=["beat"], beat_tracker="beat-this",
          beat_this_checkpoint=tmp_path / "copy.ckpt", cache=cache)  # fmt: skip
    assert cache.computed["beats-beat-this"] == 1
    other = beat_this.save_random_checkpoint(tmp_path / "other.ckpt", seed=1, **TINY)
    direct = analysis.beats(melody, SR, cache=cache, tracker="beat-this", checkpoint=str(other))
    assert cache.computed["beats-beat-this"] == 2 and set(direct) == {"beats", "downbeats", "tempo"}
    with pytest.raises(ConfigError, match="only used with beat_tracker='beat-this'"):
        score(melody, output, sample_rate=SR, metrics=["beat"], beat_this_checkpoint=checkpoint)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="accbench")
    score_command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_accbench_score_with_beat_this(checkpoint, tmp_path, capsys, monkeypatch):
    write_audio_atomic(tmp_path / "in.wav", clicks(5, 0.5), SR)
    write_audio_atomic(tmp_path / "out.wav", clicks(5, 0.5), SR)
    files = ["score", "--input", str(tmp_path / "in.wav"), "--output", str(tmp_path / "out.wav")]
    args = _parse([*files, "--metrics", "beat", "--format", "json", "--beat-tracker", "beat-this",
                   "--beat-this-checkpoint", str(checkpoint)])  # fmt: skip
    assert args.handler(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["beat.tracker"] == "beat-this" and len(document["beat.tracker_sha256"]) == 64
    assert "beat.paper_alignment_amlt" in document["values"]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    args = _parse([*files, "--beat-tracker", "beat-this"])
    with pytest.raises(ConfigError, match="beat_this-final0.ckpt"):
        args.handler(args)


def test_a_sweep_config_selects_beat_this_and_its_digest_enters_task_ids(checkpoint, tmp_path, monkeypatch):
    import soundfile

    from accbench.config import BEAT_TRACKERS
    from accbench.runner import sweep

    assert analysis.BEAT_TRACKERS == BEAT_TRACKERS
    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))
    song = tmp_path / "songs" / "song0"
    song.mkdir(parents=True)
    soundfile.write(song / "input.wav", clicks(3, 0.5), SR, subtype="FLOAT")
    soundfile.write(song / "reference.wav", 0.5 * clicks(3, 0.5), SR, subtype="FLOAT")
    config = {
        "dataset": {"spec": f"folder:{tmp_path / 'songs'}"},
        "models": [{"spec": "oracle"}],
        "grid": {"future_visibility": [0], "chunk_frames": [5], "latency": ["zero"]},
        "metrics": ["beat"],
        "results_format": "csv",
        "write_audio": "none",
        "beat_tracker": "beat-this",
        "beat_this_checkpoint": str(checkpoint),
    }
    run = sweep(config, out=tmp_path / "bt", executor="serial", progress=False)
    assert run.ok and len(run.results) == 1
    row = run.results.iloc[0]
    assert row["beat.tracker"] == "beat-this"
    assert row["beat.tracker_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert 0.0 <= row["beat.paper_alignment_gt_f_measure"] <= 1.0
    default = sweep({**config, "beat_tracker": "default", "beat_this_checkpoint": None}, out=tmp_path / "d",
                    executor="serial", progress=False)  # fmt: skip
    assert default.results.iloc[0]["beat.tracker"] == "default"
    assert default.results.iloc[0]["task_id"] != row["task_id"]
    with pytest.raises(ConfigError, match="beat_this_checkpoint is only used"):
        sweep({**config, "beat_tracker": "default"}, out=tmp_path / "x", executor="serial", progress=False)
    missing = sweep({**config, "beat_this_checkpoint": str(tmp_path / "no.ckpt")}, out=tmp_path / "y",
                    executor="serial", progress=False)  # fmt: skip
    assert missing.ok and "beat-this" in missing.manifest["missing_files"]  # a missing file never loses the run
    assert np.isnan(missing.results.iloc[0]["beat.f_measure"])
    assert "beat.f_measure: Beat This checkpoint file not found" in missing.results.iloc[0]["skipped"]
    with pytest.raises(ConfigError, match="beat_tracker"):
        sweep({**config, "beat_tracker": "beatthis"}, out=tmp_path / "z", executor="serial")
