"""Realism checks of rendered songs: do the stems play what the score says, when it says, how loud.

- :func:`score_onsets`: the onset times (seconds) of one part of a :class:`BandScore`, from its tempo map.
- :func:`onset_errors`: librosa's onset detector on a rendered stem against the score's onsets: for each
  score onset that stands clear of its neighbours, the nearest detected onset within a window; the median
  and maximum absolute error, the signed median (the renderer's and detector's common lag) and the share
  of score onsets found (recall).
- :func:`stem_loudness`: integrated loudness of each stem (ITU-R BS.1770, pyloudnorm), LUFS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import librosa
import numpy as np

from .band_render import loudness_lufs
from .band_score import BandScore

__all__ = ["OnsetCheck", "onset_errors", "score_onsets", "stem_loudness"]


@dataclass(frozen=True)
class OnsetCheck:
    """Rendered onsets against the score.

    Attributes
    ----------
    n_score : int
        Score onsets checked (those at least ``min_gap_s`` from the previous and the next one).
    n_matched : int
        Of those, how many have a detected onset within ``window_s``.
    recall : float
        ``n_matched / n_score``.
    median_abs_error_s, max_abs_error_s, median_error_s : float
        Over the matched onsets, seconds (detected minus score); ``nan`` when none matched.
    """

    n_score: int
    n_matched: int
    recall: float
    median_abs_error_s: float
    max_abs_error_s: float
    median_error_s: float


def score_onsets(score: BandScore, part: str) -> np.ndarray:
    """Distinct note onset times of ``part`` (seconds, sorted), through the score's tempo map."""
    positions = np.unique(score.parts[part].notes[:, 0])
    return score.seconds(positions)


def onset_errors(
    audio: np.ndarray,
    sample_rate: int,
    onsets_s: np.ndarray,
    *,
    window_s: float = 0.05,
    min_gap_s: float = 0.1,
    hop_length: int = 64,
    n_fft: int = 512,
) -> OnsetCheck:
    """Detect onsets in ``audio`` and compare with ``onsets_s``.

    The detector is librosa's: mel spectral flux (``onset_strength`` with a short ``n_fft`` window, frames
    every ``hop_length`` samples), peak picking, each peak moved back to the preceding energy minimum
    (``backtrack``), i.e. to where the attack starts.

    Parameters
    ----------
    audio : ndarray, float, shape (n_samples,)
        One rendered stem, mono.
    sample_rate : int
        Hz.
    onsets_s : ndarray, shape (n,)
        Score onsets, seconds, sorted.
    window_s : float
        Largest distance at which a detection counts as the score onset's.
    min_gap_s : float
        Only score onsets at least this far from both neighbours are checked (closer ones blur together).
    hop_length : int
        Samples between onset-strength frames (64 at 22050 Hz: 2.9 ms).
    n_fft : int
        STFT window of the onset strength, samples (512 at 22050 Hz: 23 ms).

    Returns
    -------
    OnsetCheck
    """
    onsets_s = np.asarray(onsets_s, dtype=np.float64)
    gaps = np.diff(onsets_s)
    clear = np.ones(len(onsets_s), dtype=bool)
    clear[1:] &= gaps >= min_gap_s
    clear[:-1] &= gaps >= min_gap_s
    checked = onsets_s[clear]
    envelope = librosa.onset.onset_strength(
        y=np.asarray(audio, dtype=np.float32), sr=int(sample_rate), hop_length=hop_length, n_fft=n_fft
    )
    detected = librosa.onset.onset_detect(
        onset_envelope=envelope.astype(np.float64),
        sr=int(sample_rate),
        hop_length=hop_length,
        backtrack=True,
        units="time",
    )
    if len(checked) == 0 or len(detected) == 0:
        return OnsetCheck(len(checked), 0, 0.0, np.nan, np.nan, np.nan)
    index = np.clip(np.searchsorted(detected, checked), 1, len(detected) - 1)
    left, right = detected[index - 1], detected[index]
    nearest = np.where(np.abs(left - checked) <= np.abs(right - checked), left, right)
    if len(detected) == 1:
        nearest = np.full_like(checked, detected[0])
    errors = nearest - checked
    matched = errors[np.abs(errors) <= window_s]
    if len(matched) == 0:
        return OnsetCheck(len(checked), 0, 0.0, np.nan, np.nan, np.nan)
    return OnsetCheck(
        n_score=len(checked),
        n_matched=len(matched),
        recall=len(matched) / len(checked),
        median_abs_error_s=float(np.median(np.abs(matched))),
        max_abs_error_s=float(np.max(np.abs(matched))),
        median_error_s=float(np.median(matched)),
    )


def stem_loudness(stems: Mapping[str, np.ndarray], sample_rate: int) -> dict[str, float]:
    """Integrated loudness of each mono stem, LUFS (``-inf`` for a silent one)."""
    return {name: loudness_lufs(audio, sample_rate) for name, audio in stems.items()}
