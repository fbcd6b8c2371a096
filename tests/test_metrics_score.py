"""accbench.metrics.score: sources, skipping, caching once per song, bad input, and validity on the demo set."""

import math

import numpy as np
import pytest
from test_metrics_signals import SR, chord_song

import accbench
from accbench.annotations import Annotations
from accbench.errors import ConfigError, DataError
from accbench.metrics import AnalysisCache, registry, score
from accbench.metrics.scoring import METRICS

ALL = [name for names in METRICS.values() for name in names]


def shifted(audio, samples):
    return np.concatenate([np.zeros(samples, dtype=np.float32), audio])[: len(audio)]


def test_every_scored_metric_is_registered_with_direction_unit_and_range():
    table = registry()
    assert set(ALL) <= set(table["name"])
    rows = table.set_index("name").loc[ALL]
    assert set(rows["direction"]) <= {"higher", "lower"}
    assert (rows["min"] <= rows["max"]).all()


def test_sources_and_skips():
    reference, melody, annotations = chord_song()
    cache = AnalysisCache()
    with_annotations = score(
        melody, reference, sample_rate=SR, reference=reference, annotations=annotations, cache=cache
    )
    assert with_annotations.ref_source["beats"] == "annotation"
    assert with_annotations.to_dict()["ref_source"] == "annotation"
    analysed = score(melody, reference, sample_rate=SR, reference=reference, cache=cache)
    assert analysed.ref_source == {
        "beats": "reference-mix analysis",
        "chords": "reference-mix analysis",
        "input": "input analysis",
    }
    beats_only = Annotations(beats=annotations.beats)
    mixed = score(melody, reference, sample_rate=SR, reference=reference, annotations=beats_only, cache=cache)
    assert mixed.to_dict()["ref_source"] == "beats: annotation; chords: reference-mix analysis"
    alone = score(melody, reference, sample_rate=SR, cache=cache)
    for name in ("beat.f_measure", "harmony.majmin", "reaction.chord_median_s", "reaction.beat_lock_in_s"):
        assert math.isnan(alone[name]) and "no reference" in alone.skipped[name]
    # Reference-free metrics exist without a reference.
    assert alone["harmony.chroma_agreement"] > 0.3
    assert not math.isnan(alone["beat.input_f_measure"])
    assert alone.skipped["timing.miss_rate"] == "no event log"
    assert list(alone.values) == ALL


def test_oracle_beats_delayed_beats_silence_on_synthetic_audio():
    reference, melody, annotations = chord_song()
    cache = AnalysisCache()
    kwargs = dict(sample_rate=SR, reference=reference, annotations=annotations, cache=cache)
    oracle = score(melody, reference, **kwargs)
    late = score(melody, shifted(reference, SR // 2), **kwargs)
    silence = score(melody, np.zeros_like(reference), **kwargs)
    assert oracle["beat.f_measure"] > 0.9 and oracle["harmony.majmin"] > 0.9
    assert oracle["harmony.majmin"] > late["harmony.majmin"] > silence["harmony.majmin"] == 0.0
    assert oracle["reaction.chord_median_s"] < 0.2 < late["reaction.chord_median_s"] < 0.8
    assert silence["beat.f_measure"] == 0.0 and silence["harmony.chroma_agreement"] == 0.0
    assert silence["reaction.chord_unmatched"] == 1.0 and silence["harmony.chord_tone_ratio"] == 0.0
    assert oracle["harmony.chord_tone_ratio"] > 0.8


def test_metric_selection():
    reference, melody, annotations = chord_song()
    result = score(melody, reference, sample_rate=SR, annotations=annotations, metrics=["beat.f_measure", "timing"])
    assert list(result.values) == ["beat.f_measure", *METRICS["timing"]]
    with pytest.raises(ConfigError, match="unknown metric"):
        score(melody, reference, sample_rate=SR, metrics=["beat.nope"])


def test_scoring_many_configs_analyses_input_and_reference_once():
    reference, melody, _ = chord_song()
    cache = AnalysisCache()
    outputs = [shifted(reference, delay) for delay in (1, 2205, 4410, 8820)]
    for output in outputs:
        score(melody, output, sample_rate=SR, reference=reference, cache=cache, metrics=["beat", "harmony", "reaction"])
    g = len(outputs)
    # Per config: the output and the input+output mix. Once per song: the input, the reference mix and the
    # reference alone (the seed paper's GT row, beat.paper_alignment_gt_*).
    assert cache.computed["beats"] == 2 * g + 3
    assert cache.computed["chords"] == g + 1  # the outputs and the reference mix
    assert cache.computed["chroma"] == g + 2  # outputs, reference mix, input
    assert cache.computed["key"] == g + 1  # outputs and input
    assert cache.hits["beats"] >= 2 * (g - 1)


def test_timing_from_a_simulated_event_log():
    reference, melody, annotations = chord_song()
    result = accbench.simulate(
        "oracle-delayed",
        melody,
        sample_rate=SR,
        reference=reference,
        future_visibility=-5,
        chunk_frames=10,
        latency="fixed:30ms",
    )
    scores = score(
        melody,
        result.output,
        sample_rate=SR,
        reference=reference,
        annotations=annotations,
        events=result.events,
        metrics=["timing", "harmony"],
    )
    summary = result.summary
    assert scores["timing.miss_rate"] == summary.miss_rate
    assert scores["timing.real_time_factor"] == pytest.approx(summary.real_time_factor)
    assert scores["timing.feasible_future_visibility_frames"] == summary.feasible_future_visibility
    assert scores["timing.mean_recency_gap_s"] == pytest.approx(summary.mean_recency_gap_s)
    assert scores["harmony.majmin"] > 0.5


@pytest.mark.parametrize("case", ["silent", "constant", "short", "long", "stereo", "only_n", "no_beats"])
def test_bad_input_gives_defined_results(case):
    reference, melody, annotations = chord_song()
    output = reference.copy()
    kwargs = dict(sample_rate=SR, reference=reference, annotations=annotations, cache=AnalysisCache())
    if case == "silent":
        output = np.zeros_like(reference)
    elif case == "constant":
        output = np.full_like(reference, 0.3)
    elif case == "short":
        output = reference[: len(reference) // 2]
        kwargs["fit"] = "pad"
    elif case == "long":
        output = np.concatenate([reference, reference[:1000]])
        kwargs["fit"] = "pad"
    elif case == "stereo":
        output = np.stack([reference, reference])
    elif case == "only_n":
        kwargs["annotations"] = Annotations(beats=annotations.beats, chord_intervals=[[0.0, 5.0]], chord_labels=["N"])
    elif case == "no_beats":
        kwargs["annotations"] = None
        kwargs["reference"] = np.zeros_like(reference)
        melody = np.zeros_like(melody)
    result = score(melody, output, **kwargs)
    assert set(result.values) == set(ALL)
    for name, value in result.values.items():
        assert math.isnan(value) == (name in result.skipped), name
    if case in ("silent", "constant"):
        assert result["beat.f_measure"] == 0.0 and result["harmony.majmin"] == 0.0
    if case == "short":
        assert "padded" in result.notes[0]
        assert 0.3 < result["harmony.majmin"] < 0.7
    if case == "long":
        assert "trimmed" in result.notes[0] and result["harmony.majmin"] > 0.9
    if case == "stereo":
        assert result["beat.f_measure"] > 0.9
    if case == "only_n":
        assert "all 'N'" in result.skipped["harmony.majmin"] and "all 'N'" in result.skipped["reaction.chord_median_s"]
        assert result["beat.f_measure"] > 0.9
    if case == "no_beats":
        assert result.skipped["beat.f_measure"] == "no beats found in the reference mix"
        assert result.skipped["harmony.majmin"].startswith("reference chords")
        assert result.skipped["beat.input_f_measure"] == "no beats found in the input"
        assert result.skipped["harmony.chroma_agreement"] == "the input is silent"
        assert result.skipped["harmony.chord_tone_ratio"] == "the input is silent"


def test_nan_output_and_empty_input_are_clear_errors():
    reference, melody, _ = chord_song()
    output = reference.copy()
    output[100] = np.nan
    with pytest.raises(DataError, match="song 'x'.*output audio contains NaN"):
        score(melody, output, sample_rate=SR, song="x")
    with pytest.raises(DataError, match="no samples"):
        score(np.zeros(0), output, sample_rate=SR)


# ---- validity on the demo set (Bach chorales rendered offline, exact annotations) ----


@pytest.fixture(scope="module")
def demo_songs():
    from accbench.datasets import load_dataset

    return [song.load(sample_rate=SR, duration_s=20.0) for song in load_dataset("demo", songs=3)]


def test_demo_baselines_are_ordered(demo_songs):
    cache = AnalysisCache()
    for index, song in enumerate(demo_songs):
        other = demo_songs[(index + 1) % len(demo_songs)].reference
        mismatch = np.zeros_like(song.reference)
        n = min(other.shape[1], mismatch.shape[1])
        mismatch[:, :n] = other[:, :n]
        kwargs = dict(
            sample_rate=SR,
            reference=song.reference,
            annotations=song.annotations,
            cache=cache,
            metrics=["beat.f_measure", "harmony.majmin", "harmony.chord_tone_ratio"],
        )
        oracle = score(song.input, song.reference, **kwargs)
        wrong = score(song.input, mismatch, **kwargs)
        silence = score(song.input, np.zeros_like(song.reference), **kwargs)
        # Demo chorales play at their own tempi (72-108 BPM), so a mismatch is off the beat grid too.
        assert oracle["beat.f_measure"] > wrong["beat.f_measure"] > silence["beat.f_measure"], song.song_id
        # A mismatched song in an unrelated key can score exactly 0, like silence.
        assert oracle["harmony.majmin"] > wrong["harmony.majmin"] >= silence["harmony.majmin"], song.song_id
        assert oracle["beat.f_measure"] > 0.9 and oracle["harmony.majmin"] > 0.5
        assert silence["beat.f_measure"] == 0.0 and silence["harmony.majmin"] == 0.0
        assert (
            oracle["harmony.chord_tone_ratio"] > wrong["harmony.chord_tone_ratio"] > silence["harmony.chord_tone_ratio"]
        )


def test_demo_oracle_delayed_falls_as_the_delay_grows(demo_songs):
    song = demo_songs[0]
    cache = AnalysisCache()
    previous = None
    for delay_s in (0.0, 0.1, 0.3, 1.0):
        result = score(
            song.input,
            shifted(song.reference[0], int(delay_s * SR)),
            sample_rate=SR,
            reference=song.reference,
            annotations=song.annotations,
            cache=cache,
            metrics=["beat.f_measure", "harmony.majmin", "reaction.chord_median_s"],
        )
        if previous is not None:
            assert result["harmony.majmin"] < previous["harmony.majmin"]
            assert result["beat.f_measure"] <= previous["beat.f_measure"]
            assert result["reaction.chord_median_s"] >= previous["reaction.chord_median_s"]
        previous = result
    assert previous["beat.f_measure"] < 0.3


def test_demo_mismatch_at_another_tempo_is_below_oracle_on_beats():
    from accbench.datasets import load_dataset

    songs = load_dataset("demo", songs=7, tempo="score")
    song, other = songs[0].load(sample_rate=SR, duration_s=20.0), songs[6].load(sample_rate=SR, duration_s=20.0)
    tempo = [60 / np.median(np.diff(s.annotations.beats)) for s in (song, other)]
    assert abs(tempo[0] - tempo[1]) > 5  # 76 vs 96 BPM from the chorales' metronome marks
    kwargs = dict(sample_rate=SR, reference=song.reference, annotations=song.annotations, cache=AnalysisCache())
    names = ["beat.f_measure", "harmony.majmin"]
    oracle = score(song.input, song.reference, metrics=names, **kwargs)
    wrong = score(song.input, other.reference[:, : song.reference.shape[1]], metrics=names, **kwargs)
    silence = score(song.input, np.zeros_like(song.reference), metrics=names, **kwargs)
    assert oracle["beat.f_measure"] > wrong["beat.f_measure"] > silence["beat.f_measure"]
    assert oracle["harmony.majmin"] > wrong["harmony.majmin"] >= silence["harmony.majmin"]
