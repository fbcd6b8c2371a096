"""The one single-song path (accbench.song_run): prepare, simulate, score; the same song and errors everywhere."""

import math

import numpy as np
import pytest
import soundfile
from test_metrics_signals import SR, chord_song

import accbench
from accbench.audio import resample
from accbench.datasets.song import LoadedSong
from accbench.errors import ConfigError, DataError
from accbench.metrics import AnalysisCache, score
from accbench.simulators import SimulationConfig
from accbench.song_run import SongAudio, prepare_song, run_song


def test_prepare_song_resamples_matches_channels_and_checks():
    reference, melody, annotations = chord_song()
    info = accbench.load_model("oracle").info
    x44 = resample(np.stack([melody, melody]), SR, 44100)
    r44 = resample(reference[np.newaxis, :], SR, 44100)
    song = prepare_song(x44, info, sample_rate=44100, reference=r44, annotations=annotations, song_id="s")
    assert song.sample_rate == info.sample_rate == SR
    assert song.input.shape == song.reference.shape == (info.channels, len(melody))
    assert song.input.dtype == np.float32 and song.annotations is annotations
    with pytest.raises(ConfigError, match="model 'oracle' needs a reference accompaniment \\(song 's'\\)"):
        prepare_song(melody, info, sample_rate=SR, song_id="s")
    with pytest.raises(DataError, match="reference has 10 samples but input has 12"):
        prepare_song(np.zeros(12), info, sample_rate=SR, reference=np.zeros(10))
    with pytest.raises(DataError, match="song 'e'.*input is empty"):
        prepare_song(np.zeros(0), info, sample_rate=SR, reference=np.zeros(0), song_id="e")
    with pytest.raises(DataError, match="reference contains NaN"):
        prepare_song(np.zeros(12), info, sample_rate=SR, reference=np.array([np.nan] * 12))
    with pytest.raises(ConfigError, match="sample_rate is required when input is an array"):
        prepare_song(np.zeros(12), info, reference=np.zeros(12))


def test_files_and_arrays_take_the_same_path(tmp_path):
    reference, melody, _ = chord_song()
    soundfile.write(tmp_path / "in.wav", resample(melody[np.newaxis, :], SR, 44100)[0], 44100, subtype="FLOAT")
    soundfile.write(tmp_path / "ref.wav", resample(reference[np.newaxis, :], SR, 44100)[0], 44100, subtype="FLOAT")
    common = dict(future_visibility=-5, chunk_frames=4, latency="fixed:10ms")
    from_files = accbench.simulate("oracle-delayed", tmp_path / "in.wav", reference=tmp_path / "ref.wav", **common)
    x, r = (resample(s[np.newaxis, :], SR, 44100) for s in (melody, reference))
    from_arrays = accbench.simulate("oracle-delayed", x, reference=r, sample_rate=44100, **common)
    np.testing.assert_array_equal(from_files.output, from_arrays.output)
    np.testing.assert_array_equal(from_files.input, from_arrays.input)
    assert from_files.sample_rate == SR


def test_run_song_scores_what_simulate_then_score_gives():
    reference, melody, annotations = chord_song()
    model = accbench.load_model("oracle-delayed")
    config = SimulationConfig(future_visibility=-5, chunk_frames=4, latency="fixed:10ms")
    song = SongAudio("s", melody, reference, SR, annotations)
    run = run_song(model, song, config, metrics=["beat", "harmony", "timing"], cache=AnalysisCache())
    assert set(run.seconds) == {"simulate", "score"} and run.result.song_id == "s"
    assert run.song.reference.shape == run.result.output.shape
    result = accbench.simulate(
        model, melody, reference=reference, sample_rate=SR, future_visibility=-5, chunk_frames=4, latency="fixed:10ms"
    )
    np.testing.assert_array_equal(run.result.output, result.output)
    by_hand = score(result, reference=reference, annotations=annotations, metrics=["beat", "harmony", "timing"])
    assert dict(run.scores) == pytest.approx(dict(by_hand), nan_ok=True)
    assert run.scores.ref_source["beats"] == "annotation" and run.scores["harmony.majmin"] > 0.8
    unscored = run_song(model, song, config)
    assert unscored.scores is None and set(unscored.seconds) == {"simulate"}


def test_run_song_takes_a_loaded_dataset_song_and_scores_a_stereo_model_like_mono():
    """A sweep passes ``Song.load(model rate)``; a stereo input channel-matched for a mono model scores the same."""
    reference, melody, annotations = chord_song()
    model = accbench.load_model("oracle-delayed")
    config = SimulationConfig(future_visibility=0, chunk_frames=2)
    mono = LoadedSong("m", melody[np.newaxis, :], reference[np.newaxis, :], SR, annotations)
    stereo = LoadedSong("m", np.stack([melody, melody]), np.stack([reference, reference]), SR, annotations)
    cache = AnalysisCache()
    first = run_song(model, mono, config, metrics=["beat", "harmony"], cache=cache)
    computed = dict(cache.computed)
    second = run_song(model, stereo, config, metrics=["beat", "harmony"], cache=cache)
    assert dict(cache.computed) == computed  # the same mono signals: every analysis came from the cache
    for name, value in first.scores.items():
        assert (math.isnan(value) and math.isnan(second.scores[name])) or second.scores[name] == value, name
