from fractions import Fraction

import pytest

from accbench.units import (
    MissingUnitError,
    exact_fraction,
    frames_to_ms,
    ms_to_frames,
    parse_duration,
    seconds_to_samples_ceil,
)


def test_ms_to_frames_is_exact_and_refuses_partial_frames():
    assert ms_to_frames(-200, 32000, 640) == -10
    assert ms_to_frames("2000", 22050, 441) == 100
    assert ms_to_frames(0.1 * 1000, 16000, 160) == 10
    with pytest.raises(ValueError, match="not a whole number of frames.*20 ms"):
        ms_to_frames(-205, 22050, 441)


def test_delays_round_up_and_decimals_are_exact():
    assert seconds_to_samples_ceil(0.1, 16000) == 1600  # float 0.1 is read as one tenth
    assert seconds_to_samples_ceil(0.03, 44100) == 1323
    assert seconds_to_samples_ceil(0.001, 44100) == 45
    with pytest.raises(ValueError):
        seconds_to_samples_ceil(-0.001, 44100)


def test_parse_duration_units():
    assert parse_duration("30ms") == (Fraction(30), "ms")
    assert parse_duration("-0.5s") == (Fraction(-1, 2), "s")
    assert parse_duration("4frames") == (Fraction(4), "frames")
    assert parse_duration("7", default_unit="frames") == (Fraction(7), "frames")
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("3 bananas")
    assert frames_to_ms(-10, 32000, 640) == -200.0
    assert exact_fraction(0.1) == Fraction(1, 10)


@pytest.mark.parametrize("bare", ["30", " 0.5 ", "-7", 30, 0.5])
def test_a_bare_number_needs_a_unit_unless_the_caller_names_one(bare):
    with pytest.raises(MissingUnitError, match="has no unit") as info:
        parse_duration(bare)
    assert isinstance(info.value, ValueError) and info.value.text == str(bare).strip()
    assert parse_duration(bare, default_unit="frames") == (exact_fraction(str(bare).strip()), "frames")


def test_a_unit_is_kept_whatever_the_default():
    assert parse_duration("30ms", default_unit="frames") == (Fraction(30), "ms")
    assert parse_duration("1frame") == (Fraction(1), "frames")
    with pytest.raises(TypeError):
        parse_duration(True)
