"""Audio clips for the HTML report's players: input, output and mix per chosen song, model and config.

Clips are read from a run folder (``audio/inputs/<song>.flac``, ``audio/<model>/<config_id>/<song>.flac``; old
runs' ``.wav`` files too), cut to a few seconds, mixed to mono, resampled to :data:`CLIP_RATE` Hz and encoded as
MP3 data URIs (libsndfile's LAME encoder: deterministic bytes, about 17 KB per 10 s, a twentieth of 16-bit WAV;
every current browser plays them), so the report is one file. When the embedded audio would exceed a size
budget, later clips are linked by relative path instead, without being read (they still play offline when
``report.html`` sits in the run folder); a mix past the budget is left to the "play input + output" button.
Missing files are tolerated: the clip says so; an output the sweep found all-zero (a ``<song>.silent`` marker,
no audio file) says "silent". With ``write_audio = "examples"`` only some songs have audio:
:func:`choose_songs` prefers those.

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

__all__ = ["CLIP_RATE", "Clip", "SongClips", "audio_data_uri", "audio_file", "choose_songs", "collect_clips"]

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


def audio_data_uri(audio: np.ndarray, sample_rate: int) -> str:
    """``audio`` (``(channels, n)`` or ``(n,)``) as a mono MP3 ``data:`` URI (16-bit FLAC where the installed
    libsndfile cannot write MP3; both encoders give the same bytes for the same samples)."""
    mono = np.asarray(audio, dtype=np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    buffer = io.BytesIO()
    mono = np.clip(mono, -1.0, 1.0)
    if "MP3" in soundfile.available_formats():
        soundfile.write(buffer, mono, int(sample_rate), format="MP3", subtype="MPEG_LAYER_III")
        kind = "mpeg"
    else:
        soundfile.write(buffer, mono, int(sample_rate), format="FLAC", subtype="PCM_16")
        kind = "flac"
    return f"data:audio/{kind};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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

    def clip(path: Path, audio: np.ndarray | None = None, sample_rate: int = 0) -> tuple[Clip, object]:
        """The player of ``path`` (or of ``audio``, a mix) and the audio it read (``None`` when not read)."""
        nonlocal used
        if audio is None and not path.is_file():
            return Clip(note="silent" if path.with_suffix(".silent").is_file() else "no audio file"), None
        if used >= budget_bytes:
            if path.is_file():
                return Clip(src=_relative(run_dir, path), note="linked (over the embedding budget)"), None
            return Clip(note="over the embedding budget: use 'play input + output'"), None
        loaded = None
        if audio is None:
            loaded = _read(path, seconds)
            if loaded is None:
                return Clip(note="unreadable audio file"), None
            audio, sample_rate = loaded
        uri = audio_data_uri(*_for_clip(audio, sample_rate))
        if used + len(uri) > budget_bytes and path.is_file():
            used = budget_bytes
            return Clip(src=_relative(run_dir, path), note="linked (over the embedding budget)"), loaded
        used += len(uri)
        return Clip(src=uri, embedded=True), loaded

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
        entry = SongClips(song=song, input=clip(input_path, *(loaded_input or ()))[0])
        for model, version, config_id in keys.itertuples(index=False):
            rows = results[
                (results["model"] == model) & (results["config_id"] == config_id) & (results["song"] == song)
            ]
            if rows.empty:
                continue
            label = (labels or {}).get((model, version), model)
            folder = audio_dir / model / config_id
            output_path = audio_file(folder, song) or folder / f"{song}.flac"
            output, loaded_output = clip(output_path)
            mix = Clip(note="needs input and output audio")
            if loaded_input is not None and output.src:
                if loaded_output is not None:
                    mix = clip(Path("/nonexistent"), *_mix(loaded_input, loaded_output))[0]
                else:
                    mix = Clip(note="over the embedding budget: use 'play input + output'")
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
