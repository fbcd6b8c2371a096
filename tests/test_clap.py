"""The CLAP embedder on a tiny random-weight LAION CLAP built and saved here: loading, preprocessing, inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from accbench.errors import ConfigError  # noqa: E402
from accbench.metrics.cache import AnalysisCache  # noqa: E402
from accbench.metrics.embedders import CLAP_MODEL_ENV, ClapEmbedder, embed_audio, get_embedder  # noqa: E402

SR = 48000


def build_tiny_clap(folder: Path, seed: int = 0, *, fusion: bool = False) -> Path:
    """Save a ~25k-parameter ClapModel (audio + text towers, like LAION's hub checkpoints) and its extractor."""
    torch.manual_seed(seed)
    config = transformers.ClapConfig(
        text_config={
            "vocab_size": 64,
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 1,
            "intermediate_size": 16,
            "max_position_embeddings": 40,
        },
        audio_config={
            "spec_size": 256,  # 10 s at hop 480 is 1001 frames; the model's input is 256 * (256 // 64) = 1024 wide
            "patch_embeds_hidden_size": 16,
            "depths": [1, 1],
            "num_attention_heads": [1, 2],
            "hidden_size": 32,
            "window_size": 8,
            "enable_fusion": fusion,
            "fusion_type": "aff_2d" if fusion else None,
        },
        projection_dim=16,
    )
    model = transformers.ClapModel(config).eval()
    # BatchNorm statistics stay at their defaults after init; make them non-trivial so normalisation matters.
    with torch.no_grad():
        batch_norm = model.audio_model.audio_encoder.batch_norm
        batch_norm.running_mean.fill_(-40.0)
        batch_norm.running_var.fill_(200.0)
    model.save_pretrained(folder)
    extractor = transformers.ClapFeatureExtractor(
        frequency_min=50, frequency_max=14000, truncation="fusion" if fusion else "rand_trunc", padding="repeatpad"
    )
    extractor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory) -> Path:
    return build_tiny_clap(tmp_path_factory.mktemp("clap"))


@pytest.fixture(scope="module")
def embedder(tiny_clap) -> ClapEmbedder:
    return ClapEmbedder(tiny_clap, batch_size=3, threads=1)


def _noise(seed: int, n: int, scale: float = 0.1) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=n) * scale).astype(np.float32)


def test_reference_pipeline_and_normalisation(tiny_clap, embedder):
    windows = np.stack([_noise(i, 10 * SR) for i in range(2)])
    ours = embedder.embed(windows)
    assert ours.shape == (2, 16) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-6)
    # Independently: transformers' own extractor and model, as its documentation uses them.
    extractor = transformers.ClapFeatureExtractor.from_pretrained(tiny_clap)
    model = transformers.ClapModel.from_pretrained(tiny_clap).eval()
    quantised = np.round(windows * 32767.0) / 32767.0
    features = extractor(list(quantised.astype(np.float64)), sampling_rate=SR, return_tensors="pt")
    with torch.no_grad():
        expected = model.get_audio_features(input_features=features["input_features"].float()).pooler_output
    expected = torch.nn.functional.normalize(expected, dim=-1).numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_deterministic_batch_independent_and_leaves_global_rng(tiny_clap, embedder):
    windows = np.stack([_noise(10 + i, 10 * SR) for i in range(4)])
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    first = embedder.embed(windows)
    assert np.array_equal(np.random.get_state()[1], state)
    np.testing.assert_array_equal(first, embedder.embed(windows))
    one_by_one = np.concatenate([embedder.embed(w[None]) for w in windows])
    np.testing.assert_allclose(first, one_by_one, atol=1e-6)
    # Bit-identical after reloading with the same batch size and threads (other batch sizes round differently).
    reloaded = ClapEmbedder(tiny_clap, batch_size=3, threads=1)
    np.testing.assert_array_equal(reloaded.embed(windows), first)
    assert reloaded.id == embedder.id


def test_fused_model_does_not_depend_on_batch(tmp_path):
    fused = ClapEmbedder(build_tiny_clap(tmp_path / "fused", seed=2, fusion=True), batch_size=2)
    windows = np.stack([_noise(20 + i, 10 * SR) for i in range(2)])
    together = fused.embed(windows)
    np.testing.assert_allclose(together, np.concatenate([fused.embed(w[None]) for w in windows]), atol=1e-6)


def test_short_windows_are_repeat_padded_and_long_ones_refused(embedder):
    clip = _noise(30, 3 * SR)
    # LAION's "repeatpad": tile the clip as many whole times as fit in 10 s, then pad with silence.
    padded = np.pad(np.tile(clip, 3), (0, 10 * SR - 9 * SR))
    np.testing.assert_allclose(embedder.embed(clip[None]), embedder.embed(padded[None]), atol=1e-6)
    with pytest.raises(ConfigError, match="at most 10 s"):
        embedder.embed(_noise(31, 10 * SR + 1)[None])


def test_embed_audio_resamples_windows_and_caches(embedder):
    cache = AnalysisCache()
    audio = np.stack([_noise(40, 25 * 22050), _noise(41, 25 * 22050)])  # stereo, 25 s at 22.05 kHz
    embeddings = embed_audio(audio, 22050, embedder, window_s=10.0, hop_s=5.0, cache=cache)
    assert embeddings.shape == (4, 16)  # windows at 0, 5, 10, 15 s
    again = embed_audio(audio, 22050, embedder, window_s=10.0, hop_s=5.0, cache=cache)
    np.testing.assert_array_equal(again, embeddings)
    assert cache.computed["embedding-clap"] == 1 and cache.hits["embedding-clap"] == 1
    changed = audio.copy()
    changed[0, 1000] += 0.01
    embed_audio(changed, 22050, embedder, window_s=10.0, hop_s=5.0, cache=cache)
    embed_audio(audio, 22050, embedder, window_s=10.0, hop_s=2.5, cache=cache)
    assert cache.computed["embedding-clap"] == 3


def test_model_identity_changes_with_weights(tmp_path, embedder):
    other = ClapEmbedder(build_tiny_clap(tmp_path / "other", seed=1))
    assert other.id != embedder.id
    windows = _noise(50, 10 * SR)[None]
    assert not np.allclose(other.embed(windows), embedder.embed(windows))


def test_clear_errors_without_a_model(monkeypatch, tmp_path):
    monkeypatch.delenv(CLAP_MODEL_ENV, raising=False)
    with pytest.raises(ConfigError, match="ACCBENCH_CLAP_MODEL"):
        ClapEmbedder()
    with pytest.raises(ConfigError, match="does not exist"):
        ClapEmbedder(tmp_path / "nowhere")
    (tmp_path / "model.pt").write_bytes(b"not supported")
    with pytest.raises(ConfigError, match="not supported"):
        ClapEmbedder(tmp_path / "model.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"lacks config\.json"):
        ClapEmbedder(tmp_path / "empty")
    # Without a model, "auto" is the spectral embedder, whose label says it is not CLAP.
    assert get_embedder("auto").label == "spectral (not comparable to CLAP)"


def test_model_from_environment(monkeypatch, tiny_clap, embedder):
    monkeypatch.setenv(CLAP_MODEL_ENV, str(tiny_clap))
    from_env = get_embedder("auto", threads=1)
    assert from_env.name == "clap" and from_env.id == embedder.id
    assert get_embedder("auto", threads=1) is from_env  # built once per process


def test_folder_whose_weights_do_not_match_is_refused(tmp_path, tiny_clap):
    folder = build_tiny_clap(tmp_path / "mismatch")
    import json

    config = json.loads((folder / "config.json").read_text())
    config["audio_config"]["depths"] = [1, 1, 1]
    config["audio_config"]["num_attention_heads"] = [1, 2, 4]
    config["audio_config"]["hidden_size"] = 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="does not match"):
        ClapEmbedder(folder)
