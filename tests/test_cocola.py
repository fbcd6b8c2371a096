"""COCOLA (accbench.metrics.cocola) and safe checkpoint loading (accbench.metrics.checkpoints).

The checkpoint is built here in the published format: a PyTorch Lightning ``.ckpt`` dict whose
``hyper_parameters`` pickle enums of the upstream module ``contrastive_model.constants`` (a fake module made for
the test, removed before loading, so loading cannot rely on it), with random weights under the upstream
parameter names. Parity with the authors' code on the same checkpoint is measured by
``scripts/parity_cocola_vggish.py``.
"""

from __future__ import annotations

import enum
import math
import os
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_pytorch")

from accbench.errors import ConfigError, DataError  # noqa: E402
from accbench.metrics import cocola  # noqa: E402
from accbench.metrics.cache import AnalysisCache  # noqa: E402
from accbench.metrics.checkpoints import COCOLA_STAND_INS, load_checkpoint  # noqa: E402
from accbench.metrics.scoring import score  # noqa: E402

SR = 16000
_UPSTREAM_KEYS = {value: key for key, value in cocola._PREFIXES.items()}  # ours -> upstream prefix


def _fake_upstream_module(extra_mode: bool = False) -> tuple[type, type]:
    """Enums at upstream's module path (``extra_mode``: with a member the real package does not have)."""
    package = types.ModuleType("contrastive_model")
    module = types.ModuleType("contrastive_model.constants")
    members = {"HARMONIC": "harmonic", "PERCUSSIVE": "percussive", "BOTH": "both", "RANDOM": "random"}
    EmbeddingMode = enum.Enum("EmbeddingMode", {**members, **({"SIDEWAYS": "sideways"} if extra_mode else {})})

    class ModelInputType(enum.Enum):
        SINGLE_CHANNEL_MEL_SPECTROGRAM = "single_channel_mel_spectrogram"
        DOUBLE_CHANNEL_HARMONIC_PERCUSSIVE = "double_channel_harmonic_percussive"

    for cls in (EmbeddingMode, ModelInputType):
        cls.__module__ = "contrastive_model.constants"
        cls.__qualname__ = cls.__name__
        setattr(module, cls.__name__, cls)
    package.constants = module
    sys.modules["contrastive_model"] = package
    sys.modules["contrastive_model.constants"] = module
    return EmbeddingMode, ModelInputType


def _upstream_state(network) -> OrderedDict:
    state = OrderedDict()
    for key, value in network.state_dict().items():
        prefix = next(p for p in _UPSTREAM_KEYS if key.startswith(p))
        state[_UPSTREAM_KEYS[prefix] + key[len(prefix) :]] = value.clone()
    return state


def _audio(seconds: float, seed: int, freq: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    clicks = (np.sin(2 * np.pi * 2 * t) > 0.99) * rng.normal(size=t.size)
    return (0.2 * np.sin(2 * np.pi * freq * t) + 0.3 * clicks).astype(np.float32)[None]


def _save_published(path, state, hparams) -> None:
    checkpoint = {
        "epoch": 87,
        "global_step": 1000,
        "pytorch-lightning_version": "2.2.1",
        "state_dict": state,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 88}}}},
        "callbacks": {"ModelCheckpoint{'monitor': 'valid_loss'}": {"best_model_score": torch.tensor(0.001)}},
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.001, "params": [0, 1]}]}],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": hparams,
    }
    torch.save(checkpoint, path)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """(path, network) of a random-weight COCOLA checkpoint in the published Lightning format."""
    torch.manual_seed(0)
    network = cocola._network(512)
    torch.nn.init.normal_(network.w, 0.0, 0.05)
    # Random BatchNorm statistics would map every input to nearly one embedding: calibrate them on features.
    features = torch.from_numpy(cocola.hpss_features(cocola.chunk_audio(_audio(7.0, 9, 330.0)[0])))
    for module in network.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None
    network.train()
    with torch.no_grad():
        network(features)
    network.eval()
    embedding_mode, input_type = _fake_upstream_module()
    hparams = {
        "learning_rate": 0.001,
        "embedding_dim": 512,
        "embedding_mode": embedding_mode.RANDOM,
        "input_type": input_type.DOUBLE_CHANNEL_HARMONIC_PERCUSSIVE,
        "dropout_p": 0.1,
    }
    path = tmp_path_factory.mktemp("cocola") / "checkpoint-epoch=87-val_loss=0.00.ckpt"
    try:
        _save_published(path, _upstream_state(network), hparams)
    finally:
        del sys.modules["contrastive_model"], sys.modules["contrastive_model.constants"]
    return path, network


def test_published_checkpoint_loads_without_the_upstream_package(published):
    path, network = published
    assert "contrastive_model.constants" not in sys.modules
    content = load_checkpoint(path, stand_ins=COCOLA_STAND_INS, what="COCOLA checkpoint")
    assert content["hyper_parameters"]["embedding_mode"].value == "random"
    model = cocola.CocolaModel(path)
    for key, value in network.state_dict().items():
        torch.testing.assert_close(model._network.state_dict()[key], value, rtol=0, atol=0)
    assert model.label.startswith("cocola (checkpoint-epoch=87") and model.dim == 512


def test_arbitrary_code_in_a_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"x": Exploit()}}, path)
    with pytest.raises(ConfigError, match=r"evil\.ckpt.*\(posix\.system\)"):
        cocola.CocolaModel(path)
    assert not marker.exists()


def test_unknown_enum_value_and_wrong_model_type_are_refused(tmp_path):
    state = OrderedDict(w=torch.zeros(1))
    for name, pattern in (("sideways", "does not know"), ("mel", "harmonic/percussive")):
        embedding_mode, input_type = _fake_upstream_module(extra_mode=True)
        try:
            if name == "sideways":  # a value the stand-in enum does not have
                hparams = {"embedding_mode": embedding_mode.SIDEWAYS}
            else:
                hparams = {"input_type": input_type.SINGLE_CHANNEL_MEL_SPECTROGRAM}
            path = tmp_path / f"{name}.ckpt"
            _save_published(path, state, hparams)
        finally:
            del sys.modules["contrastive_model"], sys.modules["contrastive_model.constants"]
        with pytest.raises(ConfigError, match=pattern):
            cocola.CocolaModel(path)


def test_state_dict_mismatch_names_the_keys(published, tmp_path):
    _, network = published
    state = _upstream_state(network)
    state.pop("layer_norm.bias")
    state["encoder.extra.weight"] = torch.zeros(3)
    state["similarity.w"] = torch.zeros(4, 4)
    _, input_type = _fake_upstream_module()
    try:
        bad = tmp_path / "bad.ckpt"
        _save_published(bad, state, {"input_type": input_type.DOUBLE_CHANNEL_HARMONIC_PERCUSSIVE})
    finally:
        del sys.modules["contrastive_model"], sys.modules["contrastive_model.constants"]
    with pytest.raises(ConfigError) as caught:
        cocola.CocolaModel(bad)
    message = str(caught.value)
    assert "bad.ckpt" in message and "'layer_norm.bias'" in message and "'encoder.extra.weight'" in message
    assert "w (4, 4) != (512, 512)" in message


def test_missing_checkpoint_says_where_it_comes_from(monkeypatch, tmp_path):
    monkeypatch.delenv(cocola.CHECKPOINT_ENV, raising=False)
    with pytest.raises(ConfigError, match="drive.google.com.*ACCBENCH_COCOLA_CHECKPOINT"):
        cocola.CocolaModel()
    with pytest.raises(ConfigError, match="does not exist"):
        cocola.CocolaModel(tmp_path / "nope.ckpt")


@pytest.mark.parametrize(("n", "chunks"), [(1, 1), (80000, 1), (80001, 2), (120000, 2), (120001, 3)])
def test_chunks_follow_the_authors_rule(n, chunks):
    signal = np.arange(n, dtype=np.float32)
    out = cocola.chunk_audio(signal)
    assert out.shape == (chunks, 80000)
    np.testing.assert_array_equal(out[-1, : n - (chunks - 1) * 40000], signal[(chunks - 1) * 40000 :])
    assert np.all(out[-1, n - (chunks - 1) * 40000 :] == 0)


def test_features_match_librosa_per_chunk_and_silence_is_defined():
    import librosa

    chunk = _audio(5.0, 1, 440.0)
    features = cocola.hpss_features(np.concatenate([chunk, np.zeros_like(chunk)]))
    assert features.shape == (2, 2, 64, 501) and features.dtype == np.float32
    harmonic, percussive = librosa.decompose.hpss(librosa.stft(chunk[0], n_fft=1024, win_length=400, hop_length=160))
    for channel, part in enumerate((harmonic, percussive)):
        mel = librosa.feature.melspectrogram(S=np.abs(part) ** 2, sr=SR, fmin=60.0, fmax=7800.0, n_mels=64)
        np.testing.assert_allclose(features[0, channel], librosa.power_to_db(mel, ref=np.max), atol=1e-5)
    assert features[0].max() == 0.0 and features[0].min() == -80.0
    assert np.all(features[1] == 0.0)  # silence: 0 dB relative to its own (floored) maximum


def test_modes_mask_one_channel(published):
    path, network = published
    model = cocola.get_model(path)
    features = cocola.hpss_features(cocola.chunk_audio(_audio(5.0, 2, 550.0)[0]))
    with torch.no_grad():
        masked = torch.from_numpy(features.copy())
        masked[:, 1] = 0  # harmonic mode: the percussive channel is zeroed
        expected = network(masked).numpy()
    np.testing.assert_allclose(model.embed(features, "harmonic"), expected, atol=1e-5)
    embeddings = {mode: model.embed(features, mode) for mode in cocola.MODES}
    assert not np.allclose(embeddings["both"], embeddings["harmonic"])
    assert not np.allclose(embeddings["harmonic"], embeddings["percussive"])
    with pytest.raises(ConfigError, match="mode"):
        model.embed(features, "random")


def test_score_group_reports_output_and_gt_rows_and_caches(published):
    path, _ = published
    x, y, r = _audio(5.0, 3, 220.0), _audio(5.0, 4, 990.0), _audio(5.0, 3, 220.0)[:, ::-1] * 0.5
    cache = AnalysisCache()
    options = {"cocola": {"checkpoint": str(path)}}
    scores = score(x, y, sample_rate=SR, reference=r, metrics=["cocola"], cache=cache, group_options=options)
    names = [spec.name for spec in cocola.METRICS]
    assert sorted(k for k in scores if k.startswith("cocola.")) == sorted(names)
    assert all(math.isfinite(scores[name]) for name in names)
    assert scores["cocola.score"] != pytest.approx(scores["cocola.reference_score"])
    assert scores.info["cocola.checkpoint"].startswith("cocola (")
    computed = cache.computed["cocola"]
    again = score(x, y, sample_rate=SR, metrics=["cocola"], cache=cache, group_options=options)
    assert cache.computed["cocola"] == computed  # input and output embeddings came from the cache
    assert math.isnan(again["cocola.reference_harmonic"])
    assert again.skipped["cocola.reference_harmonic"] == "no reference accompaniment"
    assert again["cocola.score"] == scores["cocola.score"]


def test_loudness_normalisation_before_scoring(published):
    path, _ = published
    x, y = _audio(5.0, 5, 330.0), _audio(5.0, 6, 660.0)
    cache = AnalysisCache()
    plain = cocola.evaluate(x, y, SR, checkpoint=path, cache=cache, modes=["both"])
    scaled = cocola.evaluate(x * 0.01, y * 3.0, SR, checkpoint=path, cache=cache, modes=["both"])
    # -18 LUFS per stem makes the score independent of the stems' gain (up to the peak guard and float round-off).
    assert scaled["cocola.score"] == pytest.approx(plain["cocola.score"], rel=1e-3)
    assert math.isnan(plain["cocola.harmonic"])
    with pytest.raises(ConfigError, match="unknown COCOLA mode"):
        cocola.evaluate(x, y, SR, checkpoint=path, modes=["drums"])
    with pytest.raises(DataError, match="chunks"):
        cocola.evaluate(x, np.zeros((1, 9 * SR), dtype=np.float32), SR, checkpoint=path, modes=["both"])


def test_group_without_a_checkpoint_is_skipped_with_where_to_get_it(monkeypatch):
    monkeypatch.delenv(cocola.CHECKPOINT_ENV, raising=False)
    x = _audio(2.0, 7, 440.0)
    scores = score(x, x, sample_rate=SR, reference=x, metrics=["cocola"], cache=AnalysisCache())
    assert all(math.isnan(scores[spec.name]) for spec in cocola.METRICS)
    assert "drive.google.com" in scores.skipped["cocola.score"]
    options = {"cocola": {"checkpoint": "/nonexistent/cocola.ckpt"}}
    missing = score(x, x, sample_rate=SR, metrics=["cocola"], cache=AnalysisCache(), group_options=options)
    assert "'/nonexistent/cocola.ckpt' not found" in missing.skipped["cocola.harmonic"]
