"""The tactus: which metrical level of an onset envelope is the beat.

An autocorrelation peak gives a period, not a level: a 140 BPM rock song has as strong a peak at 70 BPM (the
kick on 1 and 3) and at 280 BPM (the eighth-note hi-hats). :func:`choose_tactus` puts the candidate levels
related to the autocorrelation's tempo (1/4 to 4 times it, 40 to 240 BPM) side by side, tracks beats at each
(:func:`~accbench.metrics.analysis.track_beats`) and scores each level by :func:`level_features`, a few
measurements of how its beats sound, under a conditional-logit model (:data:`TACTUS_WEIGHTS`) fitted on the
``demo-band`` train split (``benchmarks/fit_tactus_model.py``; never on its valid or test songs):

- the tempo on a log scale (a prior that the model fits, centred where beats usually are);
- how strong the beats are (mean onset strength at the beats) and how much stronger than the midpoints
  between them (a level whose midpoints are as strong as its beats is too slow);
- whether every other beat is much weaker (a level that alternates strong and weak beats is too fast);
- whether the low band (kick, bass) and the middle band (snare) alternate from beat to beat in windows of
  eight beats: the backbeat, kick on 1 and 3, snare on 2 and 4, is the strongest cue to the beat of drummed
  music (without it punk at 170 BPM is heard at 85, like rock at 85 BPM with eighth-note hi-hats).

Every function works on plain numpy arrays; frames are those of the onset envelope (``frame_rate`` per second).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

__all__ = [
    "LEVEL_FEATURES",
    "LEVEL_RATIOS",
    "TACTUS_WEIGHTS",
    "TactusChoice",
    "choose_tactus",
    "level_candidates",
    "level_features",
    "local_alternation",
    "parabolic_offset",
    "smoothed_strength",
]

LEVEL_RATIOS = (1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0, 3 / 2, 2.0, 3.0, 4.0)
"""Candidate levels as multiples of the autocorrelation's tempo."""

LEVEL_FEATURES = (
    "log2_tempo_over_120",
    "log2_tempo_over_120_squared",
    "log_beat_strength",
    "log_midpoint_over_beat",
    "log_parity_ratio",
    "low_band_alternation",
    "mid_band_alternation",
)
"""Names of the columns :func:`level_features` returns, in order."""

TACTUS_WEIGHTS = np.array([1.85, -3.45, 12.36, -0.01, -5.58, 1.87, 5.52])
"""Conditional-logit weights of :data:`LEVEL_FEATURES`: the level with the largest ``features @ weights`` wins.

Fitted by ``benchmarks/fit_tactus_model.py`` (L2 penalty 0.1, beats tracked with the default tightness, 400)
on 384 train examples: the 192 ``demo-band`` train mixes, and the mix and the accompaniment of 96 train
chorales of the ``demo`` set. The chosen level is the annotated one for 99.2 % of them, 98.7 % in random 4-fold
cross-validation, 91.6 % when each style (the chorales one of them) is left out of the fit in turn (punk, the
only style above 160 BPM, 50 %), and for all 72 valid examples; the autocorrelation tempo alone: 89.8 % of
train and 93.1 % of valid examples. Changing the weights changes the default tracker's output: bump ``beats``
in :data:`~accbench.metrics.analysis.ANALYZER_VERSIONS`.
"""

_SMOOTHING_FRAMES = 2.0
"""Gaussian sigma (frames, 23 ms at 86 frames/s) of the onset strength read at the beats."""
_ALTERNATION_WINDOW = 8
"""Beats per window of :func:`local_alternation`."""
_MIN_BEATS = 6
_MIN_BPM = 40.0
_MAX_BPM = 240.0


@dataclass(frozen=True)
class TactusChoice:
    """The levels :func:`choose_tactus` compared and the one it chose.

    Attributes
    ----------
    bpm : float
        The chosen level's tempo (``nan`` when no level had enough beats).
    candidates : tuple of float
        Tempo of every level compared, BPM.
    scores : tuple of float
        ``features @ TACTUS_WEIGHTS`` of each candidate.
    features : ndarray, shape (n_candidates, len(LEVEL_FEATURES))
    """

    bpm: float
    candidates: tuple[float, ...]
    scores: tuple[float, ...]
    features: np.ndarray


def smoothed_strength(signal: np.ndarray, sigma_frames: float = _SMOOTHING_FRAMES) -> np.ndarray:
    """``signal`` divided by its standard deviation, under a Gaussian of ``sigma_frames`` (float64).

    The beat tracker's local score (:func:`~accbench.metrics.analysis.track_beats`, a 32nd of the period) and
    the onset strength :func:`level_features` reads at the beats (:data:`_SMOOTHING_FRAMES`).
    """
    signal = np.asarray(signal, dtype=np.float64)
    std = signal.std()
    normalised = signal / std if std > 0 else signal
    return scipy.ndimage.gaussian_filter1d(normalised, sigma_frames, mode="constant")


def parabolic_offset(before: float, peak: float, after: float) -> float:
    """Offset (in samples, within +-0.5) of the vertex of the parabola through three values around a peak.

    0 when they are not concave (a flat or rising run), so a peak at the edge of a plateau stays where it is.
    """
    denominator = before - 2 * peak + after
    return 0.5 * (before - after) / denominator if denominator < 0 else 0.0


def _read(curve: np.ndarray, frames: np.ndarray) -> np.ndarray:
    return np.interp(frames, np.arange(curve.size), curve)


def _peak_lag(acf: np.ndarray, lag: float, tolerance: float = 0.04) -> float:
    """The autocorrelation's largest lag within ``tolerance`` of ``lag``, refined by a parabola (frames)."""
    low = max(1, int(math.floor(lag * (1 - tolerance))))
    high = min(acf.size - 2, int(math.ceil(lag * (1 + tolerance))))
    if high < low:
        return lag
    best = low + int(np.argmax(acf[low : high + 1]))
    return best + parabolic_offset(acf[best - 1], acf[best], acf[best + 1])


def level_candidates(envelope: np.ndarray, frame_rate: float, bpm: float) -> list[float]:
    """Tempi (BPM) of the metrical levels related to ``bpm`` by :data:`LEVEL_RATIOS`, within 40-240 BPM.

    Each is moved to the onset envelope's nearest autocorrelation peak (within 4 %); levels within 4 % of an
    earlier one are dropped. ``envelope`` is onset strength, shape ``(n_frames,)``, at ``frame_rate`` frames/s.
    """
    import librosa

    envelope = np.asarray(envelope, dtype=np.float64)
    if not math.isfinite(bpm) or bpm <= 0 or envelope.size < 4:
        return []
    max_lag = min(envelope.size - 1, int(math.ceil(1.1 * 60.0 * frame_rate / _MIN_BPM)) + 2)
    acf = librosa.autocorrelate(envelope - envelope.mean(), max_size=max_lag + 1)
    found: list[float] = []
    for ratio in LEVEL_RATIOS:
        target = bpm * ratio
        if not _MIN_BPM <= target <= _MAX_BPM:
            continue
        level = 60.0 * frame_rate / _peak_lag(acf, 60.0 * frame_rate / target)
        if all(abs(level / other - 1) >= 0.04 for other in found):
            found.append(level)
    return found


def local_alternation(values: np.ndarray, window: int = _ALTERNATION_WINDOW) -> float:
    """How strongly ``values`` (one per beat) alternate between even and odd beats, window by window.

    The values are standardised, multiplied by +1, -1, +1, ... and averaged over each run of ``window``
    consecutive beats; the result is the mean absolute window average (0 for no alternation, about 1 for a
    perfect one). Working in windows keeps the measure when a section starts on the other parity.
    Fewer than ``2 * window`` values give 0.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2 * window:
        return 0.0
    standardised = (values - values.mean()) / (values.std() + 1e-6)
    signs = np.where(np.arange(values.size) % 2 == 0, 1.0, -1.0)
    means = np.convolve(standardised * signs, np.ones(window) / window, mode="valid")
    return float(np.mean(np.abs(means)))


def level_features(
    envelope: np.ndarray, bands: np.ndarray, frame_rate: float, beat_frames: np.ndarray
) -> np.ndarray | None:
    """Features (:data:`LEVEL_FEATURES`) of one metrical level from the beats tracked at it.

    Parameters
    ----------
    envelope : ndarray, shape (n_frames,)
        Onset strength (all bands).
    bands : ndarray, shape (3, n_frames)
        Onset strength of the low, middle and high band (see
        :func:`~accbench.metrics.analysis.onset_envelope`).
    frame_rate : float
        Frames per second.
    beat_frames : ndarray, shape (n_beats,)
        Beats tracked at the level's tempo, frames, increasing.

    Returns
    -------
    features : ndarray, float64, shape (len(LEVEL_FEATURES),), or None
        ``None`` with fewer than 6 beats.
    """
    return _features_at(
        smoothed_strength(envelope), [smoothed_strength(band) for band in bands[:2]], frame_rate, beat_frames
    )


def _features_at(
    strength: np.ndarray, low_mid: list[np.ndarray], frame_rate: float, beat_frames: np.ndarray
) -> np.ndarray | None:
    """:func:`level_features` from the smoothed envelope and the smoothed low and middle bands."""
    beat_frames = np.asarray(beat_frames, dtype=np.float64)
    if beat_frames.size < _MIN_BEATS:
        return None
    bpm = 60.0 * frame_rate / float(np.median(np.diff(beat_frames)))
    at_beats = _read(strength, beat_frames)
    midpoints = 0.5 * (beat_frames[1:] + beat_frames[:-1])
    beat, midpoint = at_beats.mean(), _read(strength, midpoints).mean()
    even, odd = at_beats[0::2].mean(), at_beats[1::2].mean()
    parity = max(even, odd) / max(min(even, odd), 1e-6)
    low, mid = (np.log(_read(band, beat_frames) + 0.05) for band in low_mid)
    tempo = math.log2(bpm / 120.0)
    eps = 1e-3
    return np.array(
        [
            tempo,
            tempo * tempo,
            math.log(beat + eps),
            math.log((midpoint + eps) / (beat + eps)),
            math.log(parity),
            local_alternation(low),
            local_alternation(mid),
        ]
    )


def choose_tactus(
    envelope: np.ndarray,
    bands: np.ndarray,
    frame_rate: float,
    bpm: float,
    track: Callable[[float], np.ndarray],
    weights: np.ndarray = TACTUS_WEIGHTS,
) -> TactusChoice:
    """The metrical level of ``bpm``'s family that :data:`TACTUS_WEIGHTS` scores highest.

    Parameters
    ----------
    envelope, bands, frame_rate
        As in :func:`level_features`.
    bpm : float
        The autocorrelation's tempo (:func:`~accbench.metrics.analysis.estimate_tempo`).
    track : callable
        ``track(bpm) -> beat_frames``: the beat tracker at a fixed tempo, without phase correction.
    weights : ndarray, shape (len(LEVEL_FEATURES),)

    Returns
    -------
    TactusChoice
        ``bpm`` itself when no candidate has 6 beats.
    """
    # The smoothed curves do not depend on the level: computed once for every candidate.
    strength, low_mid = smoothed_strength(envelope), [smoothed_strength(band) for band in bands[:2]]
    tempi, rows = [], []
    for level in level_candidates(envelope, frame_rate, bpm):
        features = _features_at(strength, low_mid, frame_rate, track(level))
        if features is not None:
            tempi.append(level)
            rows.append(features)
    if not rows:
        return TactusChoice(bpm, (), (), np.zeros((0, len(LEVEL_FEATURES))))
    features = np.stack(rows)
    scores = features @ np.asarray(weights, dtype=np.float64)
    return TactusChoice(tempi[int(np.argmax(scores))], tuple(tempi), tuple(float(s) for s in scores), features)
