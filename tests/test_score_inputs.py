"""accbench.metrics.score: a SimulationResult in, a read-only Scores mapping out, lengths that must match, groups."""

import importlib
import math
import pickle
from collections.abc import Mapping

import numpy as np
import pytest
from test_metrics_signals import SR, chord_song

import accbench
from accbench.audio import resample
from accbench.errors import ConfigError, DataError
from accbench.metrics import AnalysisCache, registry, score, scoring
from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec
from accbench.metrics.scoring import GROUPS, METRICS, Scores

README = dict(
    future_visibility=-10,
    chunk_frames=4,
    latency="fixed:30ms",
    input_latency_ms=5,
    output_latency_ms=10,
    on_miss="truncate",
    seed=0,
)
"""The README's Python example (model ``oracle-delayed``)."""


def test_metrics_and_groups_keep_their_content_and_order():
    assert GROUPS == ("beat", "harmony", "timing", "reaction")
    assert METRICS["beat"][:2] == ("beat.f_measure", "beat.cemgil") and METRICS["beat"][-1] == "beat.input_amlt"
    assert METRICS["harmony"] == (
        "harmony.root",
        "harmony.majmin",
        "harmony.thirds",
        "harmony.triads",
        "harmony.sevenths",
        "harmony.mirex",
        "harmony.chroma_agreement",
        "harmony.chord_tone_ratio",
        "harmony.key_agreement",
    )
    assert METRICS["timing"][0] == "timing.miss_rate" and METRICS["timing"][-1] == "timing.real_time_factor"
    assert METRICS["reaction"] == (
        "reaction.chord_median_s",
        "reaction.chord_p90_s",
        "reaction.chord_unmatched",
        "reaction.beat_lock_in_s",
    )
    assert [group.name for group in scoring.GROUP_LIST] == [*GROUPS, "embedding", "cocola"]
    embedding = scoring.GROUP_BY_NAME["embedding"]
    assert embedding.opt_in and "embedding.spectral_cosine_mix" in embedding.metrics


def test_scores_is_a_read_only_mapping_that_keeps_values():
    reference, melody, annotations = chord_song()
    result = score(melody, reference, sample_rate=SR, annotations=annotations, metrics=["beat", "harmony.majmin"])
    assert isinstance(result, Mapping)
    names = [*METRICS["beat"], "harmony.majmin"]
    assert list(result) == names and len(result) == len(names) and "beat.f_measure" in result
    assert "timing.miss_rate" not in result
    assert dict(result.items()) == {name: result[name] for name in names}
    assert list(result.values()) == [result[name] for name in names]
    # The attribute of earlier versions: a mapping (index, iterate, .items()), equal to the Scores itself.
    assert result.values["beat.f_measure"] == result["beat.f_measure"]
    assert list(result.values) == names and dict(result.values.items()) == dict(result)
    assert result.values == dict(result)
    with pytest.raises(TypeError):
        result["beat.f_measure"] = 1.0
    with pytest.raises(AttributeError):
        result.ref_source = {}
    with pytest.raises(TypeError):
        result.skipped["beat.f_measure"] = "no"
    with pytest.raises(TypeError):
        result.values["beat.f_measure"] = 1.0
    row = result.to_dict()
    assert row["beat.f_measure"] == result["beat.f_measure"] and row["ref_source"] == "annotation"
    assert Scores({"beat.f_measure": 1}, notes=["x"]).to_dict()["notes"] == "x"
    again = pickle.loads(pickle.dumps(result))
    assert isinstance(again, Scores) and again.ref_source == result.ref_source and again.skipped == result.skipped
    np.testing.assert_equal(again.to_dict(), row)


def test_plain_arrays_of_different_lengths_are_an_error_with_a_hint():
    reference, melody, _ = chord_song()
    message = r"song 'a'.*output has 1000 samples but input has \d+ \(both read as 22050 Hz\)"
    with pytest.raises(DataError, match=message):
        score(melody, reference[:1000], sample_rate=SR, song="a")
    with pytest.raises(DataError, match="pass the SimulationResult itself"):
        score(melody, reference, sample_rate=SR, reference=reference[:-1])
    padded = score(melody, reference[:1000], sample_rate=SR, fit="pad", metrics=["beat.input_f_measure"])
    assert padded.notes == (f"output padded with {len(melody) - 1000} zero samples to the input's length",)
    with pytest.raises(ConfigError, match="fit must be one of"):
        score(melody, reference, sample_rate=SR, fit="stretch")
    with pytest.raises(ConfigError, match="needs the output and the sample rate"):
        score(melody, reference)


def test_readme_example_at_44k_scores_like_the_song_at_the_model_rate():
    """The README's example given a 44.1 kHz input scores what the same song scores at the model's 22.05 kHz.

    The 44.1 kHz signals are the 22.05 kHz song upsampled with soxr, so the model hears it after a soxr round
    trip (peak error about 5e-3, from partials near 11 kHz that the resampler's filters attenuate). Timing
    metrics must be identical (the same event log). The analyses run at 22.05 kHz on 11.6 ms onset frames and
    93 ms chroma frames; the round trip may move a beat or a chord boundary by a frame or two, so the tolerance
    is 0.02 on metrics in [0, 1] (a 93 ms frame is 0.005 of this 19 s song), 25 ms on millisecond metrics and
    0.025 s on seconds. Measured: every value agrees to 4 decimals. The old example's padded score is far off
    (harmony.majmin 0.14 against 0.89).
    """
    reference, melody, _ = chord_song()
    x, r = (resample(signal[np.newaxis, :], SR, 44100) for signal in (melody, reference))
    model = accbench.load_model("oracle-delayed")
    res = accbench.simulate(model, x, reference=r, sample_rate=44100, **README)
    native = accbench.simulate(model, melody, reference=reference, sample_rate=SR, **README)
    assert res.sample_rate == SR and res.output.shape == native.output.shape
    at_44k, at_model_rate = score(res, cache=AnalysisCache()), score(native, cache=AnalysisCache())
    assert list(at_44k) == list(at_model_rate) and at_44k.skipped == at_model_rate.skipped
    analysed = {"beats": "reference-mix analysis", "chords": "reference-mix analysis", "input": "input analysis"}
    assert at_44k.ref_source == at_model_rate.ref_source == analysed
    # oracle-delayed plays the reference 14 frames (0.28 s) late: in key and on the mix's beat grid, off-beat.
    assert at_model_rate["harmony.majmin"] > 0.8 and at_model_rate["beat.mix_f_measure"] > 0.9
    for name, value in at_model_rate.items():
        if name.startswith("timing."):
            assert at_44k[name] == value or (math.isnan(value) and math.isnan(at_44k[name])), name
        elif not math.isnan(value):
            unit = registry().set_index("name").loc[name, "unit"]
            tolerance = 25.0 if unit == "ms" else 0.025 if unit == "s" else 0.02
            assert at_44k[name] == pytest.approx(value, abs=tolerance), name
    # The old README call read the 22.05 kHz output as 44.1 kHz audio of half the length: now an error.
    with pytest.raises(DataError, match=r"output has \d+ samples but input has \d+ \(both read as 44100 Hz\)"):
        score(x, res.output[0], sample_rate=44100, reference=r, events=res.events)
    broken = score(x, res.output[0], sample_rate=44100, reference=r, events=res.events, fit="pad")
    assert broken["harmony.majmin"] < 0.5 * at_model_rate["harmony.majmin"] and "padded" in broken.notes[0]


def test_a_simulation_result_brings_its_rate_events_and_song():
    reference, melody, annotations = chord_song()
    res = accbench.simulate("oracle-delayed", melody, reference=reference, sample_rate=SR, song_id="s", **README)
    result = score(res, annotations=annotations, metrics=["timing", "harmony.majmin"])
    assert result["timing.miss_rate"] == res.summary.miss_rate and not result.skipped
    assert result["harmony.majmin"] > 0.8 and result.ref_source["chords"] == "annotation"
    # Without annotations the result's own reference (at the model's rate) is analysed.
    assert score(res, metrics=["harmony.majmin"]).ref_source["chords"] == "reference-mix analysis"
    with pytest.raises(ConfigError, match="do not pass it again"):
        score(res, res.output)
    with pytest.raises(DataError, match="song 's'.*sample_rate=44100 but the SimulationResult is at 22050 Hz"):
        score(res, sample_rate=44100)


def test_a_new_group_is_one_declaration_and_one_registry_line(monkeypatch):
    """A group declares its needs; score resolves them, skips with the resolver's reason, evaluates the rest."""
    spec = MetricSpec("align.lock", "higher", "", (0.0, 1.0), "output beats on reference beats", True)
    monkeypatch.setitem(importlib.import_module("accbench.metrics.registry")._REGISTRY, spec.name, spec)
    seen = []

    def evaluate(song, wanted):
        seen.append(wanted)
        found = GroupScores()
        found.put("align.lock", float(len(song.reference_beats()) > 0))
        return found

    group = MetricGroup("align", ("align.lock",), {"reference_beats": ("align.lock",)}, evaluate, opt_in=True)
    monkeypatch.setattr(scoring, "GROUP_LIST", (*scoring.GROUP_LIST, group))
    monkeypatch.setitem(scoring.GROUP_BY_NAME, "align", group)
    reference, melody, annotations = chord_song()
    found = score(melody, reference, sample_rate=SR, annotations=annotations, metrics=["beat.f_measure", "align"])
    assert list(found) == ["beat.f_measure", "align.lock"] and found["align.lock"] == 1.0
    assert seen == [frozenset({"align.lock"})]
    alone = score(melody, reference, sample_rate=SR, metrics=["align"])
    assert math.isnan(alone["align.lock"]) and len(seen) == 1
    assert alone.skipped == {"align.lock": "no reference: neither reference audio nor beat annotations"}
    with pytest.raises(ValueError, match="unknown need 'lyrics'"):
        MetricGroup("align", ("align.lock",), {"lyrics": ("align.lock",)}, evaluate)
