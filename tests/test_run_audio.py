"""Lean run outputs: 16-bit FLAC written and read back, write_audio modes, silent outputs, old .wav runs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from accbench.audio import load_audio, write_audio_atomic
from accbench.config import SweepConfig
from accbench.errors import ConfigError
from accbench.reports.players import choose_songs, collect_clips
from accbench.tasks import WorkerContext, _write_outputs

SR = 22050
SONGS = ("a", "b", "c")


def _sine(seconds: float = 0.5, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[np.newaxis, :]


def test_flac_is_written_atomically_as_16_bit_and_reads_back_within_quantisation(tmp_path: Path) -> None:
    audio = np.concatenate([_sine(), _sine(amplitude=0.25)])
    clipped = write_audio_atomic(tmp_path / "x.flac", audio, SR, "PCM_16")
    back, rate = load_audio(tmp_path / "x.flac")
    assert clipped == 0 and rate == SR and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) <= 1.0 / 2**15
    assert [p.name for p in tmp_path.iterdir()] == ["x.flac"]  # no temporary file left


def test_samples_beyond_full_scale_are_clipped_and_counted(tmp_path: Path) -> None:
    audio = _sine(amplitude=1.5)
    clipped = write_audio_atomic(tmp_path / "loud.flac", audio, SR, "PCM_16")
    back, _ = load_audio(tmp_path / "loud.flac")
    assert clipped == int(np.count_nonzero(np.abs(audio) > 1.0)) > 0
    assert np.max(np.abs(back)) <= 1.0 and back.max() > 0.99  # clipped, not wrapped around or rescaled


def _context(tmp_path: Path, mode: str | bool) -> WorkerContext:
    songs = {song: None for song in SONGS}
    return WorkerContext(
        models=(), songs=songs, metrics=("timing",), out_dir=str(tmp_path), cache_dir=None, write_audio=mode
    )  # type: ignore[arg-type]


def _write_all(context: WorkerContext, outputs: dict[str, np.ndarray]) -> None:
    for model, output in outputs.items():
        for song in SONGS:
            task = SimpleNamespace(model_label=model, config_id="tf0_k1", song_id=song)
            run = SimpleNamespace(result=SimpleNamespace(output=output, sample_rate=SR), song=None)
            _write_outputs(context, task, run, SimpleNamespace(input=_sine(), sample_rate=SR), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "flacs"),
    [("none", 0), (False, 0), ("examples", 2 * 2 + 2), ("all", 3 * 2 + 3), (True, 3 * 2 + 3)],
)
def test_write_audio_modes_and_silent_outputs(tmp_path: Path, mode: str | bool, flacs: int) -> None:
    _write_all(_context(tmp_path, mode), {"m1": _sine(), "m2": _sine(amplitude=0.1), "silence": np.zeros((1, SR))})
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.flac"))
    assert len(written) == flacs
    assert not any(name.startswith("audio/silence/") for name in written)  # all-zero: never written
    markers = list(tmp_path.rglob("*.silent"))
    assert len(markers) == {0: 0, 6: 2, 9: 3}[flacs] and all(m.stat().st_size == 0 for m in markers)
    if mode == "examples":
        assert {Path(name).stem for name in written} == {"a", "b"}  # the first 2 songs by sorted id


def _results(models: tuple[str, ...]) -> pd.DataFrame:
    rows = [{"model": m, "model_version": "1", "config_id": "tf0_k1", "song": s} for m in models for s in SONGS]
    return pd.DataFrame(rows)


def test_players_pick_songs_with_audio_and_say_silent(tmp_path: Path) -> None:
    context = _context(tmp_path, "examples")
    context = WorkerContext(**{**context.__dict__, "songs": {"z": None, "b": None, "c": None}})
    for song in ("z", "b", "c"):
        for model, output in (("m1", _sine()), ("silence", np.zeros((1, SR)))):
            task = SimpleNamespace(model_label=model, config_id="tf0_k1", song_id=song)
            run = SimpleNamespace(result=SimpleNamespace(output=output, sample_rate=SR), song=None)
            _write_outputs(context, task, run, SimpleNamespace(input=_sine(), sample_rate=SR), None)  # type: ignore[arg-type]
    results = pd.DataFrame(
        [
            {"model": m, "model_version": "1", "config_id": "tf0_k1", "song": s}
            for m in ("m1", "silence")
            for s in "abcz"
        ]
    )
    assert choose_songs(results, 2) == ["a", "b"]
    clips = collect_clips(tmp_path, results, songs=2, seconds=0.2)
    assert [entry.song for entry in clips] == ["b", "c"]  # "a" has no audio, "z" is not among the examples
    for entry in clips:
        assert entry.input.embedded
        notes = {label: (output.embedded, output.note) for label, _, output, _ in entry.outputs}
        assert notes == {"m1": (True, ""), "silence": (False, "silent")}


def test_old_wav_runs_still_give_players(tmp_path: Path) -> None:
    write_audio_atomic(tmp_path / "audio" / "inputs" / "a.wav", _sine(), SR)
    write_audio_atomic(tmp_path / "audio" / "m1" / "tf0_k1" / "a.wav", _sine(), SR)
    clips = collect_clips(tmp_path, _results(("m1",)), songs=1, seconds=0.2)
    assert clips[0].input.embedded and clips[0].outputs[0][2].embedded and clips[0].outputs[0][3].embedded


def _config(**top: object) -> SweepConfig:
    return SweepConfig.from_dict(
        {"models": [{"spec": "silence"}], "grid": {"future_visibility": [0], "chunk_frames": [1]}, **top}
    )


def test_write_audio_config_default_modes_and_old_booleans() -> None:
    assert _config().write_audio == "examples"
    assert [_config(write_audio=v).write_audio for v in ("none", "examples", "all", True, False)] == [
        "none",
        "examples",
        "all",
        "all",
        "none",
    ]
    with pytest.raises(ConfigError, match="write_audio: must be 'none', 'examples' or 'all'.*did you mean 'examples'"):
        _config(write_audio="example")
    with pytest.raises(ConfigError, match="write_audio"):
        _config(write_audio=1)
