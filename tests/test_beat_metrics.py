"""accbench.metrics.beat: mir_eval wrappers, no trimming by default, degenerate inputs, onset offset."""

import math

import mir_eval
import numpy as np
import pytest

from accbench.metrics import beat

REFERENCE = np.arange(0.0, 20.0, 0.5)


def test_perfect_and_shifted_beats():
    assert beat.evaluate(REFERENCE, REFERENCE)["f_measure"] == 1.0
    offbeat = beat.evaluate(REFERENCE, REFERENCE[:-1] + 0.25)
    assert offbeat["f_measure"] == 0.0
    assert offbeat["amlt"] > 0.9  # AMLt accepts the off-beat
    assert offbeat["cmlt"] == 0.0


def test_no_trimming_by_default_unlike_mir_eval():
    estimate = REFERENCE.copy()
    estimate[REFERENCE < 5.0] += 0.2  # wrong in the first 5 s only
    ours = beat.evaluate(REFERENCE, estimate)["f_measure"]
    assert ours == pytest.approx(mir_eval.beat.f_measure(REFERENCE, estimate))
    assert ours < 0.8
    assert beat.evaluate(REFERENCE, estimate, min_beat_time=5.0)["f_measure"] == 1.0


def test_empty_estimate_is_zero_and_empty_reference_is_nan():
    assert all(value == 0.0 for value in beat.evaluate(REFERENCE, np.array([])).values())
    assert all(math.isnan(value) for value in beat.evaluate(np.array([]), REFERENCE).values())
    single = beat.evaluate(REFERENCE, np.array([1.0]))
    assert single["cmlt"] == 0.0 and 0.0 < single["f_measure"] < 0.1


def test_validate_rejects_bad_beats():
    with pytest.raises(ValueError, match="increasing"):
        beat.evaluate(np.array([1.0, 0.5]), REFERENCE)
    with pytest.raises(ValueError, match="non-finite"):
        beat.evaluate(REFERENCE, np.array([np.nan]))


def test_onset_offset_ignores_off_beat_notes():
    onsets = np.concatenate([REFERENCE + 0.03, REFERENCE[:-1] + 0.25])  # on-beat notes 30 ms late, plus off-beats
    assert beat.onset_offset(REFERENCE, np.sort(onsets)) == pytest.approx(30.0)
    assert math.isnan(beat.onset_offset(REFERENCE, np.array([])))
    assert math.isnan(beat.onset_offset(np.array([1.0]), np.array([1.0])))
    scores = beat.evaluate(REFERENCE, REFERENCE, estimated_onsets=REFERENCE + 0.01)
    assert list(scores) == ["f_measure", "cemgil", "p_score", "cmlt", "amlt", "onset_offset_ms"]
    assert scores["onset_offset_ms"] == pytest.approx(10.0)
