"""accbench.metrics.reaction: chord reaction times (censored) and beat lock-in."""

import math

import numpy as np
import pytest

from accbench.metrics import reaction

REF = np.array([[0.0, 2.0], [2.0, 4.0], [4.0, 6.0], [6.0, 8.0]])
LABELS = ["C:maj", "G:maj", "A:min", "F:maj"]


def delayed(delay):
    intervals = np.concatenate([[[0.0, delay]], REF + delay])
    intervals[-1, 1] = 8.0
    return intervals, ["N", *LABELS]


def test_reaction_equals_the_delay_of_a_delayed_copy():
    for delay in (0.0, 0.3, 1.2):
        times, matched = reaction.chord_reaction_times(REF, LABELS, *delayed(delay))
        np.testing.assert_allclose(times, [delay] * 3)
        assert matched.all()
    scores = reaction.evaluate(REF, LABELS, *delayed(0.5))
    assert scores["chord_median_s"] == pytest.approx(0.5)
    assert scores["chord_p90_s"] == pytest.approx(0.5)
    assert scores["chord_unmatched"] == 0.0


def test_unmatched_changes_are_censored_at_the_segment_length():
    times, matched = reaction.chord_reaction_times(REF, LABELS, np.array([[0.0, 8.0]]), ["N"])
    np.testing.assert_allclose(times, [2.0, 2.0, 2.0])
    assert not matched.any()
    assert reaction.evaluate(REF, LABELS, np.array([[0.0, 8.0]]), ["N"])["chord_unmatched"] == 1.0


def test_majmin_rule_and_no_changes():
    times, matched = reaction.chord_reaction_times(REF, LABELS, REF, ["C:maj", "G:7", "A:min7", "F:maj7"])
    assert matched.all() and np.all(times == 0)
    one_chord = reaction.evaluate(np.array([[0.0, 4.0]]), ["C:maj"], REF, LABELS)
    assert math.isnan(one_chord["chord_median_s"])


def test_beat_lock_in():
    beats = np.arange(20) * 0.5
    assert reaction.beat_lock_in(beats, beats) == 0.0
    assert reaction.beat_lock_in(beats, beats[6:] + 0.03) == pytest.approx(3.0)
    assert reaction.beat_lock_in(beats, np.array([])) == pytest.approx(9.5)  # never locks: censored at the span
    assert reaction.beat_lock_in(beats, beats + 0.25) == pytest.approx(9.5)
    assert math.isnan(reaction.beat_lock_in(beats[:3], beats))
