"""Analyzers on synthetic audio: beats, onsets, chroma, chords, key; caching; silence and bad input."""

import subprocess
import sys

import mir_eval
import numpy as np
import pytest
from test_metrics_signals import SR, chord_song, clicks

from accbench.errors import DataError
from accbench.metrics import analysis
from accbench.metrics.cache import AnalysisCache


@pytest.mark.parametrize("bpm", [90.0, 120.0, 137.0])
def test_beats_on_clicks(bpm):
    audio, times = clicks(bpm, 12.0)
    result = analysis.beats(audio, SR, cache=AnalysisCache())
    assert abs(float(result["tempo"]) - bpm) < 1.0
    assert mir_eval.beat.f_measure(times, result["beats"]) > 0.95
    # Beat times are not shifted: the median error against the nearest click is within 12 ms (one frame).
    errors = [np.min(np.abs(times - b)) for b in result["beats"]]
    assert np.median(errors) < 0.012


def test_beats_and_chords_on_a_chord_progression():
    reference, _, annotations = chord_song()
    cache = AnalysisCache()
    beats = analysis.beats(reference, SR, cache=cache)["beats"]
    assert mir_eval.beat.f_measure(annotations.beats, beats) > 0.9
    chords = analysis.chords(reference, SR, cache=cache)
    scores = mir_eval.chord.evaluate(
        annotations.chord_intervals, list(annotations.chord_labels), chords["intervals"], list(chords["labels"])
    )
    assert scores["majmin"] > 0.9
    assert str(analysis.key(reference, SR, cache=cache)["key"]) in ("C major", "A minor", "G major")


def test_chord_segments_are_contiguous_and_cover_the_audio():
    reference, _, _ = chord_song()
    chords = analysis.chords(reference, SR, cache=AnalysisCache())
    intervals = chords["intervals"]
    assert intervals[0, 0] == 0.0
    assert intervals[-1, 1] == pytest.approx(len(reference) / SR)
    assert np.allclose(intervals[1:, 0], intervals[:-1, 1])
    for label in chords["labels"]:
        mir_eval.chord.validate_chord_label(str(label))


def test_onsets_find_clicks():
    audio, times = clicks(120.0, 6.0)
    found = analysis.onsets(audio, SR, cache=AnalysisCache())["onsets"]
    assert mir_eval.onset.f_measure(times, found)[0] > 0.95


@pytest.mark.parametrize("signal", ["silence", "constant", "empty"])
def test_silent_and_constant_audio_give_empty_results(signal):
    n = {"silence": SR * 4, "constant": SR * 4, "empty": 0}[signal]
    audio = np.full(n, 0.5 if signal == "constant" else 0.0, dtype=np.float32)
    cache = AnalysisCache()
    assert analysis.beats(audio, SR, cache=cache)["beats"].size == 0
    assert np.isnan(float(analysis.beats(audio, SR, cache=cache)["tempo"]))
    assert analysis.onsets(audio, SR, cache=cache)["onsets"].size == 0
    labels = list(analysis.chords(audio, SR, cache=cache)["labels"])
    assert labels in ([], ["N"])
    assert str(analysis.key(audio, SR, cache=cache)["key"]) == "X"


def test_non_finite_audio_is_a_clear_error():
    audio = np.zeros(SR, dtype=np.float32)
    audio[10] = np.nan
    with pytest.raises(DataError, match="NaN"):
        analysis.beats(audio, SR, cache=AnalysisCache())


def test_stereo_and_other_sample_rates_give_the_same_beats():
    audio, times = clicks(120.0, 8.0)
    cache = AnalysisCache()
    mono = analysis.beats(audio, SR, cache=cache)["beats"]
    stereo = analysis.beats(np.stack([audio, audio]), SR, cache=cache)["beats"]
    np.testing.assert_allclose(mono, stereo)
    audio_44k, _ = clicks(120.0, 8.0, sr=44100)
    high = analysis.beats(audio_44k, 44100, cache=cache)["beats"]
    assert mir_eval.beat.f_measure(times, high) > 0.95


def test_analyses_are_cached_by_content_and_version(tmp_path):
    audio, _ = clicks(120.0, 6.0)
    cache = AnalysisCache(tmp_path)
    first = analysis.beats(audio, SR, cache=cache)
    again = analysis.beats(audio.copy(), SR, cache=cache)
    np.testing.assert_array_equal(first["beats"], again["beats"])
    assert cache.computed["beats"] == 1 and cache.hits["beats"] == 1
    fresh = AnalysisCache(tmp_path)  # a new process reads the disk cache
    analysis.beats(audio, SR, cache=fresh)
    assert fresh.computed["beats"] == 0 and fresh.hits["beats"] == 1
    changed = audio.copy()
    changed[0] += 0.01
    analysis.beats(changed, SR, cache=fresh)
    assert fresh.computed["beats"] == 1


def test_deterministic():
    reference, _, _ = chord_song()
    a = analysis.chords(reference, SR, cache=AnalysisCache())
    b = analysis.chords(reference, SR, cache=AnalysisCache())
    np.testing.assert_array_equal(a["intervals"], b["intervals"])
    np.testing.assert_array_equal(a["labels"], b["labels"])


def test_estimate_key_finds_a_minor_key():
    chroma = np.zeros((12, 4))
    for pitch_class, weight in ((9, 3.0), (0, 2.0), (4, 2.0), (2, 0.5), (11, 0.5), (5, 0.6), (8, 0.7)):
        chroma[pitch_class] = weight
    assert analysis.estimate_key(chroma)[0] == "A minor"


def test_importing_accbench_its_metrics_and_the_warmup_does_not_import_librosa():
    # librosa's numba-compiled functions cost seconds to load (and compile once per environment): the analyzers
    # import librosa inside the functions that need it, so importing the packages stays light.
    code = (
        "import sys\n"
        "import accbench, accbench.metrics\n"
        "from accbench.metrics import analysis, score, warmup\n"
        "warmup.marker_path()\n"
        "assert 'librosa' not in sys.modules and 'numba' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_phase_check_moves_an_off_beat_grid_to_the_stronger_phase():
    local = np.zeros(200)
    local[10::20] = 1.0  # strong onsets halfway between the tracked beats
    local[::20] = 0.3
    frames = np.arange(0.0, 200.0, 20.0)  # 0, 20, ..., 180
    np.testing.assert_allclose(analysis._correct_phase(frames, local, 20.0), np.arange(10.0, 200.0, 20.0))
    # On-beat onsets stronger than the off-beat ones: the grid stays.
    local[::20] = 2.0
    np.testing.assert_array_equal(analysis._correct_phase(frames, local, 20.0), frames)


def test_first_and_last_beats_are_kept():
    # librosa's own trim=True dropped the first or last beats of most demo songs, and its last-beat choice put
    # a phantom beat at the very end of a click track; the analyzers keep both ends of a steady click track.
    # Half a second of silence comes first: an onset envelope cannot fire on frame 0.
    clicks_audio, clicks_times = clicks(100.0, 10.0)
    audio = np.concatenate([np.zeros(SR // 2, dtype=np.float32), clicks_audio])
    times = clicks_times + 0.5
    found = analysis.beats(audio, SR, cache=AnalysisCache())["beats"]
    assert abs(found[0] - times[0]) < 0.03 and abs(found[-1] - times[-1]) < 0.03
