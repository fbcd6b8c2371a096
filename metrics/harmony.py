"""Harmony metrics: do the output's chords match the reference chords, and does it fit the input?

Chords are mir_eval segments: ``(n, 2)`` arrays of ``[start, end)`` in seconds plus one mir_eval label per
segment (``"C:maj"``, ``"A:min7"``, ``"N"``). The reference chords come from annotations or from analysing the
reference mix; the estimate is the chord analysis of the output alone. Comparisons are weighted by duration
over the reference's time span (the estimate is padded with ``"N"`` or trimmed to it), as in
``mir_eval.chord.evaluate``. Reference segments a rule cannot compare (e.g. a diminished chord under
``sevenths``) are left out; when none is comparable the score is ``nan`` rather than mir_eval's 0.

The reference-free metrics compare the output with the input only: frame-wise chroma agreement and key
agreement. They exist for every song, with or without a reference.

Metrics
-------
- ``root``, ``majmin``, ``thirds``, ``triads``, ``sevenths``, ``mirex``: duration-weighted chord accuracy
  under mir_eval's comparison rules of the same names.
- ``chroma_agreement``: mean cosine similarity of 1 s smoothed input and output chroma over the frames where
  the input sounds (:func:`chroma_agreement`); silent output frames count 0.
- ``chord_tone_ratio``: fraction of the input's pitch-class energy that falls on tones of the output's chord at
  the same time (:func:`chord_tone_ratio`); the stronger reference-free test: on 10 demo songs it ranked the
  oracle above a mismatched accompaniment 10 times in 10 (mean margin 0.29), chroma agreement only 6 times.
- ``key_agreement``: mir_eval's weighted key score of the output's key against the input's key (1 same key,
  0.5 fifth, 0.3 relative, 0.2 parallel, else 0).
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mir_eval
import numpy as np
import scipy.ndimage

from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register

if TYPE_CHECKING:
    from accbench.metrics.scoring import SongAnalyses

__all__ = ["COMPARISONS", "GROUP", "chord_tone_ratio", "chroma_agreement", "evaluate", "key_agreement", "validate"]

COMPARISONS = {
    "root": mir_eval.chord.root,
    "majmin": mir_eval.chord.majmin,
    "thirds": mir_eval.chord.thirds,
    "triads": mir_eval.chord.triads,
    "sevenths": mir_eval.chord.sevenths,
    "mirex": mir_eval.chord.mirex,
}
"""mir_eval chord comparison rule of each harmony metric."""

register(
    *(
        MetricSpec(
            f"harmony.{name}",
            "higher",
            "fraction",
            (0.0, 1.0),
            f"Duration-weighted chord accuracy of the output vs reference chords ({name} rule)",
            True,
        )
        for name in COMPARISONS
    ),
    MetricSpec(
        "harmony.chroma_agreement",
        "higher",
        "",
        (-1.0, 1.0),
        "Mean cosine of 1 s smoothed input and output chroma (reference-free)",
    ),
    MetricSpec(
        "harmony.chord_tone_ratio",
        "higher",
        "fraction",
        (0.0, 1.0),
        "Fraction of input pitch-class energy on tones of the output's chord (reference-free)",
    ),
    MetricSpec(
        "harmony.key_agreement",
        "higher",
        "",
        (0.0, 1.0),
        "Weighted key score of output key vs input key (reference-free)",
    ),
)


def validate(
    reference_intervals: np.ndarray,
    reference_labels: Sequence[str],
    estimated_intervals: np.ndarray,
    estimated_labels: Sequence[str],
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """Check chord segments: ``(n, 2)`` finite intervals with end >= start, one valid mir_eval label each.

    Returns
    -------
    reference_intervals, reference_labels, estimated_intervals, estimated_labels
        float64 arrays and lists of str.
    """
    out = []
    for name, intervals, labels in (
        ("reference", reference_intervals, reference_labels),
        ("estimated", estimated_intervals, estimated_labels),
    ):
        array = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
        label_list = [str(label) for label in labels]
        if len(label_list) != len(array):
            raise ValueError(f"{name}: {len(array)} intervals but {len(label_list)} labels")
        if not np.all(np.isfinite(array)) or np.any(array[:, 1] < array[:, 0]):
            raise ValueError(f"{name} intervals must be finite with end >= start")
        for label in label_list:
            try:
                mir_eval.chord.validate_chord_label(label)
            except mir_eval.chord.InvalidChordException as error:
                raise ValueError(f"{name} chord label {label!r}: {error}") from None
        out.extend([array, label_list])
    return out[0], out[1], out[2], out[3]


def evaluate(
    reference_intervals: np.ndarray,
    reference_labels: Sequence[str],
    estimated_intervals: np.ndarray,
    estimated_labels: Sequence[str],
) -> OrderedDict[str, float]:
    """Duration-weighted chord accuracy under each rule of :data:`COMPARISONS`.

    Parameters
    ----------
    reference_intervals : ndarray, shape (n, 2)
        Seconds.
    reference_labels : sequence of str
    estimated_intervals : ndarray, shape (m, 2)
        Seconds.
    estimated_labels : sequence of str

    Returns
    -------
    scores : OrderedDict
        ``root, majmin, thirds, triads, sevenths, mirex`` in [0, 1]; ``nan`` for a rule under which no reference
        segment is comparable, and all ``nan`` for an empty or zero-length reference.

    Examples
    --------
    >>> reference = np.array([[0.0, 2.0], [2.0, 4.0]])
    >>> scores = evaluate(reference, ["C:maj", "G:maj"], np.array([[0.0, 3.0], [3.0, 4.0]]), ["C:maj", "G:7"])
    >>> scores["majmin"], scores["sevenths"]
    (0.75, 0.5)
    """
    reference_intervals, reference_labels, estimated_intervals, estimated_labels = validate(
        reference_intervals, reference_labels, estimated_intervals, estimated_labels
    )
    scores: OrderedDict[str, float] = OrderedDict()
    keep = reference_intervals[:, 1] > reference_intervals[:, 0]
    reference_intervals = reference_intervals[keep]
    reference_labels = [label for label, k in zip(reference_labels, keep, strict=True) if k]
    if reference_intervals.size == 0:
        # An empty reference has no duration to weight by; every score is undefined.
        scores.update((name, math.nan) for name in COMPARISONS)
        return scores
    start, end = float(reference_intervals.min()), float(reference_intervals.max())
    if estimated_intervals.size == 0:
        # No estimated segment: the estimate is "N" throughout.
        estimated_intervals, estimated_labels = np.array([[start, end]]), ["N"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimated_intervals, estimated_labels = mir_eval.util.adjust_intervals(
            estimated_intervals, estimated_labels, start, end, mir_eval.chord.NO_CHORD, mir_eval.chord.NO_CHORD
        )
        intervals, ref, est = mir_eval.util.merge_labeled_intervals(
            reference_intervals, reference_labels, estimated_intervals, estimated_labels
        )
        durations = mir_eval.util.intervals_to_durations(intervals)
        for name, compare in COMPARISONS.items():
            comparison = np.asarray(compare(ref, est), dtype=np.float64)
            valid = (comparison >= 0) & (durations > 0)
            # No reference segment is comparable under this rule: undefined, not 0.
            if not np.any(valid):
                scores[name] = math.nan
                continue
            weights = durations[valid]
            scores[name] = float(np.sum(comparison[valid] * weights) / np.sum(weights))
    return scores


def chroma_agreement(
    input_chroma: np.ndarray,
    output_chroma: np.ndarray,
    *,
    frame_period_s: float,
    smoothing_s: float = 1.0,
    silence_ratio: float = 0.02,
) -> float:
    """Mean frame-wise cosine similarity of smoothed input and output chroma.

    Parameters
    ----------
    input_chroma, output_chroma : ndarray, shape (12, n_frames)
        Non-negative pitch-class magnitudes on the same frame grid (the shorter one is padded with zeros).
    frame_period_s : float
        Seconds between frames.
    smoothing_s : float
        Length of the moving average applied to both before comparing, seconds (default 1): a melody note and
        an accompaniment chord agree over a beat, not within every 93 ms frame.
    silence_ratio : float
        A frame whose chroma norm is below this fraction of the median norm of its signal's sounding frames is
        silent (default 0.02).

    Returns
    -------
    agreement : float
        In [0, 1] for non-negative chroma; ``nan`` when the input never sounds (nothing to agree with).
        Frames where the output is silent count 0.

    Examples
    --------
    >>> c = np.zeros((12, 40)); c[0] = 1.0; c[7] = 0.5
    >>> round(chroma_agreement(c, c, frame_period_s=0.1), 3)
    1.0
    """
    a = np.asarray(input_chroma, dtype=np.float64)
    b = np.asarray(output_chroma, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != 12 or b.shape[0] != 12:
        raise ValueError(f"chroma must be (12, n_frames), got {a.shape} and {b.shape}")
    n = max(a.shape[1], b.shape[1])
    a = np.pad(a, ((0, 0), (0, n - a.shape[1])))
    b = np.pad(b, ((0, 0), (0, n - b.shape[1])))
    width = max(1, round(smoothing_s / frame_period_s))
    if n:
        a = scipy.ndimage.uniform_filter1d(a, width, axis=1, mode="constant")
        b = scipy.ndimage.uniform_filter1d(b, width, axis=1, mode="constant")

    def sounding(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        norms = np.linalg.norm(values, axis=0)
        positive = norms[norms > 0]
        floor = silence_ratio * np.median(positive) if positive.size else math.inf
        return norms, norms > floor

    norm_a, on_a = sounding(a)
    norm_b, on_b = sounding(b)
    # The input never sounds: there is nothing for the output to agree with.
    if not np.any(on_a):
        return math.nan
    cosine = np.zeros(n)
    both = on_a & on_b
    cosine[both] = np.sum(a[:, both] * b[:, both], axis=0) / (norm_a[both] * norm_b[both])
    return float(np.mean(cosine[on_a]))


def chord_tone_ratio(
    input_chroma: np.ndarray,
    frame_times: np.ndarray,
    estimated_intervals: np.ndarray,
    estimated_labels: Sequence[str],
    *,
    power: float = 2.0,
    silence_ratio: float = 1e-3,
) -> float:
    """Mean fraction of the input's pitch-class energy that lies on tones of the output's chord.

    Parameters
    ----------
    input_chroma : ndarray, shape (12, n_frames)
        Non-negative pitch-class magnitudes of the input.
    frame_times : ndarray, shape (n_frames,)
        Seconds of each chroma frame.
    estimated_intervals : ndarray, shape (m, 2)
        The output's chord segments, seconds.
    estimated_labels : sequence of str
        Their mir_eval labels; ``"N"`` (and times outside every segment) has no chord tones.
    power : float
        Exponent turning chroma magnitude into energy (default 2).
    silence_ratio : float
        Input frames below this fraction of the loudest frame's energy are left out (default 1e-3).

    Returns
    -------
    ratio : float
        In [0, 1]; ``nan`` when the input never sounds.

    Examples
    --------
    >>> chroma = np.zeros((12, 10)); chroma[4] = 1.0  # the input holds an E
    >>> chord_tone_ratio(chroma, np.arange(10) * 0.1, np.array([[0.0, 1.0]]), ["C:maj"])
    1.0
    """
    energy = np.asarray(input_chroma, dtype=np.float64) ** power
    times = np.asarray(frame_times, dtype=np.float64)
    if energy.ndim != 2 or energy.shape[0] != 12 or energy.shape[1] != times.size:
        raise ValueError(f"input_chroma must be (12, n_frames) matching frame_times, got {energy.shape}")
    intervals = np.asarray(estimated_intervals, dtype=np.float64).reshape(-1, 2)
    masks = np.zeros((len(intervals) + 1, 12))  # the last row: no chord
    for index, label in enumerate(estimated_labels):
        root, bitmap, _ = mir_eval.chord.encode(str(label))
        if root >= 0:
            masks[index] = np.roll(bitmap, root)
    segment = np.searchsorted(intervals[:, 0], times, side="right") - 1 if len(intervals) else np.full(times.size, -1)
    outside = (segment < 0) | (times >= (intervals[segment, 1] if len(intervals) else 0.0))
    segment = np.where(outside, len(intervals), segment)
    total = energy.sum(axis=0)
    sounding = total > silence_ratio * total.max() if total.size else total > 0
    # The input never sounds: there is nothing for the output's chords to fit.
    if not np.any(sounding):
        return math.nan
    on_chord = np.sum(energy * masks[segment].T, axis=0)
    return float(np.mean(on_chord[sounding] / total[sounding]))


def key_agreement(input_key: str, output_key: str) -> float:
    """mir_eval's weighted key score of ``output_key`` against ``input_key``.

    Parameters
    ----------
    input_key, output_key : str
        mir_eval key strings (``"C major"``, ``"a minor"``) or ``"X"`` (no key: silence).

    Returns
    -------
    score : float
        1 same key, 0.5 a fifth apart, 0.3 relative, 0.2 parallel, else 0; ``nan`` when the input has no key.

    Examples
    --------
    >>> key_agreement("C major", "G major")
    0.5
    """
    for name in (input_key, output_key):
        mir_eval.key.validate_key(name)
    # Without an input key there is nothing to agree with.
    if input_key == "X":
        return math.nan
    return float(mir_eval.key.weighted_score(input_key, output_key))


# ----------------------------------------------------------------------------------------------------------
# The harmony group of accbench.metrics.score

_VS_REFERENCE = tuple(f"harmony.{name}" for name in COMPARISONS)
_VS_INPUT = ("harmony.chroma_agreement", "harmony.chord_tone_ratio", "harmony.key_agreement")


def _score_group(song: SongAnalyses, wanted: frozenset[str]) -> GroupScores:
    """The harmony metrics of one output: chord accuracy against the reference chords, fit to the input."""
    found = GroupScores()
    if wanted & set(_VS_REFERENCE):
        for name, value in evaluate(*song.reference_chords(), *song.output.chords()).items():
            found.put(f"harmony.{name}", value, "no reference segment comparable under this rule")
    if "harmony.chroma_agreement" in wanted:
        (a, times), (b, _) = song.input.chroma(), song.output.chroma()
        period = float(times[1] - times[0]) if times.size > 1 else 1.0
        found.put("harmony.chroma_agreement", chroma_agreement(a, b, frame_period_s=period), "the input is silent")
    if "harmony.chord_tone_ratio" in wanted:
        value = chord_tone_ratio(*song.input.chroma(), *song.output.chords())
        found.put("harmony.chord_tone_ratio", value, "the input is silent")
    if "harmony.key_agreement" in wanted:
        value = key_agreement(song.input.key(), song.output.key())
        found.put("harmony.key_agreement", value, "the input has no key (silent)")
    return found


GROUP = MetricGroup(
    name="harmony",
    metrics=(*_VS_REFERENCE, *_VS_INPUT),
    needs={"output": (*_VS_REFERENCE, *_VS_INPUT), "reference_chords": _VS_REFERENCE, "input": _VS_INPUT},
    evaluate=_score_group,
    analyzers=("chroma", "chords", "key", "chords-madmom"),
)
"""The harmony group: chord accuracy under each mir_eval rule, and the reference-free fit to the input."""
