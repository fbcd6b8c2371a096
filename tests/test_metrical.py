"""The tactus choice (accbench.metrics.metrical) on synthetic drum grooves and on its building blocks."""

import mir_eval
import numpy as np
import pytest

from accbench.metrics import analysis, metrical
from accbench.metrics.cache import AnalysisCache

SR = 22050


def _hit(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One drum hit at SR: a 55 Hz kick, a snare (180 Hz body and noise), or a short high hi-hat."""
    if kind == "kick":
        t = np.arange(int(0.15 * SR)) / SR
        return np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.05)
    if kind == "snare":
        t = np.arange(int(0.12 * SR)) / SR
        return (0.5 * np.sin(2 * np.pi * 180 * t) + 0.6 * rng.standard_normal(t.size)) * np.exp(-t / 0.04)
    t = np.arange(int(0.03 * SR)) / SR
    return 0.25 * np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t / 0.01)


def groove(bpm: float, bars: int = 16, *, hats_per_beat: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 4/4 backbeat (kick on 1 and 3, snare on 2 and 4, hi-hats ``hats_per_beat`` per beat) and its beats (s)."""
    rng = np.random.default_rng(seed)
    period = 60.0 / bpm
    beats = np.arange(4 * bars) * period
    audio = np.zeros(int((beats[-1] + 1.0) * SR))

    def add(time: float, kind: str) -> None:
        hit = _hit(kind, rng)
        start = int(round(time * SR))
        audio[start : start + hit.size] += hit[: audio.size - start]

    for index, time in enumerate(beats):
        add(time, "kick" if index % 2 == 0 else "snare")
        for step in range(hats_per_beat):
            add(time + step * period / hats_per_beat, "hat")
    return (0.5 * audio / np.abs(audio).max()).astype(np.float32), beats


@pytest.mark.parametrize("bpm", [172.0, 100.0, 128.0])
def test_a_backbeat_is_tracked_at_the_kick_snare_level(bpm):
    audio, truth = groove(bpm)
    result = analysis.beats(audio, SR, cache=AnalysisCache())
    assert abs(result["tempo"] / bpm - 1) < 0.04
    assert mir_eval.beat.f_measure(truth, result["beats"]) > 0.95


def test_the_autocorrelation_alone_halves_a_fast_backbeat():
    # What the tactus choice fixes: with the autocorrelation's tempo the 172 BPM groove is tracked at 86.
    audio, _ = groove(172.0)
    alone = analysis.beats(audio, SR, cache=AnalysisCache(), choose_level=False)
    assert abs(alone["tempo"] / 86.0 - 1) < 0.04


def test_candidates_are_the_related_levels_at_autocorrelation_peaks():
    audio, _ = groove(120.0)
    onset = analysis.onset_envelope(audio, SR, cache=AnalysisCache())
    levels = metrical.level_candidates(onset["envelope"], onset["frame_rate"], 120.0)
    assert 5 <= len(levels) <= len(metrical.LEVEL_RATIOS)
    for expected in (40.0, 60.0, 80.0, 120.0, 180.0, 240.0):
        assert min(abs(level / expected - 1) for level in levels) < 0.05
    assert all(40.0 * 0.95 <= level <= 240.0 * 1.05 for level in levels)
    # No two candidates within 4 % of each other.
    ordered = np.sort(levels)
    assert np.all(ordered[1:] / ordered[:-1] > 1.04)


def test_choice_reports_every_candidate_and_its_score():
    audio, _ = groove(172.0)
    onset = analysis.onset_envelope(audio, SR, cache=AnalysisCache())
    envelope, rate = onset["envelope"], onset["frame_rate"]
    choice = metrical.choose_tactus(
        envelope, onset["bands"], rate, 86.0, lambda level: analysis.track_beats(envelope, rate, level)
    )
    assert choice.features.shape == (len(choice.candidates), len(metrical.LEVEL_FEATURES))
    assert choice.bpm == choice.candidates[int(np.argmax(choice.scores))]
    np.testing.assert_allclose(choice.scores, choice.features @ metrical.TACTUS_WEIGHTS)
    # A model that only likes slow tempi picks the slowest level instead.
    slow = metrical.choose_tactus(
        envelope,
        onset["bands"],
        rate,
        86.0,
        lambda level: analysis.track_beats(envelope, rate, level),
        weights=np.array([-10.0, 0, 0, 0, 0, 0, 0]),
    )
    assert slow.bpm == min(slow.candidates)


def test_no_candidates_keep_the_given_tempo():
    choice = metrical.choose_tactus(np.zeros(100), np.zeros((3, 100)), 86.0, 120.0, lambda level: np.zeros(0))
    assert choice.bpm == 120.0 and choice.candidates == ()


def test_local_alternation():
    alternating = np.tile([2.0, 1.0], 16)
    assert metrical.local_alternation(alternating) == pytest.approx(1.0, abs=1e-3)
    assert metrical.local_alternation(np.ones(32)) == 0.0
    assert metrical.local_alternation(alternating[:15]) == 0.0  # fewer than two windows
    # A section that starts on the other parity keeps the alternation high, window by window.
    flipped = np.concatenate([np.tile([2.0, 1.0], 16), np.tile([1.0, 2.0], 16)])
    assert metrical.local_alternation(flipped) > 0.7
    # Noise alternates little.
    assert metrical.local_alternation(np.random.default_rng(0).standard_normal(256)) < 0.4


def test_level_features_need_six_beats():
    envelope = np.random.default_rng(1).random(500)
    assert metrical.level_features(envelope, np.stack([envelope] * 3), 86.0, np.arange(5) * 40.0) is None
    features = metrical.level_features(envelope, np.stack([envelope] * 3), 86.0, np.arange(10) * 40.0)
    assert features.shape == (len(metrical.LEVEL_FEATURES),)
    assert features[0] == pytest.approx(np.log2(60 * 86.0 / 40.0 / 120.0))


@pytest.mark.parametrize(("frequency", "band"), [(60.0, 0), (800.0, 1), (5000.0, 2)])
def test_onset_bands_split_low_middle_and_high(frequency, band):
    # Hann-shaped tone bursts over a faint noise floor: their onsets rise in one band only.
    t = np.arange(4 * SR) / SR
    audio = 1e-3 * np.random.default_rng(0).standard_normal(t.size)
    for start in np.arange(0.25, 3.5, 0.5):
        burst = slice(int(start * SR), int((start + 0.2) * SR))
        audio[burst] += np.hanning(burst.stop - burst.start) * np.sin(2 * np.pi * frequency * t[burst])
    onset = analysis.onset_envelope(audio.astype(np.float32), SR, cache=AnalysisCache())
    assert onset["bands"].shape == (3, onset["envelope"].size)
    assert onset["bands"].dtype == np.float32
    peaks = onset["bands"].max(axis=1)
    assert peaks[band] > 2 * np.delete(peaks, band).max()
