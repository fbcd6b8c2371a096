"""The follower: a causal, deterministic DSP accompanist that behaves like the seed paper's models."""

from __future__ import annotations

import numpy as np
import pytest

import accbench
from accbench.errors import ModelError
from accbench.models import load_model
from accbench.models.follower import CHORD_LABELS, Follower
from accbench.protocol import Session, StepContext

SR, HOP = 22050, 441


def _melody(seconds: float = 6.0, bpm: float = 100.0, seed: int = 0) -> np.ndarray:
    """Plucked notes of a C major arpeggio melody on every beat."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    x = np.zeros(int(seconds * SR))
    t = np.arange(int(beat * SR)) / SR
    for index in range(int(seconds / beat)):
        midi = [60, 64, 67, 72][rng.integers(4)]
        tone = np.exp(-t / 0.3) * np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * t)
        start = int(index * beat * SR)
        piece = x[start : start + tone.size]
        piece += 0.3 * tone[: piece.size]
    return x.astype(np.float32)[np.newaxis, :]


def test_follower_is_the_builtin_and_declares_itself():
    model = load_model("follower")
    assert isinstance(model, Follower)
    assert (model.info.name, model.info.sample_rate, model.info.hop, model.info.causal) == ("follower", SR, HOP, True)
    assert len(CHORD_LABELS) == 24 and CHORD_LABELS[0] == "C:maj" and CHORD_LABELS[21] == "A:min"


def test_follower_plays_the_key_and_the_beat_of_its_input():
    x = _melody(8.0, bpm=100.0)
    result = accbench.simulate("follower", x, sample_rate=SR, future_visibility=0, chunk_frames=5)
    out = result.output[0]
    assert out.dtype == np.float32 and np.all(np.isfinite(out)) and 0.01 < np.abs(out).max() <= 1.0
    assert np.abs(out[: SR // 2]).max() == 0  # nothing before it has heard anything
    model = Follower()
    accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=5)
    assert 60.0 * model.info.frame_rate / model._period == pytest.approx(100.0, rel=0.03)
    assert CHORD_LABELS[model._chord] in ("C:maj", "E:min", "A:min")
    # Its chroma sits on the C major triad.
    spectrum = np.abs(np.fft.rfft(out[SR * 3 :]))
    freqs = np.fft.rfftfreq(out[SR * 3 :].size, 1 / SR)
    keep = (freqs > 60) & (freqs < 1000)
    pitch_classes = np.round(12 * np.log2(freqs[keep] / 261.6256)).astype(int) % 12
    chroma = np.bincount(pitch_classes, weights=spectrum[keep] ** 2, minlength=12)
    assert set(np.argsort(chroma)[-3:]) == {0, 4, 7}


def test_follower_is_deterministic_and_causal():
    x = _melody(5.0, seed=1)
    first = accbench.simulate("follower", x, sample_rate=SR, future_visibility=-4, chunk_frames=3, seed=0)
    second = accbench.simulate("follower", x, sample_rate=SR, future_visibility=-4, chunk_frames=3, seed=7)
    np.testing.assert_array_equal(first.output, second.output)
    # Changing the input after sample v leaves every chunk whose visible end is <= v unchanged.
    cut = 3 * SR
    altered = x.copy()
    altered[:, cut:] = np.random.default_rng(5).standard_normal(x.shape[1] - cut) * 0.3
    third = accbench.simulate("follower", altered, sample_rate=SR, future_visibility=-4, chunk_frames=3)
    events = first.events
    unchanged_until = int(events.loc[events["visible_end"] <= cut, "chunk_start"].max()) + 3 * HOP
    np.testing.assert_array_equal(first.output[:, :unchanged_until], third.output[:, :unchanged_until])
    assert not np.array_equal(first.output, third.output)


def test_silence_in_silence_out_for_any_chunk_size():
    silent = np.zeros((1, SR * 2), np.float32)
    for k in (1, 7, 50):
        result = accbench.simulate("follower", silent, sample_rate=SR, future_visibility=0, chunk_frames=k)
        assert not result.output.any()


def test_reset_forgets_the_previous_song_and_stereo_is_handled():
    model = Follower(channels=2)
    x = np.repeat(_melody(4.0), 2, axis=0)
    first = accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=4, song_id="a")
    again = accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=4, song_id="b")
    assert first.output.shape == (2, x.shape[1])
    np.testing.assert_array_equal(first.output, again.output)
    np.testing.assert_array_equal(first.output[0], first.output[1])


def test_bad_use_is_a_clear_error():
    model = Follower()
    with pytest.raises(ModelError, match="step called before reset"):
        model.step(np.zeros((1, 441), np.float32), StepContext(0, 0, 441, 1, HOP, True, 441))
    with pytest.raises(ModelError, match="follower was built for 22050 Hz / hop 441"):
        model.reset(Session("s", 16000, 320, 0, 1, 16000, 0))
    with pytest.raises(ModelError, match="change must be"):
        Follower(change="later")
