"""Embedding metrics with the weights-free spectral embedder: values, labels, skipping, caching, ordering."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from accbench.errors import ConfigError, DataError
from accbench.metrics.cache import AnalysisCache
from accbench.metrics.embedders import SpectralEmbedder, embed_audio, get_embedder, window_starts
from accbench.metrics.embedding import cosine_similarities, evaluate, mix_window_embeddings, windowed_cosine
from accbench.metrics.frechet import frechet_over_songs
from accbench.metrics.registry import get as get_spec

SR = 22050
NOT_CLAP = "spectral (not comparable to CLAP)"


def _tone(freqs, seconds=12.0, sr=SR, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    signal = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs) * 0.2
    return (signal + rng.normal(scale=0.002, size=t.size)).astype(np.float32)[None]


def test_window_starts():
    assert window_starts(25, 10, 5).tolist() == [0, 5, 10, 15]
    assert window_starts(27, 10, 5).tolist() == [0, 5, 10, 15, 17]  # last window aligned to the end
    assert window_starts(7, 10, 5).tolist() == [0]
    assert window_starts(0, 10, 5).tolist() == []
    with pytest.raises(ConfigError):
        window_starts(10, 0, 5)


def test_cosine_helpers():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    b = np.array([[2.0, 0.0], [0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(cosine_similarities(a, b), [1.0, -1.0, 0.0])  # zero vector: similarity 0
    assert windowed_cosine(a, b) == pytest.approx(0.0)
    assert math.isnan(windowed_cosine(np.zeros((0, 2)), np.zeros((0, 2))))
    with pytest.raises(ValueError):
        cosine_similarities(a, b[:2])


def test_spectral_embedder_is_normalised_deterministic_and_defines_silence():
    embedder = SpectralEmbedder()
    windows = np.concatenate([_tone([220, 330]), _tone([440]), np.zeros((1, 12 * SR), np.float32)])[:, : 10 * SR]
    first = embedder.embed(windows)
    assert first.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(first, embedder.embed(windows))
    silence = first[2]
    assert silence[-1] == pytest.approx(1.0)  # the constant component alone
    assert float(first[0] @ silence) < 0.2 and float(first[0] @ first[1]) > float(first[0] @ silence)


def test_evaluate_labels_and_oracle_values():
    x, r = _tone([523.25], seed=1), _tone([130.81, 196.0], seed=2)
    scores = evaluate(x, r, SR, reference=r, embedder="spectral", cache=AnalysisCache())
    assert scores["embedding.embedder"] == NOT_CLAP
    assert scores["embedding.skipped"] == ""
    assert set(scores) == {
        "embedding.spectral_cosine_mix",
        "embedding.spectral_cosine_output_reference",
        "embedding.spectral_cosine_output_input",
        "embedding.spectral_frechet_song",
        "embedding.embedder",
        "embedding.skipped",
    }
    assert scores["embedding.spectral_cosine_mix"] == pytest.approx(1.0)
    assert scores["embedding.spectral_cosine_output_reference"] == pytest.approx(1.0)
    assert scores["embedding.spectral_frechet_song"] == 0.0
    assert -1.0 <= scores["embedding.spectral_cosine_output_input"] < 1.0
    for name in scores:
        if name.startswith("embedding.spectral_"):
            spec = get_spec(name)
            assert "NOT comparable to CLAP" in spec.description


def test_no_reference_gives_nan_with_reason():
    x, y = _tone([440], seed=3), _tone([220], seed=4)
    scores = evaluate(x, y, SR, embedder="spectral", cache=AnalysisCache())
    assert math.isnan(scores["embedding.spectral_cosine_mix"])
    assert math.isnan(scores["embedding.spectral_cosine_output_reference"])
    assert math.isnan(scores["embedding.spectral_frechet_song"])
    assert math.isfinite(scores["embedding.spectral_cosine_output_input"])
    assert "no reference" in scores["embedding.skipped"]


def test_output_is_scored_over_the_input_duration():
    x, r = _tone([440], seconds=12.0, seed=5), _tone([220], seconds=12.0, seed=6)
    cache = AnalysisCache()
    longer = np.concatenate([r, np.ones((1, SR), np.float32)], axis=1)  # extra second beyond the input: ignored
    exact = evaluate(x, r, SR, reference=r, embedder="spectral", cache=cache)
    trimmed = evaluate(x, longer, SR, reference=r, embedder="spectral", cache=cache)
    assert trimmed == exact
    shorter = evaluate(x, r[:, : 6 * SR], SR, reference=r, embedder="spectral", cache=cache)
    assert shorter["embedding.spectral_cosine_output_reference"] < 0.99  # the missing half is silence
    with pytest.raises(DataError, match="NaN"):
        evaluate(x, np.full_like(r, np.nan), SR, reference=r, embedder="spectral")


def test_input_and_reference_embeddings_are_computed_once_per_song():
    cache = AnalysisCache()
    x, r = _tone([440], seed=7), _tone([220], seed=8)
    for seed in range(3):  # three "configs" with different outputs
        evaluate(x, _tone([330], seed=10 + seed), SR, reference=r, embedder="spectral", cache=cache)
    # Per config: output, output mix (new); input, reference, reference mix (cached after the first).
    assert cache.computed["embedding-spectral"] == 3 + 3 * 2
    generated, reference_mix = mix_window_embeddings(
        x, _tone([330], seed=10), SR, reference=r, embedder="spectral", cache=cache
    )
    assert cache.computed["embedding-spectral"] == 9  # served from the cache
    assert generated.shape == reference_mix.shape == (2, SpectralEmbedder().dim)  # 12 s: windows at 0 and 2 s


def test_window_options_are_checked():
    x = _tone([440], seconds=3.0)
    with pytest.raises(ConfigError, match="longer than"):
        embed_audio(x, SR, "spectral", window_s=20.0, cache=AnalysisCache())
    with pytest.raises(ConfigError, match="positive"):
        embed_audio(x, SR, "spectral", hop_s=0.0, cache=AnalysisCache())
    assert embed_audio(np.zeros((1, 0), np.float32), SR, "spectral", cache=AnalysisCache()).shape[0] == 0
    with pytest.raises(ConfigError, match="unknown embedder"):
        get_embedder("openl3")


def test_importing_metrics_does_not_import_torch():
    code = (
        "import sys, accbench.metrics.embedding, accbench.metrics.frechet;"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_ordering_on_demo_songs():
    """Oracle mix is closer to the reference mix than a mismatched accompaniment and than silence."""
    datasets = pytest.importorskip("accbench.datasets")
    songs = [song.load(sample_rate=SR) for song in datasets.load_dataset("demo", songs=3)]
    songs = [(song.input[:, : 30 * SR], song.reference[:, : 30 * SR]) for song in songs]  # 30 s each is plenty
    cache = AnalysisCache()
    per_baseline: dict[str, list[dict]] = {"oracle": [], "delayed": [], "mismatch": [], "silence": []}
    sets: dict[str, tuple[list, list]] = {name: ([], []) for name in per_baseline}
    for i, song in enumerate(songs):
        x, r = song
        other = songs[(i + 1) % len(songs)][1]
        outputs = {
            "oracle": r,
            "delayed": np.pad(r, ((0, 0), (SR // 4, 0)))[:, : r.shape[1]],  # the oracle 250 ms late
            "mismatch": other,
            "silence": np.zeros_like(r),
        }
        for name, output in outputs.items():
            per_baseline[name].append(evaluate(x, output, SR, reference=r, embedder="spectral", cache=cache))
            generated, reference_mix = mix_window_embeddings(
                x, output, SR, reference=r, embedder="spectral", cache=cache
            )
            sets[name][0].append(generated)
            sets[name][1].append(reference_mix)
    for metric in ("embedding.spectral_cosine_mix", "embedding.spectral_cosine_output_reference"):
        for i in range(len(songs)):
            value = {name: rows[i][metric] for name, rows in per_baseline.items()}
            assert value["oracle"] == pytest.approx(1.0)
            assert value["oracle"] > value["delayed"] > value["mismatch"], (metric, i, value)
            assert value["delayed"] > value["silence"], (metric, i, value)
    frechet = {name: frechet_over_songs(*sets[name], bootstrap=0)["embedding.frechet"] for name in sets}
    assert frechet["oracle"] == 0.0
    assert frechet["oracle"] < frechet["delayed"] < min(frechet["mismatch"], frechet["silence"]), frechet
