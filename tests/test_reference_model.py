"""Reference Transformer: training lowers the loss, the streaming mask is exact, checkpoints reload identically."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from accbench import load_model
from accbench.errors import ConfigError, ModelError
from accbench.models.reference_model import (
    DEFAULT_NETWORK,
    N_TARGETS,
    FrameFeatures,
    ReferenceTransformer,
    checkpoint_name,
    load_checkpoint,
    song_features,
    visible_frames,
)
from accbench.models.reference_training import SongFrames, TrainingConfig, frame_targets, train_reference
from accbench.simulators import SimulationConfig, run_stream
from accbench.synth import render_notes

SR, HOP = 22050, 441
TINY = {"d_model": 16, "heads": 2, "encoder_layers": 1, "decoder_layers": 1, "ffn": 32, "window": 24}
SPEC = "accbench.models.reference_model:ReferenceTransformer"


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _entry(seed: int, beats: int = 12) -> dict:
    """A fake chorale: a soprano line and three accompaniment voices, one note per beat."""
    rng = np.random.default_rng(seed)
    roots = rng.choice([0, 5, 7, 9], size=beats)
    parts = {"soprano": [], "alto": [], "tenor": [], "bass": []}
    for beat, root in enumerate(roots):
        parts["soprano"].append([beat, 1, 72 + int(root)])
        parts["alto"].append([beat, 1, 64 + (int(root) + 4) % 12])
        parts["tenor"].append([beat, 1, 55 + (int(root) + 7) % 12])
        parts["bass"].append([beat, 1, 43 + int(root)])
    return {"id": f"fake{seed}", "parts": parts, "end_beats": beats}


def _song(seed: int, tempo: float = 120.0) -> tuple[np.ndarray, SongFrames]:
    entry = _entry(seed)
    notes = np.asarray(entry["parts"]["soprano"], dtype=np.float64)
    spb = 60.0 / tempo
    n = int((entry["end_beats"] * spb + 0.1) * SR)
    audio = render_notes(notes[:, 0] * spb, notes[:, 1] * spb, notes[:, 2], SR, timbre="lead", n_samples=n)
    audio = audio[np.newaxis, :] * 0.3
    features = song_features(audio, SR, HOP)
    targets = frame_targets(entry, tempo, features.shape[0], SR, HOP)
    return audio, SongFrames(entry["id"], features, targets)


@pytest.fixture(scope="module")
def data():
    return [_song(seed) for seed in range(3)]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("ckpt")
    result = train_reference(
        -3, 4, out, epochs=1, max_steps=8, batch_size=4, crop_frames=32, network=TINY,
        train_data=[frames for _, frames in data], valid_data=[], seed=1,
    )  # fmt: skip
    return result.path


def test_features_are_causal_and_chunk_independent():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(HOP * 40 + 17).astype(np.float32)
    whole = FrameFeatures(SR, HOP).push(x)
    assert whole.shape == (40, 14)
    streamed = FrameFeatures(SR, HOP)
    pieces = [streamed.push(x[a:b]) for a, b in ((0, 5), (5, 900), (900, 901), (901, 5000), (5000, len(x)))]
    np.testing.assert_allclose(np.concatenate(pieces), whole, rtol=1e-5, atol=1e-6)
    # Frame i depends only on samples < (i + 1) * hop.
    y = x.copy()
    y[20 * HOP :] = rng.standard_normal(len(x) - 20 * HOP)
    np.testing.assert_array_equal(FrameFeatures(SR, HOP).push(y)[:20], whole[:20])
    assert not np.array_equal(FrameFeatures(SR, HOP).push(y)[20], whole[20])


def test_frame_targets_follow_the_notes():
    entry = _entry(0, beats=4)
    targets = frame_targets(entry, 120.0, 100, SR, HOP)  # 25 frames per beat at 120 BPM
    assert targets.shape == (100, N_TARGETS)
    root = entry["parts"]["bass"][0][2] % 12
    assert targets[10, root] == 1 and targets[10, 12 + root] == 1
    assert set(np.flatnonzero(targets[:, 25])) == {0, 25, 50, 75}
    np.testing.assert_array_equal(targets[:, 12:25].sum(axis=1), 1)


def test_decoding_has_hysteresis():
    from accbench.models.reference_model import decode_frame

    def logits(pitch, bass, onset=-5.0):
        row = np.full(N_TARGETS, -5.0, dtype=np.float32)
        for pc, p in pitch.items():
            row[pc] = np.log(p / (1 - p))
        row[12 + bass] = 5.0
        row[25] = onset
        return row

    first = decode_frame(logits({0: 0.45, 4: 0.3, 7: 0.9, 9: 0.6}, bass=0))
    assert list(np.flatnonzero(first[:12])) == [0, 7, 9] and first[12] == 1 and first[25] == 0  # top 3 above 0.4
    held = decode_frame(logits({0: 0.25, 4: 0.39, 7: 0.9}, bass=0, onset=1.0), first)
    assert list(np.flatnonzero(held[:12])) == [0, 7] and held[25] == 1  # 0 stays above 0.2; 4 is not yet on
    assert list(np.flatnonzero(decode_frame(logits({0: 0.25}, bass=0))[:12])) == []  # a new note needs 0.4
    close = logits({7: 0.9}, bass=5)
    close[12 + 0] = 5.0 - 0.01  # bass 5 barely beats the current bass 0: no change
    assert np.argmax(decode_frame(close, first)[12:25]) == 0
    assert np.argmax(decode_frame(close)[12:25]) == 5


def test_visible_frames_is_the_simulator_rule():
    from accbench.simulators.schedule import visible_end

    n_samples = 50 * HOP + 100
    for future, chunk in ((-7, 3), (0, 1), (5, 4), (60, 2)):
        frames = torch.arange(0, 60)
        got = visible_frames(frames, future, chunk, n_samples // HOP)
        for f in range(60):
            v = visible_end((f // chunk) * chunk * HOP, future * HOP, n_samples)
            assert int(got[f]) == v // HOP


def test_training_reduces_the_loss(data, tmp_path):
    frames = [item for _, item in data]
    result = train_reference(
        0, 2, tmp_path, epochs=6, max_steps=40, batch_size=4, crop_frames=32, network=TINY,
        train_data=frames, valid_data=frames[:1], learning_rate=3e-3, seed=0,
    )  # fmt: skip
    losses = result.step_losses
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5])
    assert result.history[-1]["valid_loss"] < result.config["training"]["first_loss"]


@pytest.mark.parametrize(("future", "chunk"), [(-3, 4), (0, 1), (6, 3)])
def test_streaming_mask_is_exact(checkpoint, data, future, chunk):
    """Changing input at or after v_j changes nothing up to chunk j, and does change later output."""
    audio = data[0][0]
    model = load_model(SPEC, checkpoint=str(checkpoint))
    config = SimulationConfig(future, chunk)
    base = run_stream(model, audio, config)
    base_logits = np.array(model.logits)
    chunk_samples = chunk * HOP
    rng = np.random.default_rng(3)
    for j in (2, 9):
        v_j = int(base.events["visible_end"][j])
        perturbed = audio.copy()
        perturbed[:, v_j:] = rng.uniform(-0.5, 0.5, size=(1, audio.shape[1] - v_j)).astype(np.float32)
        other = run_stream(model, perturbed, config)
        other_logits = np.array(model.logits)
        end = (j + 1) * chunk_samples
        np.testing.assert_array_equal(other.output[:, :end], base.output[:, :end])
        np.testing.assert_array_equal(other_logits[: (j + 1) * chunk], base_logits[: (j + 1) * chunk])
        assert not np.array_equal(other_logits, base_logits)  # the perturbation is seen later: the test can fail


def test_streaming_equals_the_training_forward(checkpoint, data, tmp_path):
    """The batch forward (training mask, teacher-forced with the model's own decisions) gives the streamed logits."""
    audio = data[1][0]
    ahead = train_reference(
        2, 5, tmp_path, epochs=1, max_steps=2, batch_size=2, crop_frames=16, network=TINY,
        train_data=[data[0][1]], valid_data=[],
    ).path  # fmt: skip
    feedback = train_reference(
        -1, 3, tmp_path / "feedback", epochs=1, max_steps=2, batch_size=2, crop_frames=16,
        network={**TINY, "feedback": True}, train_data=[data[0][1]], valid_data=[],
    ).path  # fmt: skip
    cases = ((checkpoint, (-3, 4)), (ahead, (2, 5)), (checkpoint, (-3, 1)), (feedback, (-1, 3)))
    for path, (future, chunk) in cases:
        model = ReferenceTransformer(path)
        run_stream(model, audio, SimulationConfig(future, chunk))
        logits = torch.tensor(np.array(model.logits))
        network, _ = load_checkpoint(path)
        network.future_visibility, network.chunk_frames = future, chunk  # the visibility follows the session
        decided = [_decode(logits[0])]
        for row in logits[1:]:
            decided.append(_decode(row, decided[-1]))
        decided = torch.from_numpy(np.stack(decided))
        feedback = torch.cat([torch.zeros(1, N_TARGETS), decided[:-1]]).unsqueeze(0)
        features = torch.from_numpy(song_features(audio, SR, HOP)).unsqueeze(0)
        n_in, n_out = features.shape[1], logits.shape[0]
        with torch.no_grad():
            batch = network(
                features,
                torch.arange(n_in).unsqueeze(0),
                torch.ones(1, n_in, dtype=torch.bool),
                feedback,
                torch.arange(n_out).unsqueeze(0),
                torch.tensor([n_in]),
            )[0]
        assert n_out > TINY["window"] + 10  # the look-back window is exercised
        np.testing.assert_allclose(batch.numpy(), logits.numpy(), rtol=1e-4, atol=1e-4)


def _decode(row, previous=None):
    from accbench.models.reference_model import decode_frame

    return decode_frame(row, previous)


def test_checkpoint_reloads_to_identical_outputs(checkpoint, data, tmp_path):
    payload = torch.load(checkpoint, weights_only=True)
    assert payload["config"]["future_visibility"] == -3 and payload["config"]["chunk_frames"] == 4
    assert {"sample_rate", "hop", "features", "network", "training", "accbench_version"} <= set(payload["config"])
    audio = data[2][0]
    config = SimulationConfig(-3, 4)
    first = run_stream(ReferenceTransformer(checkpoint), audio, config).output
    second = run_stream(load_model(SPEC, checkpoint=str(checkpoint)), audio, config).output
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float32 and np.isfinite(first).all()
    # Training is deterministic on CPU: the same seed gives the same weights, a new seed different ones.
    frames = [item for _, item in data]
    again = train_reference(
        -3, 4, tmp_path, epochs=1, max_steps=8, batch_size=4, crop_frames=32, network=TINY,
        train_data=frames, valid_data=[], seed=1,
    )  # fmt: skip
    reloaded = torch.load(again.path, weights_only=True)["state_dict"]
    for name, value in payload["state_dict"].items():
        assert torch.equal(value, reloaded[name]), name
    assert ReferenceTransformer(again.path).info.version == ReferenceTransformer(checkpoint).info.version
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_training_config_is_the_keyword_arguments(checkpoint, data, tmp_path):
    """``config=TrainingConfig(...)`` and the same keyword arguments train the same weights; keywords override it."""
    frames = [item for _, item in data]
    config = TrainingConfig(epochs=1, max_steps=8, batch_size=4, crop_frames=32, network=TINY, seed=7)
    result = train_reference(-3, 4, tmp_path, config=config, train_data=frames, valid_data=[], seed=1)
    assert result.config["training"]["seed"] == 1 and result.config["training"]["steps"] == 8
    reloaded = torch.load(result.path, weights_only=True)["state_dict"]
    expected = torch.load(checkpoint, weights_only=True)["state_dict"]
    assert all(torch.equal(value, reloaded[name]) for name, value in expected.items())
    assert config.seed == 7  # the given config is not changed
    assert TrainingConfig(network=TINY).network_params() == {**DEFAULT_NETWORK, **TINY}
    assert TrainingConfig(anticipation_weight=0.5).network_params()["anticipation"] is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, "epochs, batch_size and crop_frames must be >= 1"),
        ({"crop_frames": 0}, "epochs, batch_size and crop_frames must be >= 1"),
        ({"anticipation_weight": -1.0}, "anticipation_weight must be >= 0, got -1.0"),
        ({"network": {"layers": 3}}, "unknown network option(s): layers"),
    ],
)
def test_training_config_refuses_bad_values(options, message, tmp_path):
    with pytest.raises(ConfigError) as info:
        TrainingConfig(**options)
    assert str(info.value) == message
    with pytest.raises(ConfigError) as info:
        train_reference(0, 1, tmp_path, train_data=[], **options)
    assert str(info.value) == message


def test_train_reference_refuses_bad_grid_points_and_options(data, tmp_path):
    frames = [data[0][1]]
    with pytest.raises(ConfigError, match="chunk_frames must be an integer >= 1, got 0"):
        train_reference(0, 0, tmp_path, train_data=frames, valid_data=[])
    with pytest.raises(ConfigError, match="future_visibility must be an integer number of frames, got 1.5"):
        train_reference(1.5, 1, tmp_path, train_data=frames, valid_data=[])
    with pytest.raises(ConfigError, match="no training songs"):
        train_reference(0, 1, tmp_path, train_data=[], valid_data=[])
    with pytest.raises(TypeError, match="epoch"):
        train_reference(0, 1, tmp_path, train_data=frames, valid_data=[], epoch=1)
    assert not list(tmp_path.iterdir())


def test_training_restores_global_torch_state(data, tmp_path):
    before = (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads(), torch.random.get_rng_state())
    train_reference(
        1, 1, tmp_path, epochs=1, max_steps=1, batch_size=2, crop_frames=16, network=TINY,
        train_data=[data[0][1]], valid_data=[], threads=1,
    )  # fmt: skip
    after = (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads(), torch.random.get_rng_state())
    assert before[:2] == after[:2] and torch.equal(before[2], after[2])


def test_anticipatory_objective_trains_and_streams(data, tmp_path):
    frames = [item for _, item in data]
    result = train_reference(
        -4, 2, tmp_path, epochs=6, max_steps=12, batch_size=4, crop_frames=32, network=TINY,
        train_data=frames, valid_data=[], anticipation_weight=1.0,
    )  # fmt: skip
    assert result.config["network"]["anticipation"] and result.config["training"]["anticipation_weight"] == 1.0
    network, _ = load_checkpoint(result.path)
    assert network.anticipation_head is not None
    out = run_stream(ReferenceTransformer(result.path), data[0][0][:, : 30 * HOP], SimulationConfig(-4, 2)).output
    assert out.shape == (1, 30 * HOP) and np.isfinite(out).all()


def test_checkpoint_folder_picks_the_grid_point(checkpoint, data, tmp_path):
    frames = [data[0][1]]
    train_reference(
        2, 1, tmp_path, epochs=1, max_steps=1, batch_size=2, crop_frames=16, network=TINY,
        train_data=frames, valid_data=[],
    )  # fmt: skip
    (tmp_path / checkpoint_name(-3, 4)).write_bytes(checkpoint.read_bytes())
    model = ReferenceTransformer(tmp_path)
    assert model.grid == [(-3, 4), (2, 1)]
    audio = data[0][0][:, : 40 * HOP]
    from_folder = run_stream(model, audio, SimulationConfig(-3, 4)).output
    np.testing.assert_array_equal(
        from_folder, run_stream(ReferenceTransformer(checkpoint), audio, SimulationConfig(-3, 4)).output
    )
    with pytest.raises(ModelError, match="no checkpoint trained for t_f=0 k=4"):
        run_stream(model, audio, SimulationConfig(0, 4))


def test_bad_checkpoints_are_refused(tmp_path):
    with pytest.raises(ModelError, match="needs checkpoint"):
        ReferenceTransformer()
    with pytest.raises(ModelError, match="not found"):
        ReferenceTransformer(tmp_path / "missing.pt")
    bogus = tmp_path / "tf0_k1.pt"
    torch.save({"state_dict": {}}, bogus)
    with pytest.raises(ModelError, match="not an accbench reference-model checkpoint"):
        ReferenceTransformer(bogus)


def test_cli_trains_a_checkpoint(tmp_path, monkeypatch, capsys):
    from accbench.commands import train_reference as command

    monkeypatch.setenv("ACCBENCH_CACHE", str(tmp_path / "cache"))
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(
        ["train-reference", "--future-visibility", "-2", "--chunk-frames", "3", "--out", str(tmp_path / "ckpt"),
         "--songs", "1", "--valid-songs", "0", "--max-steps", "2", "--batch-size", "2", "--crop-frames", "16"]
    )  # fmt: skip
    assert args.handler(args) == 0
    path = tmp_path / "ckpt" / "tf-2_k3.pt"
    assert capsys.readouterr().out.strip() == str(path)
    _, config = load_checkpoint(path)
    assert config["training"]["steps"] == 2 and config["training"]["songs"] == 1
