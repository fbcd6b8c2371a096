"""The seed paper's beat alignment: madmom's ``BeatEvaluation`` of the input's beats against a stem's beats.

The seed paper (Wu et al., arXiv 2510.22105; ``stream_music_gen/eval/beat_alignment_eval.py``) tracks beats
with Beat This on the input (the context), on the ground-truth accompaniment stem and on the generated stem,
each alone, and reports ``madmom.evaluation.beats.BeatEvaluation(context_beats, stem_beats)`` with madmom's
defaults: the input's beats are madmom's *detections*, the stem's beats its *annotations*. That orientation
matters for Cemgil and the continuity scores (F-measure is symmetric); this module keeps it. Defaults: F-measure
window +-70 ms, Cemgil sigma 40 ms, continuity phase and tempo tolerances 17.5 %, off-beat, double/half and
triple/third variations for AMLc/AMLt, nothing skipped at the start (madmom's ``skip=0``; mir_eval's
``beat.evaluate`` drops the first 5 s).

:func:`evaluate` returns ``f_measure, cemgil, cmlc, cmlt, amlc, amlt`` equal to madmom's (tests compare with
madmom where it is installed). Where mir_eval's function computes madmom's definition it is used; what differs
is written here:

- ``f_measure``: ``mir_eval.beat.f_measure`` (its maximum matching finds as many pairs within the window as
  madmom's greedy walk through the two sorted lists; precision and recall are the same ratios). Differs only
  when both lists are empty: madmom gives 1, mir_eval 0.
- ``cemgil``: ``mir_eval.beat.cemgil(reference=input, estimated=stem, cemgil_sigma=0.04)[0]``: madmom sums
  the Gaussian of each *detection's* (input beat's) distance to its nearest annotation, mir_eval each
  *reference* beat's, so the input is passed as mir_eval's reference. Both empty: madmom 1, mir_eval 0. The
  sums run in a different order (differences of about 1e-16).
- ``cmlc, cmlt, amlc, amlt``: written here (:func:`continuity`), because mir_eval's ``continuity`` is another
  definition (the Matlab toolbox's: it also requires the previous beat to be correct, normalises by the
  reference length and has no triple/third variations). madmom: a detection is correct when it is within 17.5 %
  of the annotated interval of its nearest annotation and its own interval is within 17.5 % of that
  interval; CMLc is the longest run of consecutive correct detections, CMLt their number, both divided by the
  longer list's length; AMLc/AMLt take the best over the annotation variations, and are skipped (CML values
  kept) when CMLc > 0.5 already; fewer than two beats in either list give 0 (both empty: 1).
- Degenerate lists follow madmom: both empty score 1 everywhere; exactly one empty scores 0. A stem with exactly
  one beat against an input with beats makes madmom's ``BeatEvaluation`` raise (its P-score and Goto need two
  annotations), and the paper's script then drops the example: every score is ``nan`` here.

Beat lists may be in any order and contain any finite times (madmom sorts them); nothing is trimmed.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict

import mir_eval
import numpy as np

__all__ = ["METRICS", "continuity", "evaluate", "validate"]

METRICS = ("f_measure", "cemgil", "cmlc", "cmlt", "amlc", "amlt")
"""The paper's six scores, in its order."""

F_MEASURE_WINDOW_S = 0.07
CEMGIL_SIGMA_S = 0.04
PHASE_TOLERANCE = 0.175
TEMPO_TOLERANCE = 0.175


def validate(input_beats: np.ndarray, stem_beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both beat lists as sorted float64 1-D arrays (seconds); ``ValueError`` for non-finite times or 2-D input."""
    arrays = []
    for name, beats in (("input_beats", input_beats), ("stem_beats", stem_beats)):
        array = np.asarray(beats, dtype=np.float64)
        if array.ndim > 1:
            raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contain non-finite times")
        arrays.append(np.sort(array.reshape(-1)))
    return arrays[0], arrays[1]


def _intervals(beats: np.ndarray) -> np.ndarray:
    """Interval to the previous beat; the first beat gets the second's (madmom's ``calc_intervals``)."""
    intervals = np.zeros_like(beats)
    intervals[1:] = np.diff(beats)
    intervals[0] = intervals[1]
    return intervals


def _nearest(detections: np.ndarray, annotations: np.ndarray) -> np.ndarray:
    """Index of each detection's nearest annotation, the later one on ties (madmom's ``find_closest_matches``)."""
    index = np.clip(np.searchsorted(annotations, detections), 1, len(annotations) - 1)
    left, right = annotations[index - 1], annotations[index]
    return index - (detections - left < right - detections)


def _longest_run(indices: np.ndarray) -> int:
    """Length of the longest run of consecutive integers in sorted ``indices`` (0 when empty)."""
    if indices.size == 0:
        return 0
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    return int(np.max(np.diff(np.concatenate(([0], breaks, [indices.size])))))


def _cml(detections: np.ndarray, annotations: np.ndarray) -> tuple[float, float]:
    """CMLc and CMLt of ``detections`` (>= 2) against ``annotations``, madmom's ``cml``."""
    if annotations.size == 0:
        return 0.0, 0.0
    if annotations.size < 2:
        return math.nan, math.nan  # madmom raises; its continuity() ignores the variation
    nearest = _nearest(detections, annotations)
    errors = np.abs(detections - annotations[nearest])
    annotated = _intervals(annotations)[nearest]
    phase_ok = detections[errors <= annotated * PHASE_TOLERANCE]
    tempo_ok = detections[abs(1 - (_intervals(detections) / annotated)) <= TEMPO_TOLERANCE]
    correct = np.intersect1d(phase_ok, tempo_ok)
    length = float(max(detections.size, annotations.size))
    return _longest_run(np.searchsorted(detections, correct)) / length, correct.size / length


def _variations(annotations: np.ndarray) -> list[np.ndarray]:
    """Off-beat, double, half (odd, even), triple and third (three phases) versions of the annotations."""
    positions = np.arange(annotations.size)
    double = np.interp(np.arange(0, annotations.size, 0.5)[:-1], positions, annotations)
    triple = np.interp(np.arange(0, annotations.size, 1.0 / 3)[:-2], positions, annotations)
    return [
        double[1::2],
        double,
        annotations[0::2],
        annotations[1::2],
        triple,
        annotations[0::3],
        annotations[1::3],
        annotations[2::3],
    ]


def continuity(detections: np.ndarray, annotations: np.ndarray) -> tuple[float, float, float, float]:
    """madmom's ``continuity`` at its defaults: ``(cmlc, cmlt, amlc, amlt)``.

    Parameters
    ----------
    detections, annotations : ndarray
        Sorted beat times, seconds (madmom's argument order: the paper passes the input's beats first).
    """
    if detections.size == 0 and annotations.size == 0:
        return 1.0, 1.0, 1.0, 1.0
    if detections.size <= 1 or annotations.size <= 1:
        return 0.0, 0.0, 0.0, 0.0
    cmlc, cmlt = _cml(detections, annotations)
    amlc, amlt = cmlc, cmlt
    if cmlc > 0.5:  # madmom's shortcut: the other metrical levels are not tried
        return cmlc, cmlt, amlc, amlt
    for variation in _variations(annotations):
        c, t = _cml(detections, variation)
        amlc = max(amlc, c) if not math.isnan(c) else amlc
        amlt = max(amlt, t) if not math.isnan(t) else amlt
    return cmlc, cmlt, amlc, amlt


def evaluate(input_beats: np.ndarray, stem_beats: np.ndarray) -> OrderedDict[str, float]:
    """The paper's beat alignment of a stem with the input: ``BeatEvaluation(input_beats, stem_beats)``.

    Parameters
    ----------
    input_beats : ndarray, shape (n,)
        The input's (context's) beats, seconds: madmom's detections.
    stem_beats : ndarray, shape (m,)
        The stem's beats (the generated output, or the ground-truth accompaniment), seconds: madmom's
        annotations.

    Returns
    -------
    scores : OrderedDict
        ``f_measure, cemgil, cmlc, cmlt, amlc, amlt`` in [0, 1]; all ``nan`` when the stem has exactly one beat
        and the input has any (madmom raises; the paper drops the example).

    Examples
    --------
    >>> grid = np.arange(1, 21) * 0.5
    >>> scores = evaluate(grid, grid[::2])  # the stem plays every other beat: AMLt accepts half tempo
    >>> round(scores["f_measure"], 3), scores["cmlt"], scores["amlt"]
    (0.667, 0.0, 0.95)
    """
    detections, annotations = validate(input_beats, stem_beats)
    scores: OrderedDict[str, float] = OrderedDict()
    if detections.size == 0 and annotations.size == 0:
        scores.update((name, 1.0) for name in METRICS)
        return scores
    if annotations.size == 1 and detections.size >= 1:
        scores.update((name, math.nan) for name in METRICS)
        return scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns about empty lists; the value (0) is madmom's too
        scores["f_measure"] = float(mir_eval.beat.f_measure(annotations, detections, F_MEASURE_WINDOW_S))
        scores["cemgil"] = float(mir_eval.beat.cemgil(detections, annotations, CEMGIL_SIGMA_S)[0])
    cmlc, cmlt, amlc, amlt = continuity(detections, annotations)
    scores.update(cmlc=float(cmlc), cmlt=float(cmlt), amlc=float(amlc), amlt=float(amlt))
    return scores
