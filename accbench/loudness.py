"""Loudness normalisation of stems and mixes as in the seed paper's evaluation (ITU-R BS.1770-4, pyloudnorm).

"Streaming Generation for Music Accompaniment" (Wu et al., appendix A.9; lukewys/stream-music-gen,
``stream_music_gen/utils/audio_utils.py``) writes every stem it scores (input, reference accompaniment,
generated accompaniment) loudness-normalised to -18 LUFS with a sample-peak guard of 0.99, and builds every
mix by setting the accompaniment stem to the loudness of one input stem + 5 dB, adding it to the input and
normalising the mix to -18 LUFS (same peak guard). This module does the same with pyloudnorm's BS.1770-4
meter (the library the authors use), as plain functions over float arrays.

Degenerate stems. pyloudnorm cannot measure a signal shorter than one 400 ms gating block (it raises) and
reports ``-inf`` LUFS for one whose blocks are all below the -70 LUFS absolute gate (digital silence); the
authors' code then multiplies by an infinite gain and writes NaN. Here such a stem is *unmeasurable*:
:func:`integrated_loudness` returns ``None``, no loudness gain is applied (0 dB) and only the peak guard acts,
so silence stays silence and every result is finite. :func:`mix_with_stem` likewise adds an unmeasurable
stem unscaled and leaves an unmeasurable mix at its level.

Audio is float ``(channels, n_samples)`` or 1-D mono, any sample rate (Hz); outputs are float32 in the same
layout.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from accbench.audio import as_channels_first
from accbench.errors import DataError

__all__ = [
    "PAPER_PEAK",
    "PAPER_STEM_OFFSET_DB",
    "PAPER_TARGET_LUFS",
    "Normalised",
    "integrated_loudness",
    "mix_with_stem",
    "normalize_loudness",
]

PAPER_TARGET_LUFS = -18.0
"""Integrated loudness of every stem and mix in the paper's evaluation, LUFS."""

PAPER_STEM_OFFSET_DB = 5.0
"""Level of the accompaniment stem in a mix relative to one input stem, dB."""

PAPER_PEAK = 0.99
"""Sample-peak ceiling after normalisation (linear, full scale 1.0)."""

_BLOCK_S = 0.4  # BS.1770 gating block


@dataclass(frozen=True)
class Normalised:
    """A normalised signal and what was done to it.

    Attributes
    ----------
    audio : ndarray, float32
        The result, in the layout of the input.
    loudness : float or None
        Integrated loudness before normalisation, LUFS; ``None`` when unmeasurable (shorter than 400 ms, or
        silent below the -70 LUFS gate).
    gain_db : float
        Total gain applied, dB (loudness gain plus peak guard); always finite.
    """

    audio: np.ndarray
    loudness: float | None
    gain_db: float


def _layout(audio: np.ndarray, song: str | None) -> tuple[np.ndarray, bool]:
    array = np.asarray(audio)
    mono = array.ndim == 1
    checked = as_channels_first(array, name="audio", song=song)  # float32, as the authors' stems
    if not np.all(np.isfinite(checked)):
        raise DataError("audio contains NaN or infinite samples", song=song)
    return checked, mono


def integrated_loudness(audio: np.ndarray, sample_rate: int, *, song: str | None = None) -> float | None:
    """Integrated loudness (ITU-R BS.1770-4, pyloudnorm's meter), LUFS.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
        Up to 5 channels (BS.1770 channel weights), at ``sample_rate`` Hz.
    sample_rate : int
    song : str or None
        Song id for error messages.

    Returns
    -------
    float or None
        LUFS; ``None`` when the signal is shorter than one 400 ms block or every block is below the absolute
        gate (silence).

    Examples
    --------
    >>> integrated_loudness(np.zeros(16000), 16000) is None
    True
    """
    import pyloudnorm

    signal, _ = _layout(audio, song)
    if signal.shape[1] <= round(_BLOCK_S * sample_rate):
        return None  # shorter than one gating block: BS.1770 defines no loudness
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(pyloudnorm.Meter(int(sample_rate)).integrated_loudness(signal.T))
    return value if math.isfinite(value) else None


def _peak_guard(audio: np.ndarray, peak: float) -> tuple[np.ndarray, float]:
    top = float(np.max(np.abs(audio), initial=0.0))
    if top > peak:
        return audio * (peak / top), 20.0 * math.log10(peak / top)
    return audio, 0.0


def _restore(audio: np.ndarray, mono: bool) -> np.ndarray:
    return (audio[0] if mono else audio).astype(np.float32)


def normalize_loudness(
    audio: np.ndarray,
    sample_rate: int,
    *,
    target_lufs: float = PAPER_TARGET_LUFS,
    peak: float = PAPER_PEAK,
    song: str | None = None,
) -> Normalised:
    """Scale a stem to ``target_lufs``, then scale down if its sample peak exceeds ``peak``.

    The authors' ``loudness_normalize_audio``. An unmeasurable stem (see :func:`integrated_loudness`) gets no
    loudness gain; the peak guard still applies.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
    sample_rate : int
        Hz.
    target_lufs : float
        Default -18 LUFS.
    peak : float
        Sample-peak ceiling (linear), default 0.99.
    song : str or None
        Song id for error messages.

    Returns
    -------
    Normalised
    """
    signal, mono = _layout(audio, song)
    loudness = integrated_loudness(signal, sample_rate, song=song)
    gain_db = 0.0 if loudness is None else float(target_lufs) - loudness
    scaled, guard_db = _peak_guard(signal.astype(np.float64) * 10.0 ** (gain_db / 20.0), float(peak))
    return Normalised(_restore(scaled, mono), loudness, gain_db + guard_db)


def mix_with_stem(
    input_mix: np.ndarray,
    stem: np.ndarray,
    sample_rate: int,
    *,
    num_input_stems: int = 1,
    stem_offset_db: float = PAPER_STEM_OFFSET_DB,
    target_lufs: float = PAPER_TARGET_LUFS,
    peak: float = PAPER_PEAK,
    song: str | None = None,
) -> Normalised:
    """Mix an accompaniment stem into the input as the paper does (``mix_with_generated_stem``).

    The stem is set to the loudness of one of the input's ``num_input_stems`` stems plus ``stem_offset_db``
    (``L_input - 10 log10(num_input_stems) + 5 dB``), added to the input, and the mix is normalised to
    ``target_lufs`` with the peak guard.

    Parameters
    ----------
    input_mix, stem : ndarray, shape (channels, n_samples) or (n_samples,)
        Same shape; at ``sample_rate`` Hz.
    sample_rate : int
    num_input_stems : int
        Number of stems the input mix holds (>= 1); the paper passes each example's count.
    stem_offset_db, target_lufs, peak : float
        Defaults +5 dB, -18 LUFS, 0.99.
    song : str or None
        Song id for error messages.

    Returns
    -------
    Normalised
        The mix; ``loudness`` is the mix's loudness before the final normalisation and ``gain_db`` the gain
        applied to the mix (the stem's own gain is not reported).
    """
    if num_input_stems < 1:
        raise DataError(f"num_input_stems must be >= 1, got {num_input_stems}", song=song)
    x, mono = _layout(input_mix, song)
    y, _ = _layout(stem, song)
    if x.shape != y.shape:
        raise DataError(f"input {x.shape} and stem {y.shape} must have the same shape", song=song)
    loudness_input = integrated_loudness(x, sample_rate, song=song)
    loudness_stem = integrated_loudness(y, sample_rate, song=song)
    if loudness_input is not None and loudness_stem is not None:
        target_stem = loudness_input - 10.0 * math.log10(num_input_stems) + float(stem_offset_db)
        y = (y.astype(np.float64) * 10.0 ** ((target_stem - loudness_stem) / 20.0)).astype(np.float32)
    # An unmeasurable input or stem has no level to match: the stem is added as it is.
    mixed = normalize_loudness(x + y, sample_rate, target_lufs=target_lufs, peak=peak, song=song)
    audio = mixed.audio if not mono else mixed.audio[0]
    return Normalised(audio.astype(np.float32), mixed.loudness, mixed.gain_db)
