"""VGGish embeddings and FAD (accbench.metrics.vggish) from a random-weight file in the published format.

The published ``vggish-10086976.pth`` is a plain state dict of torchvggish's ``VGG`` (``features.*``,
``embeddings.*``); one with random weights is written here. Parity with frechet_audio_distance's VGGish path is
measured by ``scripts/parity_cocola_vggish.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvggish")

from accbench.errors import ConfigError  # noqa: E402
from accbench.metrics import vggish  # noqa: E402
from accbench.metrics.cache import AnalysisCache  # noqa: E402

SR = 16000


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    from torchvggish.torchvggish import VGG, make_layers

    torch.manual_seed(0)
    network = VGG(make_layers(), postprocess=False)  # the published layout, final ReLU included
    path = tmp_path_factory.mktemp("vggish") / "vggish-10086976.pth"
    torch.save(network.state_dict(), path)
    return path, network


def _audio(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * rng.uniform(100, 1000) * t) + 0.05 * rng.normal(size=t.size)).astype(np.float32)


def test_embeddings_are_the_network_without_its_final_relu(weights):
    path, network = weights
    model = vggish.VggishModel(path)
    audio = _audio(3.5, 0)
    examples = vggish.vggish_examples(audio)
    assert examples.shape == (3, 96, 64)  # one example per full 0.96 s
    embeddings = vggish.vggish_embeddings(audio, SR, model, normalize_lufs=None, cache=AnalysisCache())
    with torch.no_grad():
        x = torch.from_numpy(examples[:, None]).float()
        features = network.features(x).permute(0, 2, 3, 1).reshape(3, -1)
        head = network.embeddings
        expected = head[4](head[3](head[2](head[1](head[0](features))))).numpy()  # no last ReLU
    np.testing.assert_allclose(embeddings, expected, atol=1e-5)
    assert embeddings.shape == (3, 128) and embeddings.min() < 0


def test_short_audio_has_no_frames_and_resampling_applies(weights):
    path, _ = weights
    model = vggish.get_model(path)
    assert vggish.vggish_embeddings(np.zeros(SR // 2), SR, model, cache=AnalysisCache()).shape == (0, 128)
    at_32k = vggish.vggish_embeddings(np.zeros((2, 32000 * 2), np.float32), 32000, model, cache=AnalysisCache())
    assert at_32k.shape == (2, 128) and np.all(np.isfinite(at_32k))


def test_loudness_normalisation_makes_embeddings_gain_free(weights):
    path, _ = weights
    audio = _audio(2.0, 1)
    cache = AnalysisCache()
    loud = vggish.vggish_embeddings(audio * 2.0, SR, path, cache=cache)
    quiet = vggish.vggish_embeddings(audio * 0.05, SR, path, cache=cache)
    np.testing.assert_allclose(loud, quiet, rtol=1e-3, atol=1e-4)
    raw = vggish.vggish_embeddings(audio * 0.05, SR, path, normalize_lufs=None, cache=cache)
    assert not np.allclose(raw, quiet, atol=1e-3)
    assert cache.computed["vggish"] == 3
    vggish.vggish_embeddings(audio * 2.0, SR, path, cache=cache)
    assert cache.computed["vggish"] == 3  # cached by content + weights


def test_fad_over_songs_and_per_song(weights):
    path, _ = weights
    cache = AnalysisCache()
    generated = [vggish.vggish_embeddings(_audio(4.0, s), SR, path, cache=cache) for s in range(3)]
    reference = [vggish.vggish_embeddings(_audio(4.0, s + 10), SR, path, cache=cache) for s in range(3)]
    same = vggish.fad_over_songs(reference, reference, bootstrap=0, infinity=False)
    assert same["vggish.fad"] == 0.0 and same["vggish.fad_n_generated"] == 12
    found = vggish.fad_over_songs(generated, reference, bootstrap=20, seed=1)
    assert found["vggish.fad"] > 0 and found["vggish.fad_ci_low"] <= found["vggish.fad"] <= found["vggish.fad_ci_high"]
    assert "vggish.fad_inf" in found
    per_song = vggish.fad_per_song(generated, reference)
    assert per_song.shape == (3,) and np.all(per_song > 0)
    assert math.isnan(vggish.fad_per_song([generated[0][:1]], reference)[0])


def test_weights_errors_are_clear(weights, tmp_path, monkeypatch):
    _, network = weights
    monkeypatch.delenv(vggish.WEIGHTS_ENV, raising=False)
    with pytest.raises(ConfigError, match="vggish-10086976.pth.*ACCBENCH_VGGISH_WEIGHTS"):
        vggish.VggishModel()
    state = network.state_dict()
    state.pop("embeddings.4.bias")
    state["pproc.pca_means"] = torch.zeros(128, 1)
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(ConfigError, match=r"missing keys 'embeddings\.4\.bias'.*unexpected keys 'pproc\.pca_means'"):
        vggish.VggishModel(bad)


def test_fad_per_config_from_a_run_folder(weights, tmp_path):
    import pandas as pd

    from accbench.audio import write_audio_atomic
    from accbench.datasets import Song
    from accbench.set_metrics import vggish_fad_per_config

    path, _ = weights
    songs, rows = {}, []
    for index in range(3):
        name = f"s{index}"
        songs[name] = Song(name, _audio(3.0, index)[None], reference=_audio(3.0, index + 5)[None], sample_rate=SR)
        for config in ("c0", "c1"):
            output = _audio(3.0, index + (20 if config == "c0" else 5))[None]  # c1 outputs are the references
            write_audio_atomic(tmp_path / "audio" / "m" / config / f"{name}.flac", output, SR, subtype="FLOAT")
            rows.append({"model": "m", "model_version": "1", "config_id": config, "seed": 0, "song": name})
    rows.append({"model": "m", "model_version": "1", "config_id": "c0", "seed": 0, "song": "missing"})
    per_config, per_song = vggish_fad_per_config(
        pd.DataFrame(rows), songs, tmp_path, weights=str(path), bootstrap=10, cache_dir=str(tmp_path / "cache")
    )
    by_config = per_config.set_index("config_id")
    assert by_config.loc["c1", "vggish.fad"] == pytest.approx(0.0, abs=1e-6)
    assert by_config.loc["c0", "vggish.fad"] > 0 and by_config.loc["c0", "vggish.fad_n_songs"] == 3
    assert by_config.loc["c0", "vggish.weights"].startswith("vggish (")
    assert sorted(per_song["song"].unique()) == ["s0", "s1", "s2"] and len(per_song) == 6
    on_mixes, _ = vggish_fad_per_config(pd.DataFrame(rows), songs, tmp_path, weights=str(path), bootstrap=0, mixes=True)
    by_config = on_mixes.set_index("config_id")
    assert by_config.loc["c1", "vggish.fad"] == pytest.approx(0.0, abs=1e-6)
    assert by_config.loc["c0", "vggish.fad"] > 0
