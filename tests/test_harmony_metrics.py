"""accbench.metrics.harmony: chord comparisons weighted by duration, chroma and key agreement."""

import math

import numpy as np
import pytest

from accbench.metrics import harmony

REF_INTERVALS = np.array([[0.0, 2.0], [2.0, 4.0], [4.0, 6.0]])
REF_LABELS = ["C:maj", "A:min7", "G:7"]


def test_identical_chords_score_one():
    scores = harmony.evaluate(REF_INTERVALS, REF_LABELS, REF_INTERVALS, REF_LABELS)
    assert list(scores) == list(harmony.COMPARISONS)
    assert all(value == 1.0 for value in scores.values())


def test_duration_weighting_and_rules():
    estimate = np.array([[0.0, 3.0], [3.0, 6.0]])
    scores = harmony.evaluate(REF_INTERVALS, REF_LABELS, estimate, ["C:maj", "G:maj"])
    # C right for 2 s, A:min7 vs C for 1 s and vs G for 1 s (wrong), G:7 vs G:maj for 2 s (right under majmin).
    assert scores["majmin"] == pytest.approx(4 / 6)
    assert scores["root"] == pytest.approx(4 / 6)
    assert scores["sevenths"] == pytest.approx(2 / 6)


def test_estimate_is_padded_with_no_chord_and_empty_estimate_is_all_no_chord():
    short = harmony.evaluate(REF_INTERVALS, REF_LABELS, np.array([[0.0, 2.0]]), ["C:maj"])
    assert short["majmin"] == pytest.approx(2 / 6)
    empty = harmony.evaluate(REF_INTERVALS, REF_LABELS, np.zeros((0, 2)), [])
    assert empty["majmin"] == 0.0


def test_incomparable_reference_is_nan_not_zero():
    scores = harmony.evaluate(np.array([[0.0, 1.0]]), ["C:dim"], np.array([[0.0, 1.0]]), ["C:dim"])
    assert math.isnan(scores["majmin"])
    assert scores["root"] == 1.0
    assert all(math.isnan(v) for v in harmony.evaluate(np.zeros((0, 2)), [], REF_INTERVALS, REF_LABELS).values())


def test_validate_rejects_bad_labels_and_shapes():
    with pytest.raises(ValueError):
        harmony.evaluate(REF_INTERVALS, ["C:maj", "H:min", "N"], REF_INTERVALS, REF_LABELS)
    with pytest.raises(ValueError, match="labels"):
        harmony.evaluate(REF_INTERVALS, REF_LABELS[:2], REF_INTERVALS, REF_LABELS)


def test_chroma_agreement():
    frames = 50
    c_major = np.zeros((12, frames))
    c_major[[0, 4, 7]] = 1.0
    f_sharp = np.zeros((12, frames))
    f_sharp[[6, 10, 1]] = 1.0
    assert harmony.chroma_agreement(c_major, c_major, frame_period_s=0.1) == pytest.approx(1.0)
    assert harmony.chroma_agreement(c_major, f_sharp, frame_period_s=0.1) == pytest.approx(0.0)
    # Silent output counts 0; silent input leaves nothing to agree with.
    assert harmony.chroma_agreement(c_major, np.zeros((12, frames)), frame_period_s=0.1) == 0.0
    assert math.isnan(harmony.chroma_agreement(np.zeros((12, frames)), c_major, frame_period_s=0.1))
    half = c_major.copy()
    half[:, frames // 2 :] = 0.0
    # Half the output is silent; the 1 s smoothing carries the sound 0.5 s into the silent half.
    assert harmony.chroma_agreement(c_major, half, frame_period_s=0.1) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        harmony.chroma_agreement(c_major[:6], c_major, frame_period_s=0.1)


def test_key_agreement():
    assert harmony.key_agreement("C major", "C major") == 1.0
    assert harmony.key_agreement("C major", "G major") == 0.5
    assert harmony.key_agreement("C major", "A minor") == 0.3
    assert harmony.key_agreement("C major", "X") == 0.0
    assert math.isnan(harmony.key_agreement("X", "C major"))


def test_chord_tone_ratio():
    chroma = np.zeros((12, 20))
    chroma[4, :10] = 1.0  # E: a tone of C major
    chroma[6, 10:] = 1.0  # F#: not a tone of C major
    times = np.arange(20) * 0.1
    assert harmony.chord_tone_ratio(chroma, times, np.array([[0.0, 2.0]]), ["C:maj"]) == pytest.approx(0.5)
    assert harmony.chord_tone_ratio(chroma, times, np.array([[0.0, 1.0], [1.0, 2.0]]), ["C:maj", "D:maj"]) == 1.0
    assert harmony.chord_tone_ratio(chroma, times, np.array([[0.0, 2.0]]), ["N"]) == 0.0
    assert harmony.chord_tone_ratio(chroma, times, np.zeros((0, 2)), []) == 0.0
    assert math.isnan(harmony.chord_tone_ratio(np.zeros((12, 20)), times, np.array([[0.0, 2.0]]), ["C:maj"]))
