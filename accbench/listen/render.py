"""The clips a listener hears: one excerpt of the input plus a system's accompaniment, loudness-matched, compressed.

Every clip of a song is cut from the same excerpt of the song's timeline, mixed to mono (input and
accompaniment summed as the run rendered them), resampled to the study's rate, brought to one integrated
loudness (ITU-R BS.1770, :func:`accbench.loudness.integrated_loudness`) and then scaled by one common gain
so that no clip of the study clips; the clips are encoded as MP3, Ogg Vorbis or FLAC (all three play in
Chromium and Firefox; MP3 and FLAC also in Safari).

- :func:`read_excerpt`: a mono excerpt of an audio file at a given rate.
- :func:`mix`: input plus accompaniment.
- :func:`loudness_match`: every clip at one integrated loudness, with a common headroom gain.
- :func:`encode`: write a clip atomically in a compressed format.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile

from accbench.atomic import atomic_path
from accbench.audio import load_audio, resample
from accbench.errors import ConfigError
from accbench.loudness import integrated_loudness

__all__ = ["FORMATS", "PEAK", "encode", "loudness_match", "mix", "read_excerpt"]

#: Clip formats: file suffix -> (libsndfile format, subtype).
FORMATS = {"mp3": ("MP3", "MPEG_LAYER_III"), "ogg": ("OGG", "VORBIS"), "flac": ("FLAC", "PCM_16")}

#: Highest sample magnitude of any clip after the common headroom gain.
PEAK = 0.98


def read_excerpt(path: str | os.PathLike, start_s: float, seconds: float, sample_rate: int) -> np.ndarray:
    """A mono excerpt ``[start_s, start_s + seconds)`` of an audio file, at ``sample_rate`` Hz.

    Parameters
    ----------
    path : path-like
        Any file :func:`accbench.audio.load_audio` reads.
    start_s, seconds : float
        Excerpt start and length, in seconds of the file's timeline.
    sample_rate : int
        Hz of the returned excerpt.

    Returns
    -------
    excerpt : ndarray, float32, shape (round(seconds * sample_rate),)
        Zero-padded where the file is shorter than the excerpt.
    """
    audio, rate = load_audio(path)
    start, stop = int(round(start_s * rate)), int(round((start_s + seconds) * rate))
    mono = audio[:, start:stop].mean(axis=0, keepdims=True)
    mono = resample(np.ascontiguousarray(mono, dtype=np.float32), rate, int(sample_rate))[0]
    length = int(round(seconds * sample_rate))
    out = np.zeros(length, dtype=np.float32)
    out[: min(length, mono.size)] = mono[:length]
    return out


def mix(melody: np.ndarray, accompaniment: np.ndarray | None) -> np.ndarray:
    """``melody + accompaniment`` (same length, mono float32); the melody alone when there is no accompaniment."""
    if accompaniment is None:
        return np.asarray(melody, dtype=np.float32).copy()
    return (np.asarray(melody, dtype=np.float32) + np.asarray(accompaniment, dtype=np.float32)).astype(np.float32)


def loudness_match(
    clips: Sequence[np.ndarray], sample_rate: int, target_lufs: float = -23.0, peak: float = PEAK
) -> tuple[list[np.ndarray], list[float]]:
    """Bring every clip to ``target_lufs`` integrated loudness, then scale all by one gain so none exceeds ``peak``.

    Parameters
    ----------
    clips : sequence of ndarray, float32, shape (n,)
        Mono clips at ``sample_rate`` Hz, each at least 0.4 s long (one BS.1770 gating block).
    sample_rate : int
        Hz.
    target_lufs : float
        Integrated loudness (LUFS) of every clip before the common headroom gain.
    peak : float
        Largest sample magnitude allowed after the common gain.

    Returns
    -------
    matched : list of ndarray
        The clips; a silent clip (no gated loudness) is returned unchanged.
    loudness : list of float
        Each input clip's integrated loudness in LUFS (``-inf`` when silent).
    """
    levels, scaled = [], []
    for clip in clips:
        clip = np.asarray(clip, dtype=np.float64)
        if clip.size <= int(0.4 * sample_rate):
            raise ConfigError(f"clips must be over 0.4 s long to measure their loudness, got {clip.size} samples")
        measured = integrated_loudness(clip, int(sample_rate))
        level = float("-inf") if measured is None else measured
        levels.append(level)
        scaled.append(clip * 10.0 ** ((target_lufs - level) / 20.0) if np.isfinite(level) else clip)
    top = max((float(np.max(np.abs(c))) for c in scaled if c.size), default=0.0)
    headroom = min(1.0, peak / top) if top > 0 else 1.0
    return [(c * headroom).astype(np.float32) for c in scaled], levels


def encode(path: str | os.PathLike, clip: np.ndarray, sample_rate: int) -> int:
    """Write a mono clip to ``path`` (format from the suffix, :data:`FORMATS`) atomically; returns its size in bytes."""
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise ConfigError(f"clip format {suffix!r} is not one of {', '.join(FORMATS)}")
    fmt, subtype = FORMATS[suffix]
    if subtype not in soundfile.available_subtypes(fmt):
        raise ConfigError(f"this libsndfile cannot write {fmt} {subtype}: choose another --audio-format")
    data = np.clip(np.asarray(clip, dtype=np.float32), -1.0, 1.0)
    quality = {} if fmt == "FLAC" else {"compression_level": 0.0}  # lossy formats at their best quality
    with atomic_path(path) as temporary:
        soundfile.write(str(temporary), data, int(sample_rate), format=fmt, subtype=subtype, **quality)
    return path.stat().st_size
