"""Unknown names say "did you mean ...?": models, metrics and groups, dataset kinds, latency models, backends.

Each error stays one line, names what was asked for, and still lists the known names; a name that is close to
nothing gets no suggestion.
"""

from __future__ import annotations

import numpy as np
import pytest

from accbench.datasets import load_dataset
from accbench.errors import AccbenchError, ConfigError, DataError, ModelError
from accbench.metrics import analysis, embedders, score
from accbench.models import load_model
from accbench.simulators.latency import parse_latency
from accbench.suggest import did_you_mean


def _message(call, *args, error=AccbenchError, **kwargs) -> str:
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_did_you_mean_lists_the_closest_names():
    assert did_you_mean("folower", ["follower", "silence"]) == " (did you mean 'follower'?)"
    assert did_you_mean("zzz", ["follower"]) == ""


@pytest.mark.parametrize(
    ("spec", "suggested"),
    [
        ("folower", "'follower'"),
        ("oracle-delay", "'oracle-delayed'"),
        ("Silence", "'silence'"),
        ("troch", "'torch:'"),
        ("subproces", "'subprocess:'"),
    ],
)
def test_unknown_model_suggests_builtins_and_adapter_prefixes(spec, suggested):
    message = _message(load_model, spec, error=ModelError)
    assert f"unknown model {spec!r} (did you mean {suggested}" in message
    assert "known names: follower, mismatch, oracle, oracle-delayed, reference-transformer, silence" in message


def test_unknown_model_suggests_entry_points(plugin):
    message = _message(load_model, "half-inptu", error=ModelError)
    assert "(did you mean 'half-input'?)" in message and "half-input" in message.split("known names:")[1]


def test_misspelt_adapter_prefix_with_a_target_is_suggested():
    message = _message(load_model, "troch:mypkg.models:make", error=ModelError)
    assert message.startswith("model 'troch:mypkg.models:make': cannot import module 'troch'")
    assert message.endswith("(did you mean 'torch:'?)")


def test_unknown_model_far_from_everything_gets_no_suggestion():
    message = _message(load_model, "qqqqqq", error=ModelError)
    assert "did you mean" not in message and "unknown model 'qqqqqq'; known names:" in message
    # A real module without the attribute is an import problem, not a misspelt prefix.
    assert "did you mean" not in _message(load_model, "accbench.models:nothing_here", error=ModelError)


@pytest.mark.parametrize(
    ("name", "suggested"),
    [("harmoy", "'harmony'"), ("embeding", "'embedding'"), ("beat.fmeasure", "'beat.f_measure'")],
)
def test_unknown_metric_or_group_suggests_and_lists_every_group(name, suggested):
    x = np.zeros(8000, dtype=np.float32)
    message = _message(score, x, x, sample_rate=8000, metrics=[name], error=ConfigError)
    assert f"unknown metric or group {name!r} (did you mean {suggested}" in message
    assert "groups: beat, harmony, timing, reaction, embedding" in message


def test_unknown_backends_suggest_the_known_ones():
    x = np.zeros(8000, dtype=np.float32)
    message = _message(score, x, x, sample_rate=8000, beat_tracker="madmon", error=ConfigError)
    assert message == "unknown beat tracker 'madmon' (did you mean 'madmom'?); known: default, madmom, beat-this"
    message = _message(score, x, x, sample_rate=8000, chord_estimator="defualt", error=ConfigError)
    assert message == "unknown chord estimator 'defualt' (did you mean 'default'?); known: default, madmom"
    message = _message(analysis.beats, x, 8000, tracker="madmon", error=ConfigError)
    assert message == "unknown beat tracker 'madmon' (did you mean 'madmom'?); known: default, madmom, beat-this"
    message = _message(analysis.chords, x, 8000, estimator="defualt", error=ConfigError)
    assert message == "unknown chord estimator 'defualt' (did you mean 'default'?); known: default, madmom"


def test_unknown_embedder_suggests():
    message = _message(embedders.get_embedder, "spectal", error=ConfigError)
    assert message == "unknown embedder 'spectal' (did you mean 'spectral'?); known: auto, clap, spectral"
    assert "did you mean" not in _message(embedders.get_embedder, "vggish", error=ConfigError)


@pytest.mark.parametrize(
    ("spec", "suggested"),
    [
        ("dmeo", "'demo'"),
        ("Demo", "'demo'"),
        ("foldr:/x", "'folder:'"),
        ("musdb18:/x", "'musdb:'"),
        ("manifest", "'manifest:'"),
    ],
)
def test_unknown_dataset_kind_suggests(spec, suggested):
    message = _message(load_dataset, spec, error=DataError)
    assert message.startswith(f"unknown dataset spec {spec!r} (did you mean {suggested}?)")
    assert message.endswith("kind one of manifest, folder, slakh, musdb, moisesdb")
    assert "did you mean" not in _message(load_dataset, "zzz:/data", error=DataError)


@pytest.mark.parametrize(
    ("spec", "suggested"),
    [("fixd:30ms", "'fixed'"), ("lineer:20ms,2ms/frame", "'linear'"), ("mesured", "'measured'"), ("zer", "'zero'")],
)
def test_unknown_latency_model_suggests(spec, suggested):
    message = _message(parse_latency, spec, error=ConfigError)
    assert message.startswith(f"invalid latency spec {spec!r}: expected one of 'zero', 'fixed:30ms'")
    assert message.endswith(f"(did you mean {suggested}?)")
    assert "did you mean" not in _message(parse_latency, "banana:3ms", error=ConfigError)
