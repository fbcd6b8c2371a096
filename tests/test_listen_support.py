"""A small run folder with audio for the listening-study tests (no simulator: sines and a results table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
from test_report_support import make_results, register_specs, write_run

RATE = 8000


def tone_run(folder: Path, *, seconds: float = 3.0, songs: tuple[str, ...] = ("song-a", "song-b")) -> Path:
    """A run of ``mymodel``, ``follower`` and ``silence`` (one config) on ``songs`` with FLAC audio.

    The input is a melody-like tone per song; ``mymodel`` plays a quiet fifth, ``follower`` a loud octave
    (its level differs by 20 dB, so loudness matching has work to do); ``silence`` has ``.silent`` markers.
    """
    register_specs()
    table = make_results(
        models=("mymodel", "follower"),
        baselines=("silence",),
        future_visibility=(0,),
        chunk_frames=(5,),
        songs=songs,
    )
    write_run(folder, table)
    t = np.arange(int(seconds * RATE)) / RATE
    config_id = str(table["config_id"].iloc[0])
    for index, song in enumerate(songs):
        base = 330.0 + 40.0 * index
        _write(folder / "audio" / "inputs" / f"{song}.flac", 0.3 * np.sin(2 * np.pi * base * t))
        _write(folder / "audio" / "mymodel" / config_id / f"{song}.flac", 0.02 * np.sin(2 * np.pi * base * 1.5 * t))
        _write(folder / "audio" / "follower" / config_id / f"{song}.flac", 0.2 * np.sin(2 * np.pi * base / 2 * t))
        silent = folder / "audio" / "silence" / config_id / f"{song}.silent"
        silent.parent.mkdir(parents=True, exist_ok=True)
        silent.touch()
    return folder


def _write(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, audio.astype(np.float32), RATE, subtype="PCM_16")


def test_tone_run_has_audio_for_every_system(tmp_path: Path) -> None:
    folder = tone_run(tmp_path / "run")
    assert len(list((folder / "audio").rglob("*.flac"))) == 6 and len(list((folder / "audio").rglob("*.silent"))) == 2
