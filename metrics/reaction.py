"""Reaction metrics: how quickly a streaming output follows the song when it changes.

A streaming accompanist hears a chord change only after it happens (or after ``t_f`` frames of look-ahead), so
its harmony lags. Chords are mir_eval segments (``(n, 2)`` seconds plus labels); beats are times in seconds.
The reference is the song's chords/beats (annotations or reference-mix analysis); the estimate is the analysis
of the output alone.

A *chord change* is the start of a reference segment whose label differs from the previous segment's and is
not ``"N"``. Its reaction time is the delay from the change until the output's chord first matches the new
chord under mir_eval's ``majmin`` rule, searched within the new segment. When the output never matches within
the segment, the reaction time is censored at the segment's length (the output missed that chord entirely) and
the change counts as unmatched. Censoring keeps every value finite, so medians and bootstrap means stay defined.

Metrics
-------
- ``chord_median_s``: median reaction time over chord changes, seconds.
- ``chord_p90_s``: 90th percentile of the reaction times, seconds.
- ``chord_unmatched``: fraction of chord changes the output never matched within the segment.
- ``beat_lock_in_s``: from the first reference beat to the first of ``n_consecutive`` (4) consecutive reference
  beats that each have an output beat within +-70 ms; censored at the reference beats' span when it never locks.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mir_eval
import numpy as np

from accbench.metrics.beat import validate as validate_beats
from accbench.metrics.harmony import validate as validate_chords
from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register

if TYPE_CHECKING:
    from accbench.metrics.scoring import SongAnalyses

__all__ = ["GROUP", "beat_lock_in", "chord_reaction_times", "evaluate", "validate"]

register(
    MetricSpec(
        "reaction.chord_median_s",
        "lower",
        "s",
        (0.0, math.inf),
        "Median time from a reference chord change until the output's chord matches (majmin)",
        True,
    ),
    MetricSpec("reaction.chord_p90_s", "lower", "s", (0.0, math.inf), "90th percentile of chord reaction times", True),
    MetricSpec(
        "reaction.chord_unmatched",
        "lower",
        "fraction",
        (0.0, 1.0),
        "Fraction of reference chord changes never matched within the segment",
        True,
    ),
    MetricSpec(
        "reaction.beat_lock_in_s",
        "lower",
        "s",
        (0.0, math.inf),
        "Time from the first reference beat until output beats hit 4 consecutive reference beats",
        True,
    ),
)


def validate(
    reference_intervals: np.ndarray,
    reference_labels: Sequence[str],
    estimated_intervals: np.ndarray,
    estimated_labels: Sequence[str],
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """Check chord segments (see :func:`accbench.metrics.harmony.validate`)."""
    return validate_chords(reference_intervals, reference_labels, estimated_intervals, estimated_labels)


def chord_reaction_times(
    reference_intervals: np.ndarray,
    reference_labels: Sequence[str],
    estimated_intervals: np.ndarray,
    estimated_labels: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Reaction time of every reference chord change.

    Parameters
    ----------
    reference_intervals : ndarray, shape (n, 2)
        Seconds, sorted.
    reference_labels : sequence of str
    estimated_intervals : ndarray, shape (m, 2)
        Seconds, sorted.
    estimated_labels : sequence of str

    Returns
    -------
    times : ndarray, float64, shape (n_changes,)
        Seconds from each change to the first matching output chord, censored at the segment length.
    matched : ndarray, bool, shape (n_changes,)
        Whether the output matched within the segment.

    Examples
    --------
    >>> reference = np.array([[0.0, 2.0], [2.0, 4.0]])
    >>> times, matched = chord_reaction_times(reference, ["C:maj", "G:maj"],
    ...                                       np.array([[0.0, 2.5], [2.5, 4.0]]), ["C:maj", "G:7"])
    >>> times.tolist(), matched.tolist()
    ([0.5], [True])
    """
    reference_intervals, reference_labels, estimated_intervals, estimated_labels = validate(
        reference_intervals, reference_labels, estimated_intervals, estimated_labels
    )
    times: list[float] = []
    matched: list[bool] = []
    previous = None
    for (start, end), label in zip(reference_intervals, reference_labels, strict=True):
        is_change = label != mir_eval.chord.NO_CHORD and previous is not None and label != previous
        previous = label
        if not is_change or end <= start:
            continue
        overlapping = np.flatnonzero((estimated_intervals[:, 0] < end) & (estimated_intervals[:, 1] > start))
        reaction, hit = end - start, False
        if overlapping.size:
            candidates = [estimated_labels[i] for i in overlapping]
            comparison = mir_eval.chord.majmin([label] * len(candidates), candidates)
            hits = overlapping[np.asarray(comparison) == 1]
            if hits.size:
                reaction, hit = max(0.0, float(estimated_intervals[hits[0], 0]) - start), True
        times.append(float(reaction))
        matched.append(hit)
    return np.asarray(times, dtype=np.float64), np.asarray(matched, dtype=bool)


def beat_lock_in(
    reference_beats: np.ndarray,
    estimated_beats: np.ndarray,
    *,
    tolerance: float = 0.07,
    n_consecutive: int = 4,
) -> float:
    """Seconds from the first reference beat until the output locks to the reference grid.

    Parameters
    ----------
    reference_beats, estimated_beats : ndarray
        Seconds.
    tolerance : float
        A reference beat is hit when an output beat lies within this many seconds (default 0.07).
    n_consecutive : int
        Consecutive hit reference beats that count as locked (default 4).

    Returns
    -------
    seconds : float
        Start of the first locked run minus the first reference beat; the span of the reference beats when the
        output never locks; ``nan`` with fewer than ``n_consecutive`` reference beats (lock cannot be judged).

    Examples
    --------
    >>> reference = np.arange(10) * 0.5
    >>> beat_lock_in(reference, reference[3:] + 0.02)
    1.5
    """
    reference_beats, estimated_beats = validate_beats(reference_beats, estimated_beats)
    # Too few reference beats to ever see a locked run: undefined.
    if reference_beats.size < n_consecutive:
        return math.nan
    span = float(reference_beats[-1] - reference_beats[0])
    # No output beats: the output never locks; censored at the span.
    if estimated_beats.size == 0:
        return span
    index = np.searchsorted(estimated_beats, reference_beats)
    left = estimated_beats[np.clip(index - 1, 0, estimated_beats.size - 1)]
    right = estimated_beats[np.clip(index, 0, estimated_beats.size - 1)]
    distance = np.minimum(np.abs(reference_beats - left), np.abs(reference_beats - right))
    hit = distance <= tolerance
    run = np.convolve(hit.astype(np.int64), np.ones(n_consecutive, dtype=np.int64), mode="valid")
    locked = np.flatnonzero(run == n_consecutive)
    if locked.size == 0:
        return span
    return float(reference_beats[locked[0]] - reference_beats[0])


def evaluate(
    reference_intervals: np.ndarray,
    reference_labels: Sequence[str],
    estimated_intervals: np.ndarray,
    estimated_labels: Sequence[str],
    *,
    reference_beats: np.ndarray | None = None,
    estimated_beats: np.ndarray | None = None,
) -> OrderedDict[str, float]:
    """All reaction metrics.

    Parameters
    ----------
    reference_intervals, reference_labels, estimated_intervals, estimated_labels
        Chord segments (seconds, mir_eval labels).
    reference_beats, estimated_beats : ndarray or None
        Seconds; ``beat_lock_in_s`` is computed when both are given.

    Returns
    -------
    scores : OrderedDict
        ``chord_median_s, chord_p90_s, chord_unmatched`` (``nan`` when the reference has no chord change) and
        ``beat_lock_in_s`` when beats are given.
    """
    times, matched = chord_reaction_times(reference_intervals, reference_labels, estimated_intervals, estimated_labels)
    scores: OrderedDict[str, float] = OrderedDict()
    if times.size == 0:
        # No chord change in the reference: there is nothing to react to.
        scores.update(chord_median_s=math.nan, chord_p90_s=math.nan, chord_unmatched=math.nan)
    else:
        scores["chord_median_s"] = float(np.median(times))
        scores["chord_p90_s"] = float(np.percentile(times, 90))
        scores["chord_unmatched"] = float(1.0 - matched.mean())
    if reference_beats is not None and estimated_beats is not None:
        scores["beat_lock_in_s"] = beat_lock_in(reference_beats, estimated_beats)
    return scores


# ----------------------------------------------------------------------------------------------------------
# The reaction group of accbench.metrics.score

_CHORD = ("reaction.chord_median_s", "reaction.chord_p90_s", "reaction.chord_unmatched")
_LOCK_IN = ("reaction.beat_lock_in_s",)


def _score_group(song: SongAnalyses, wanted: frozenset[str]) -> GroupScores:
    """The reaction metrics of one output: chord reaction times and beat lock-in against the reference."""
    found = GroupScores()
    if wanted & set(_CHORD):
        for name, value in evaluate(*song.reference_chords(), *song.output.chords()).items():
            found.put(f"reaction.{name}", value, "no chord change in the reference")
    if "reaction.beat_lock_in_s" in wanted:
        value = beat_lock_in(song.reference_beats(), song.output.beats())
        found.put("reaction.beat_lock_in_s", value, "fewer than 4 reference beats")
    return found


GROUP = MetricGroup(
    name="reaction",
    metrics=(*_CHORD, *_LOCK_IN),
    needs={"output": (*_CHORD, *_LOCK_IN), "reference_chords": _CHORD, "reference_beats": _LOCK_IN},
    evaluate=_score_group,
    analyzers=("onset_envelope", "beats", "beats-madmom", "beats-beat-this", "chroma", "chords", "chords-madmom"),
)
"""The reaction group: how fast the output follows the reference's chord changes and locks to its beats."""
