"""Audio I/O, resampling and channel handling.

Audio arrays are float32 ``(channels, n_samples)`` throughout accbench. Files are read and written with
soundfile; resampling uses soxr (high quality, deterministic). Writes are atomic: a file is written
beside its destination and renamed into place, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile
import soxr

from accbench.atomic import atomic_path
from accbench.errors import DataError

__all__ = [
    "as_channels_first",
    "audio_info",
    "load_audio",
    "match_channels",
    "normalize_rms",
    "resample",
    "rms_dbfs",
    "write_audio_atomic",
]


def as_channels_first(audio: np.ndarray, *, name: str = "audio", song: str | None = None) -> np.ndarray:
    """Return ``audio`` as a float32 ``(channels, n_samples)`` array.

    A 1-D array is one channel. A 2-D array is read as ``(channels, n_samples)``.
    """
    array = np.asarray(audio)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise DataError(f"{name} must be 1-D or (channels, n_samples), got shape {array.shape}", song=song)
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"{name} must be numeric, got dtype {array.dtype}", song=song)
    return np.ascontiguousarray(array, dtype=np.float32)


def match_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Down-mix (mean) or duplicate ``(c, n)`` audio to ``channels`` channels.

    Mono is duplicated to any number of channels; more channels than wanted are averaged to mono first.
    """
    current = audio.shape[0]
    if current == channels:
        return audio
    mono = audio if current == 1 else audio.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
    return np.ascontiguousarray(np.repeat(mono, channels, axis=0))


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``(channels, n)`` float32 audio from ``orig_sr`` to ``target_sr`` Hz with soxr (HQ).

    The output has ``round(n * target_sr / orig_sr)`` samples (soxr's length convention).
    """
    if orig_sr == target_sr:
        return audio
    if audio.shape[1] == 0:
        return np.zeros((audio.shape[0], 0), dtype=np.float32)
    out = soxr.resample(audio.T, orig_sr, target_sr, quality="HQ")
    return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(-1, audio.shape[0]).T)


def _check_file(path: Path, song: str | None) -> int:
    """The size of ``path`` in bytes; a :class:`DataError` when it is missing or empty (0 bytes)."""
    if not path.is_file():
        raise DataError("file not found", song=song, path=str(path))
    size = path.stat().st_size
    if size == 0:
        raise DataError("the file is empty (0 bytes), not audio", song=song, path=str(path))
    return size


def _unreadable(path: Path, size: int, error: Exception, song: str | None) -> DataError:
    """A one-line :class:`DataError` for a file soundfile cannot open (libsndfile's reason, size in bytes)."""
    detail = str(error).strip()
    # libsndfile repeats the path ("Error opening '/x.wav': Format not recognised."); the error names it already.
    prefix = f"Error opening {str(path)!r}: "
    detail = detail[len(prefix) :] if detail.startswith(prefix) else detail
    detail = " ".join(detail.rstrip(".").split()) or type(error).__name__
    return DataError(f"cannot read audio: {detail} ({size} bytes)", song=song, path=str(path))


def audio_info(path: str | os.PathLike, *, song: str | None = None) -> soundfile._SoundFileInfo:
    """The header of an audio file (``frames``, ``samplerate``, ``channels``), read without the samples.

    Raises
    ------
    DataError
        Missing, empty (0 bytes), unreadable or sample-less file; the message names the song and file.
    """
    path = Path(path)
    size = _check_file(path, song)
    try:
        info = soundfile.info(str(path))
    except Exception as error:  # libsndfile raises several types for unreadable files
        raise _unreadable(path, size, error, song) from None
    if info.frames <= 0:
        raise DataError("audio file has no samples", song=song, path=str(path))
    return info


def load_audio(
    path: str | os.PathLike,
    *,
    sample_rate: int | None = None,
    song: str | None = None,
) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 ``(channels, n)``, optionally resampled to ``sample_rate`` Hz.

    Returns
    -------
    audio : ndarray, float32, shape (channels, n_samples)
    sample_rate : int
        Hz of ``audio``.

    Raises
    ------
    DataError
        Missing, empty (0 bytes), unreadable or sample-less file, or non-finite samples; the message names
        the song and file.
    """
    path = Path(path)
    size = _check_file(path, song)
    try:
        data, file_sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise _unreadable(path, size, error, song) from None
    audio = np.ascontiguousarray(data.T)
    if audio.shape[1] == 0:
        raise DataError("audio file has no samples", song=song, path=str(path))
    if not np.all(np.isfinite(audio)):
        raise DataError("audio contains NaN or infinite samples", song=song, path=str(path))
    if sample_rate is not None and sample_rate != file_sr:
        audio = resample(audio, int(file_sr), int(sample_rate))
        file_sr = sample_rate
    return audio, int(file_sr)


def write_audio_atomic(path: str | os.PathLike, audio: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> int:
    """Write ``(channels, n)`` audio to ``path`` atomically (temporary file + rename).

    The format follows the file extension (``.wav``, ``.flac``, ``.ogg``); ``subtype`` defaults to 32-bit
    float so that written outputs are bit-exact copies of the simulated ones (WAV only; FLAC uses PCM_24).
    Integer subtypes (``"PCM_16"``, ``"PCM_24"``) hold [-1, 1] only: samples beyond are clipped to full
    scale (never rescaled, so the written level is the scored one) and the number of clipped samples is
    returned, for the caller to record.

    Returns
    -------
    clipped : int
        Samples (over all channels) clipped to [-1, 1]; 0 for float subtypes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = as_channels_first(audio)
    fmt = path.suffix.lstrip(".").upper() or "WAV"
    if fmt != "WAV" and subtype == "FLOAT":
        subtype = "PCM_24" if fmt == "FLAC" else None
    clipped = 0
    if subtype is not None and subtype.startswith("PCM"):
        clipped = int(np.count_nonzero(np.abs(audio) > 1.0))
        if clipped:
            audio = np.clip(audio, -1.0, 1.0)
    with atomic_path(path) as temporary:
        soundfile.write(str(temporary), audio.T, int(sample_rate), subtype=subtype, format=fmt)
    return clipped


def rms_dbfs(audio: np.ndarray) -> float:
    """Root-mean-square level of ``audio`` in dB relative to full scale (a full-scale square wave is 0 dB).

    The mean runs over all channels and samples. Silence (or empty audio) is ``-inf``.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)

    Returns
    -------
    level : float
        dBFS.
    """
    array = np.asarray(audio, dtype=np.float64)
    if array.size == 0:
        return float("-inf")
    mean_square = float(np.mean(np.square(array)))
    return 10.0 * float(np.log10(mean_square)) if mean_square > 0 else float("-inf")


def normalize_rms(audio: np.ndarray, target_db: float = -18.0) -> tuple[np.ndarray, float]:
    """Scale ``audio`` so that its RMS level (:func:`rms_dbfs`) is ``target_db`` dBFS.

    RMS over the whole signal is the loudness measure of accbench: simple, exact and dependency-free. (The
    seed paper normalises stems to -18 dB.) No limiter is applied: float audio may exceed 1.0 after a gain.
    Silent audio is returned unchanged with a gain of 0 dB, since no gain gives it a level.

    Parameters
    ----------
    audio : ndarray, float32, shape (channels, n_samples)
    target_db : float
        Target RMS level in dBFS.

    Returns
    -------
    audio : ndarray, float32, same shape
    gain_db : float
        The gain applied, dB.
    """
    level = rms_dbfs(audio)
    if not np.isfinite(level):
        return np.asarray(audio, dtype=np.float32), 0.0
    gain_db = float(target_db) - level
    scaled = np.asarray(audio, dtype=np.float64) * (10.0 ** (gain_db / 20.0))
    return scaled.astype(np.float32), gain_db
