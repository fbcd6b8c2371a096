"""Beat metrics: how well the beats of an output follow a reference beat grid.

Beats are 1-D arrays of times in seconds, increasing, non-negative. The reference comes from annotations,
from analysing the reference mix (input + reference accompaniment) or, in the seed paper's variant, from
analysing the input alone; the estimate is the output's (or the output mix's) tracked beats.

mir_eval's ``beat.evaluate`` drops beats before 5 s by default. accbench does **not**: the songs are short
(often 30 s), a streaming system's first seconds matter, and lock-in is measured separately by
``reaction.beat_lock_in_s``. ``min_beat_time`` (default 0 s) restores trimming when wanted.

Metrics
-------
- ``f_measure``: F-measure of beats within +-70 ms (mir_eval).
- ``cemgil``: Cemgil accuracy, Gaussian error window of 40 ms (mir_eval).
- ``p_score``: P-score, cross-correlation of impulse trains within 20 % of the median inter-beat interval.
- ``cmlt``: correct metrical level, total (continuity-based, mir_eval).
- ``amlt``: any metrical level, total: also accepts off-beat, double and half tempo.
- ``onset_offset_ms``: median absolute distance from output onsets to the nearest reference beat, counting
  onsets within a quarter of the local beat period of a beat (:func:`onset_offset`).
- ``paper_alignment_*`` (``f_measure``, ``cemgil``, ``cmlc``, ``cmlt``, ``amlc``, ``amlt``): the seed paper's
  beat alignment, madmom's ``BeatEvaluation`` of the input's beats against the output's beats (each stem
  tracked alone), and ``paper_alignment_gt_*`` the same against the reference accompaniment's beats (the
  paper's "GT" row); see :mod:`accbench.metrics.paper_beat`. The paper's number needs the paper's tracker:
  ``score(..., beat_tracker="beat-this")`` with the ``final0`` checkpoint.

The group also records which tracker made the beats (``beat.tracker``) and, for Beat This, the SHA-256 of its
checkpoint (``beat.tracker_sha256``) as non-numeric facts of the results row.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from typing import TYPE_CHECKING

import mir_eval
import numpy as np

from accbench.metrics import paper_beat
from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register

if TYPE_CHECKING:
    from accbench.metrics.scoring import SongAnalyses

__all__ = ["GROUP", "evaluate", "onset_offset", "validate"]

register(
    MetricSpec(
        "beat.f_measure", "higher", "", (0.0, 1.0), "F-measure of output beats vs reference beats (+-70 ms)", True
    ),
    MetricSpec("beat.cemgil", "higher", "", (0.0, 1.0), "Cemgil accuracy of output beats (40 ms Gaussian)", True),
    MetricSpec("beat.p_score", "higher", "", (0.0, 1.0), "P-score of output beats vs reference beats", True),
    MetricSpec("beat.cmlt", "higher", "", (0.0, 1.0), "Correct metrical level, total (continuity)", True),
    MetricSpec("beat.amlt", "higher", "", (0.0, 1.0), "Any metrical level, total (allows off-beat, x2, /2)", True),
    MetricSpec(
        "beat.onset_offset_ms",
        "lower",
        "ms",
        (0.0, math.inf),
        "Median |output onset - nearest reference beat| for onsets near a beat",
        True,
    ),
    MetricSpec(
        "beat.mix_f_measure",
        "higher",
        "",
        (0.0, 1.0),
        "F-measure of the beats of input+output vs reference beats",
        True,
    ),
    MetricSpec("beat.mix_amlt", "higher", "", (0.0, 1.0), "AMLt of the beats of input+output vs reference beats", True),
    MetricSpec(
        "beat.input_f_measure",
        "higher",
        "",
        (0.0, 1.0),
        "F-measure of output beats vs the input's own beats (mir_eval; the paper's: paper_alignment_*)",
    ),
    MetricSpec("beat.input_amlt", "higher", "", (0.0, 1.0), "AMLt of output beats vs the input's own beats"),
)

_PAPER_TITLES = {
    "f_measure": "F-measure (+-70 ms)",
    "cemgil": "Cemgil accuracy (40 ms)",
    "cmlc": "CMLc",
    "cmlt": "CMLt",
    "amlc": "AMLc",
    "amlt": "AMLt",
}
register(
    *(
        MetricSpec(
            f"beat.paper_alignment_{name}",
            "higher",
            "",
            (0.0, 1.0),
            f"Seed paper's beat alignment, {title}: madmom BeatEvaluation(input beats, output beats)",
        )
        for name, title in _PAPER_TITLES.items()
    ),
    *(
        MetricSpec(
            f"beat.paper_alignment_gt_{name}",
            "higher",
            "",
            (0.0, 1.0),
            f"The paper's GT row, {title}: madmom BeatEvaluation(input beats, reference accompaniment beats)",
            True,
        )
        for name, title in _PAPER_TITLES.items()
    ),
)


def validate(reference_beats: np.ndarray, estimated_beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert beat arrays: 1-D, finite, non-negative, increasing (seconds).

    Returns
    -------
    reference_beats, estimated_beats : ndarray, float64
    """
    arrays = []
    for name, beats in (("reference_beats", reference_beats), ("estimated_beats", estimated_beats)):
        array = np.asarray(beats, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contain non-finite times")
        if np.any(array < 0):
            raise ValueError(f"{name} contain negative times")
        if np.any(np.diff(array) <= 0):
            raise ValueError(f"{name} are not strictly increasing")
        arrays.append(array)
    return arrays[0], arrays[1]


def onset_offset(reference_beats: np.ndarray, onsets: np.ndarray, *, window: float = 0.25) -> float:
    """Median absolute offset between onsets and the nearest reference beat, in milliseconds.

    Only onsets within ``window`` times the local inter-beat interval of a beat count (onsets meant to be on
    the beat, not the off-beat notes in between).

    Parameters
    ----------
    reference_beats : ndarray, shape (n,)
        Seconds.
    onsets : ndarray, shape (m,)
        Output onset times in seconds.
    window : float
        Fraction of the inter-beat interval (default 0.25).

    Returns
    -------
    offset_ms : float
        ``nan`` when fewer than two reference beats exist or no onset is near a beat (nothing to measure).

    Examples
    --------
    >>> round(onset_offset(np.array([0.0, 0.5, 1.0, 1.5]), np.array([0.01, 0.52, 1.03])), 3)
    20.0
    """
    reference_beats, onsets = validate(reference_beats, onsets)
    # With fewer than two beats there is no grid period; the offset is undefined.
    if reference_beats.size < 2 or onsets.size == 0:
        return math.nan
    index = np.clip(np.searchsorted(reference_beats, onsets), 1, reference_beats.size - 1)
    left, right = reference_beats[index - 1], reference_beats[index]
    nearest = np.where(onsets - left <= right - onsets, left, right)
    period = right - left
    distance = np.abs(onsets - nearest)
    near = distance <= window * period
    if not np.any(near):
        return math.nan
    return float(np.median(distance[near]) * 1000.0)


def evaluate(
    reference_beats: np.ndarray,
    estimated_beats: np.ndarray,
    *,
    min_beat_time: float = 0.0,
    estimated_onsets: np.ndarray | None = None,
) -> OrderedDict[str, float]:
    """All beat metrics of ``estimated_beats`` against ``reference_beats``.

    Parameters
    ----------
    reference_beats, estimated_beats : ndarray
        Seconds.
    min_beat_time : float
        Beats before this time (seconds) are ignored by both (default 0: nothing trimmed; mir_eval's own
        default is 5 s).
    estimated_onsets : ndarray or None
        Output onsets (seconds) for ``onset_offset_ms``; omitted when ``None``.

    Returns
    -------
    scores : OrderedDict
        ``f_measure, cemgil, p_score, cmlt, amlt`` (and ``onset_offset_ms``). When the estimate is empty every
        score is 0 (no beat is correct). When the reference is empty every score is ``nan`` (nothing to
        compare against); callers treat that as "skipped".

    Examples
    --------
    >>> reference = np.arange(1, 20) * 0.5
    >>> scores = evaluate(reference, reference + 0.01)
    >>> round(scores["f_measure"], 3)
    1.0
    """
    reference_beats, estimated_beats = validate(reference_beats, estimated_beats)
    reference = reference_beats[reference_beats >= min_beat_time]
    estimate = estimated_beats[estimated_beats >= min_beat_time]
    scores: OrderedDict[str, float] = OrderedDict()
    names = ("f_measure", "cemgil", "p_score", "cmlt", "amlt")
    if reference.size == 0:
        # No reference beats: nothing to compare against; every score is undefined.
        scores.update((name, math.nan) for name in names)
    elif estimate.size == 0:
        # No estimated beats: no beat is correct; every score is 0.
        scores.update((name, 0.0) for name in names)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mir_eval warns about short inputs; the values are defined
            scores["f_measure"] = float(mir_eval.beat.f_measure(reference, estimate))
            scores["cemgil"] = float(mir_eval.beat.cemgil(reference, estimate)[0])
            scores["p_score"] = float(mir_eval.beat.p_score(reference, estimate))
            if reference.size >= 2 and estimate.size >= 2:
                _, cmlt, _, amlt = mir_eval.beat.continuity(reference, estimate)
            else:
                # Continuity needs inter-beat intervals; one beat cannot be continuous.
                cmlt = amlt = 0.0
            scores["cmlt"] = float(cmlt)
            scores["amlt"] = float(amlt)
    if estimated_onsets is not None:
        scores["onset_offset_ms"] = onset_offset(reference, np.asarray(estimated_onsets, dtype=np.float64))
    return scores


# ----------------------------------------------------------------------------------------------------------
# The beat group of accbench.metrics.score

_VS_REFERENCE = tuple(f"beat.{name}" for name in ("f_measure", "cemgil", "p_score", "cmlt", "amlt", "onset_offset_ms"))
_MIX = ("beat.mix_f_measure", "beat.mix_amlt")
_VS_INPUT = ("beat.input_f_measure", "beat.input_amlt")
_PAPER = tuple(f"beat.paper_alignment_{name}" for name in paper_beat.METRICS)
_PAPER_GT = tuple(f"beat.paper_alignment_gt_{name}" for name in paper_beat.METRICS)
_PAPER_DROPPED = "the stem has one beat: madmom's BeatEvaluation raises and the paper drops the example"


def _paper_rows(song: SongAnalyses, wanted: frozenset[str], found: GroupScores) -> None:
    """The paper's beat alignment of the output and of the reference stem with the input (each tracked alone)."""
    stems = {"": (_PAPER, song.output), "gt_": (_PAPER_GT, song.reference)}
    for prefix, (names, stem) in stems.items():
        if not wanted & set(names):
            continue
        if stem is None:
            found.skip(names, "no reference audio (the paper's GT row tracks the reference accompaniment alone)")
            continue
        for name, value in paper_beat.evaluate(song.input.beats(), stem.beats()).items():
            found.put(f"beat.paper_alignment_{prefix}{name}", value, _PAPER_DROPPED)


def _score_group(song: SongAnalyses, wanted: frozenset[str]) -> GroupScores:
    """The beat metrics of one output: against the reference beats, of the output mix, and against the input."""
    found = GroupScores()
    if wanted & {*_VS_REFERENCE, *_MIX}:
        reference = song.reference_beats()
        scores = evaluate(reference, song.output.beats(), estimated_onsets=song.output.onsets())
        for name, value in scores.items():
            reason = "no output onset near a reference beat" if name == "onset_offset_ms" else ""
            found.put(f"beat.{name}", value, reason)
        if wanted & set(_MIX):
            mixed = evaluate(reference, song.output_mix.beats())
            found.put("beat.mix_f_measure", mixed["f_measure"])
            found.put("beat.mix_amlt", mixed["amlt"])
    if wanted & set(_VS_INPUT):
        input_beats = song.input.beats()
        if input_beats.size == 0:
            found.skip(_VS_INPUT, "no beats found in the input")
        else:
            own = evaluate(input_beats, song.output.beats())
            found.put("beat.input_f_measure", own["f_measure"])
            found.put("beat.input_amlt", own["amlt"])
    _paper_rows(song, wanted, found)
    found.info["beat.tracker"] = song.backends["beat_tracker"]
    found.info["beat.tracker_sha256"] = song.backends.get("beat_this_sha256", "")
    return found


GROUP = MetricGroup(
    name="beat",
    metrics=(*_VS_REFERENCE, *_MIX, *_PAPER, *_PAPER_GT, *_VS_INPUT),
    needs={
        "output": (*_VS_REFERENCE, *_MIX, *_PAPER, *_VS_INPUT),
        "reference_beats": (*_VS_REFERENCE, *_MIX),
        "input": (*_MIX, *_PAPER, *_PAPER_GT, *_VS_INPUT),
        "reference_audio": _PAPER_GT,
    },
    evaluate=_score_group,
    analyzers=("onset_envelope", "beats", "onsets", "beats-madmom", "beats-beat-this"),
)
"""The beat group: reference-beat metrics, output-mix metrics, the seed paper's beat alignment (output and GT
rows) and the input-beat variant."""
