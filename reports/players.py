"""Audio clips for the HTML report's players: input, output and mix per chosen song, model and config.

Clips are read from a run folder (``audio/inputs/<song>.flac``, ``audio/<model>/<config_id>/<song>.flac``; old
runs' ``.wav`` files too), cut to a few seconds, mixed to mono, resampled to :data:`CLIP_RATE` Hz and encoded as
16-bit WAV data URIs (every browser plays them), so the report is one file. When
the embedded audio would exceed a size budget, later clips are linked by relative path instead (they
still play offline when ``report.html`` sits in the run folder). Missing files are tolerated: the clip
says so; an output the sweep found all-zero (a ``<song>.silent`` marker, no audio file) says "silent". With
``write_audio = "examples"`` only some songs have audio: :func:`choose_songs` prefers those.

- :func:`choose_songs`: which songs get players.
- :func:`collect_clips`: the :class:`SongClips` of a run.
"""

from __future__ import annotations

import base64
import io
import urllib.parse
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from accbench.audio import load_audio, resample
from accbench.errors import DataError

__all__ = ["CLIP_RATE", "Clip", "SongClips", "audio_file", "choose_songs", "collect_clips", "wav_data_uri"]

#: Sample rate (Hz) of the embedded clips: enough to judge timing and harmony, a third of 48 kHz's bytes.
CLIP_RATE = 16000


@dataclass
class Clip:
    """One player's source: a data URI (embedded) or a relative path (linked), or nothing (``note`` says why)."""

    src: str = ""
    embedded: bool = False
    note: str = ""


@dataclass
class SongClips:
    """The players of one song: its input, and per (model label, config_id) the output and the mix."""

    song: str
    input: Clip
    outputs: list[tuple[str, str, Clip, Clip]] = field(default_factory=list)


def wav_data_uri(audio: np.ndarray, sample_rate: int) -> str:
    """``audio`` (``(channels, n)`` or ``(n,)``) as a mono 16-bit WAV ``data:`` URI."""
    mono = np.asarray(audio, dtype=np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(mono, -1.0, 1.0), int(sample_rate), format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def audio_file(folder: Path, song: str) -> Path | None:
    """The audio file of ``song`` in ``folder``: ``<song>.flac`` (current runs) or ``<song>.wav`` (old runs)."""
    return next((path for path in (folder / f"{song}.flac", folder / f"{song}.wav") if path.is_file()), None)


def choose_songs(
    results: pd.DataFrame, songs: Sequence[str] | int = 2, *, with_audio: Collection[str] | None = None
) -> list[str]:
    """The songs that get players: the given ids (those in the run), or the first ``songs`` ids in sorted order.

    ``with_audio``: ids whose audio the run kept; a count then picks among them first (then the others).
    """
    present = sorted(str(s) for s in results["song"].unique())
    if isinstance(songs, int):
        if with_audio is not None:
            kept = set(with_audio)
            present = [s for s in present if s in kept] + [s for s in present if s not in kept]
        return present[: max(0, songs)]
    wanted = [str(s) for s in songs]
    return [s for s in wanted if s in present]


def _read(path: Path, seconds: float) -> tuple[np.ndarray, int] | None:
    try:
        audio, sample_rate = load_audio(path)
    except DataError:
        return None
    return audio[:, : int(seconds * sample_rate)], sample_rate


def _relative(run_dir: Path, path: Path) -> str:
    return "/".join(urllib.parse.quote(part) for part in path.relative_to(run_dir).parts)


def collect_clips(
    run_dir: str | Path,
    results: pd.DataFrame,
    *,
    songs: Sequence[str] | int = 2,
    seconds: float = 10.0,
    budget_bytes: int = 30_000_000,
    labels: dict[tuple[str, str], str] | None = None,
) -> list[SongClips]:
    """Players for the chosen songs of a run.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    results : DataFrame
        Its results table (which models and configs exist).
    songs : sequence of str or int
        Song ids, or how many songs (the first in sorted order). Default 2.
    seconds : float
        Clip length from the start of the song, in seconds.
    budget_bytes : int
        Embedded audio beyond this many bytes (base64) is linked instead.
    labels : dict, optional
        Display label per (model, model_version).

    Returns
    -------
    clips : list of SongClips
        Empty when the run has no audio folder.
    """
    run_dir = Path(run_dir)
    audio_dir = run_dir / "audio"
    if not audio_dir.is_dir():
        return []
    used = 0

    def clip(path: Path, audio: np.ndarray | None = None, sample_rate: int = 0) -> Clip:
        nonlocal used
        if audio is None:
            if not path.is_file():
                return Clip(note="silent" if path.with_suffix(".silent").is_file() else "no audio file")
            loaded = _read(path, seconds)
            if loaded is None:
                return Clip(note="unreadable audio file")
            audio, sample_rate = loaded
        audio, sample_rate = _for_clip(audio, sample_rate)
        approx = int(audio.shape[-1] * 2 * 4 / 3) + 100
        if used + approx > budget_bytes:
            if path.is_file():
                return Clip(src=_relative(run_dir, path), note="linked (over the embedding budget)")
            return Clip(note="over the embedding budget")
        used += approx
        return Clip(src=wav_data_uri(audio, sample_rate), embedded=True)

    keys = (
        results[["model", "model_version", "config_id"]]
        .drop_duplicates()
        .sort_values(["model", "model_version", "config_id"])
    )
    chosen = []
    inputs = audio_dir / "inputs"
    kept = {path.stem for path in inputs.iterdir() if path.suffix in (".flac", ".wav")} if inputs.is_dir() else None
    for song in choose_songs(results, songs, with_audio=kept):
        input_path = audio_file(inputs, song) or inputs / f"{song}.flac"
        loaded_input = _read(input_path, seconds) if input_path.is_file() else None
        entry = SongClips(song=song, input=clip(input_path))
        for model, version, config_id in keys.itertuples(index=False):
            rows = results[
                (results["model"] == model) & (results["config_id"] == config_id) & (results["song"] == song)
            ]
            if rows.empty:
                continue
            label = (labels or {}).get((model, version), model)
            folder = audio_dir / model / config_id
            output_path = audio_file(folder, song) or folder / f"{song}.flac"
            output = clip(output_path)
            mix = Clip(note="needs input and output audio")
            if loaded_input is not None and output.src:
                loaded_output = _read(output_path, seconds)
                if loaded_output is not None:
                    mixed, rate = _mix(loaded_input, loaded_output)
                    mix = clip(Path("/nonexistent"), mixed, rate)
            entry.outputs.append((label, config_id, output, mix))
        chosen.append(entry)
    return chosen


def _for_clip(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """Mono ``(1, n)`` audio at :data:`CLIP_RATE` Hz (or its own rate when lower), as the report embeds it."""
    mono = np.asarray(audio, dtype=np.float32)
    mono = mono.mean(axis=0, keepdims=True) if mono.ndim == 2 else mono[np.newaxis, :]
    target = min(int(sample_rate), CLIP_RATE)
    return resample(np.ascontiguousarray(mono), int(sample_rate), target), target


def _mix(first: tuple[np.ndarray, int], second: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """Mono sum of input and output at the output's rate, scaled down only if it would clip."""
    (a, rate_a), (b, rate_b) = first, second
    a = resample(a.mean(axis=0, keepdims=True).astype(np.float32), rate_a, rate_b)[0]
    b = b.mean(axis=0)
    n = max(a.size, b.size)
    mixed = np.zeros(n, dtype=np.float32)
    mixed[: a.size] += a
    mixed[: b.size] += b
    peak = float(np.max(np.abs(mixed))) if n else 0.0
    if peak > 1.0:
        mixed /= peak
    return mixed, rate_b
