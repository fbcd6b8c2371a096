"""The paper's loudness pipeline (accbench.loudness): -18 LUFS stems, +5 dB accompaniment in mixes, defined edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

pyloudnorm = pytest.importorskip("pyloudnorm")

from accbench.errors import DataError  # noqa: E402
from accbench.loudness import integrated_loudness, mix_with_stem, normalize_loudness  # noqa: E402

SR = 16000


def _tone(seconds: float, amplitude: float, freq: float = 440.0, channels: int = 1, seed: int = 0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    x = amplitude * np.sin(2 * np.pi * freq * t) + 0.01 * amplitude * rng.normal(size=t.size)
    return np.repeat(x[None], channels, axis=0).astype(np.float32)


def _lufs(audio: np.ndarray) -> float:
    return pyloudnorm.Meter(SR).integrated_loudness(np.asarray(audio, dtype=np.float64).T)


def test_stem_reaches_target_loudness():
    quiet = _tone(3.0, 0.01)
    result = normalize_loudness(quiet, SR)
    assert result.audio.shape == quiet.shape and result.audio.dtype == np.float32
    assert _lufs(result.audio) == pytest.approx(-18.0, abs=0.01)
    assert result.loudness == pytest.approx(_lufs(quiet), abs=1e-6)
    assert result.gain_db == pytest.approx(-18.0 - result.loudness, abs=1e-9)


def test_peak_guard_caps_the_sample_peak():
    # A sparse click train: -18 LUFS needs a peak far above full scale, the guard brings it to 0.99.
    clicks = np.zeros((1, 3 * SR), dtype=np.float32)
    clicks[0, :: SR // 2] = 0.5
    result = normalize_loudness(clicks, SR)
    assert np.max(np.abs(result.audio)) == pytest.approx(0.99, abs=1e-6)
    assert _lufs(result.audio) < -18.0


@pytest.mark.parametrize(
    "audio", [np.zeros(3 * SR), np.full(SR // 5, 0.3), np.zeros(0)], ids=["silent", "short", "empty"]
)
def test_unmeasurable_stems_are_left_at_their_level(audio):
    result = normalize_loudness(audio.astype(np.float32), SR)
    assert result.loudness is None
    assert result.gain_db == 0.0
    assert np.all(np.isfinite(result.audio))
    np.testing.assert_array_equal(result.audio, audio.astype(np.float32))
    assert integrated_loudness(audio, SR) is None


def test_mono_and_stereo_layouts_are_kept():
    assert normalize_loudness(_tone(2.0, 0.1)[0], SR).audio.ndim == 1
    assert normalize_loudness(_tone(2.0, 0.1, channels=2), SR).audio.shape == (2, 2 * SR)


def test_mix_sets_the_stem_five_db_over_one_input_stem():
    x = _tone(4.0, 0.2, 220.0, seed=1)[0]
    y = _tone(4.0, 0.03, 660.0, seed=2)[0]
    mixed = mix_with_stem(x, y, SR, num_input_stems=2)
    # Independent computation from pyloudnorm: stem at L_x - 10 log10(2) + 5, mix at -18 LUFS (no clipping here).
    gain = 10 ** ((_lufs(x) - 10 * math.log10(2) + 5.0 - _lufs(y)) / 20)
    expected = x + gain * y
    expected = expected * 10 ** ((-18.0 - _lufs(expected)) / 20)
    np.testing.assert_allclose(mixed.audio, expected, atol=1e-5)
    assert _lufs(mixed.audio) == pytest.approx(-18.0, abs=0.01)


def test_mix_with_a_silent_stem_is_the_normalised_input():
    x = _tone(3.0, 0.2)[0]
    mixed = mix_with_stem(x, np.zeros_like(x), SR)
    np.testing.assert_allclose(mixed.audio, normalize_loudness(x, SR).audio, atol=1e-6)
    silent = mix_with_stem(np.zeros_like(x), np.zeros_like(x), SR)
    assert np.all(silent.audio == 0) and silent.gain_db == 0.0


def test_bad_input_is_a_clear_error():
    with pytest.raises(DataError, match="song 's1'.*NaN"):
        normalize_loudness(np.full(SR, np.nan, dtype=np.float32), SR, song="s1")
    with pytest.raises(DataError, match="same shape"):
        mix_with_stem(np.zeros(SR), np.zeros(SR + 1), SR)
    with pytest.raises(DataError, match="num_input_stems"):
        mix_with_stem(np.zeros(SR), np.zeros(SR), SR, num_input_stems=0)
