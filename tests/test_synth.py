"""The deterministic synthesiser: shapes, pitch, timing, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from accbench.synth import TIMBRES, Timbre, _harmonic_sum, get_timbre, midi_to_hz, render_notes

SR = 16000


def test_shape_dtype_and_default_length():
    y = render_notes([0.0, 0.5], [0.5, 0.25], [60, 67], SR, timbre="organ")
    release = round(TIMBRES["organ"].release_s * SR)
    assert y.dtype == np.float32
    assert y.shape == (round(0.75 * SR) + release,)
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) <= 1.0


def test_explicit_length_cuts_and_pads():
    assert render_notes([0.0], [2.0], [60], SR, n_samples=100).shape == (100,)
    y = render_notes([0.0], [0.1], [60], SR, n_samples=SR)
    assert y.shape == (SR,)
    assert np.all(y[round(0.3 * SR) :] == 0)


def test_deterministic_bit_identical():
    args = (np.arange(20) * 0.1, np.full(20, 0.1), 50 + np.arange(20))
    first = render_notes(*args, 22050, timbre="lead", velocity=0.7)
    second = render_notes(*args, 22050, timbre="lead", velocity=0.7)
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("midi", [45, 69, 81])
def test_pitch_of_a_sine_note(midi):
    y = render_notes([0.0], [1.0], [midi], SR, timbre="sine", n_samples=SR)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    peak_hz = np.argmax(spectrum) * SR / len(y)
    assert peak_hz == pytest.approx(float(midi_to_hz(midi)), abs=1.5)


def test_note_starts_at_its_sample_and_is_silent_before():
    onset = 0.4
    y = render_notes([onset], [0.3], [60], SR, timbre="lead", n_samples=SR)
    start = round(onset * SR)
    assert np.all(y[:start] == 0)
    # The attack (5 ms) reaches most of the level within 10 ms of the onset.
    assert np.max(np.abs(y[start : start + round(0.01 * SR)])) > 0.3 * np.max(np.abs(y))


def test_release_tail_length():
    timbre = get_timbre("horn")
    y = render_notes([0.0], [0.2], [60], SR, timbre=timbre)
    gate, release = round(0.2 * SR), round(timbre.release_s * SR)
    assert len(y) == gate + release
    assert np.max(np.abs(y[gate + release - 20 :])) < np.max(np.abs(y[gate - 200 : gate]))


def test_partials_above_nyquist_are_dropped():
    # MIDI 110 is 4.7 kHz: only its fundamental fits under 0.95 * 8 kHz; all energy must be at 4.7 kHz.
    y = render_notes([0.0], [1.0], [110], SR, timbre="strings", n_samples=SR)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    frequencies = np.fft.rfftfreq(len(y), 1 / SR)
    f0 = float(midi_to_hz(110))
    assert np.sum(spectrum[np.abs(frequencies - f0) > 50] ** 2) < 1e-3 * np.sum(spectrum**2)


def test_timbres_sound_different():
    centroids = {}
    for name in ("lead", "flute", "horn", "bass"):
        y = render_notes([0.0], [1.0], [57], SR, timbre=name, n_samples=SR)
        spectrum = np.abs(np.fft.rfft(y))
        frequencies = np.fft.rfftfreq(len(y), 1 / SR)
        centroids[name] = float(np.sum(spectrum * frequencies) / np.sum(spectrum))
    values = sorted(centroids.values())
    assert min(np.diff(values)) > 20, centroids


def test_velocity_scales_linearly():
    loud = render_notes([0.0], [0.5], [60], SR, velocity=1.0)
    soft = render_notes([0.0], [0.5], [60], SR, velocity=0.25)
    np.testing.assert_allclose(soft, loud * 0.25, atol=1e-7)


def test_chebyshev_harmonic_sum_matches_direct_sines():
    theta = np.arange(50000) * 0.037
    amplitudes = np.array([1.0, 0.5, 0.0, 0.25, 0.1, 0.05, 0.02, 0.01, 0.01, 0.005, 0.003, 0.002])
    direct = sum(a * np.sin((k + 1) * theta) for k, a in enumerate(amplitudes))
    assert np.max(np.abs(_harmonic_sum(theta, amplitudes) - direct)) < 1e-10


def test_empty_note_list_gives_silence():
    assert render_notes([], [], [], SR).shape == (0,)
    assert np.all(render_notes([], [], [], SR, n_samples=10) == 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"onsets_s": [0.0, 1.0]}, "differ in length"),
        ({"durations_s": [0.0]}, "durations_s"),
        ({"onsets_s": [-1.0]}, "onsets_s"),
        ({"midi_pitches": [np.nan]}, "non-finite"),
        ({"velocity": 2.0}, "velocity"),
        ({"timbre": "kazoo"}, "unknown timbre"),
        ({"sample_rate": 0}, "sample_rate"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    arguments = {"onsets_s": [0.0], "durations_s": [0.5], "midi_pitches": [60], "sample_rate": SR}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        render_notes(**arguments)


def test_custom_timbre_validation():
    Timbre("ok", (1.0, 0.5))
    with pytest.raises(ValueError, match="partials"):
        Timbre("bad", ())
    with pytest.raises(ValueError, match="sustain"):
        Timbre("bad", (1.0,), sustain=1.5)
