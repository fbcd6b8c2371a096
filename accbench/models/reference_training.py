"""Training the reference model (:mod:`accbench.models.reference_model`) for one (future visibility, chunk size) point.

Training pairs come from the demo set (:func:`accbench.datasets.load_demo`): the **input features** are computed
from the rendered soprano audio with the same causal extractor the model streams with
(:class:`~accbench.models.reference_model.FrameFeatures`); the **targets** come from the shipped note events (training
supervision only; at inference the model hears audio alone): per output frame ``f`` (its centre at
``(f + 0.5) * hop`` samples, notes placed at ``round(onset_s * sample_rate)`` like the synthesiser) the pitch
classes sounding in alto, tenor and bass, the bass pitch class (or "none") and whether any accompaniment note
starts inside the frame.

Each step trains on random crops of ``crop_frames`` output frames with teacher forcing; the cross-attention mask
is the simulator's visibility rule (:func:`~accbench.models.reference_model.visible_frames`), built from absolute frame
indices so chunk boundaries fall where the simulator puts them. An epoch is as many crops as cover the training
frames once. Features and targets of a split are computed once and cached under
``$ACCBENCH_CACHE/reference/`` (atomic writes), so a grid of points shares them.

The hyper-parameters and data options of a run are a :class:`TrainingConfig`; :func:`train_reference` runs the
named steps: data preparation (:func:`_prepare_data`), the step budget (:func:`_plan`), model and optimiser
construction, the epoch loop (:func:`_train_epochs`, one :func:`_train_step` per batch), evaluation
(:func:`_evaluate`) and the checkpoint (:func:`_checkpoint_config`, :func:`_save_checkpoint`).

Everything is seeded: on CPU with the same arguments and thread count, training gives bit-identical weights.
Global torch state (RNG, deterministic-algorithms flag, thread count) is restored afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from accbench.atomic import atomic_path, atomic_write_text
from accbench.errors import ConfigError
from accbench.models.reference_model import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    DEFAULT_FEATURES,
    DEFAULT_NETWORK,
    N_BASS,
    N_FEATURES,
    N_PITCH_CLASSES,
    N_TARGETS,
    ONSET,
    ReferenceNetwork,
    checkpoint_name,
    song_features,
)
from accbench.threads import torch_threads

__all__ = [
    "SongFrames",
    "TrainingConfig",
    "TrainingResult",
    "frame_targets",
    "load_training_data",
    "reference_loss",
    "train_reference",
]

DATA_VERSION = 1
SAMPLE_RATE = 22050  # Hz, the rate the reference model is trained at
HOP = 441  # samples per frame (50 frames per second)
ONSET_POS_WEIGHT = 4.0
ACCOMPANIMENT = ("alto", "tenor", "bass")


@dataclass(frozen=True)
class SongFrames:
    """Features and targets of one song.

    Attributes
    ----------
    song_id : str
    features : ndarray, float32, shape (n_frames, N_FEATURES)
    targets : ndarray, float32, shape (n_frames, N_TARGETS)
    """

    song_id: str
    features: np.ndarray
    targets: np.ndarray

    @property
    def n_frames(self) -> int:
        return int(self.features.shape[0])


@dataclass
class TrainingResult:
    """What :func:`train_reference` produced.

    Attributes
    ----------
    path : Path
        The checkpoint file.
    config : dict
        The JSON-able config stored in it (includes ``history``).
    history : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (or None), ``seconds``.
    step_losses : list of float
        Training loss of every step.
    """

    path: Path
    config: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ data
def frame_targets(entry: dict[str, Any], tempo_bpm: float, n_frames: int, sample_rate: int, hop: int) -> np.ndarray:
    """Per-frame accompaniment targets of a chorale from its note events.

    Parameters
    ----------
    entry : dict
        One element of :func:`accbench.datasets.demo.chorales`.
    tempo_bpm : float
        The song's tempo (``song.metadata["tempo_bpm"]``).
    n_frames : int
        Frames to produce.
    sample_rate, hop : int

    Returns
    -------
    targets : ndarray, float32, shape (n_frames, N_TARGETS)
        Columns 0-11 sounding pitch classes, 12-24 bass pitch class one-hot (24 = no bass), 25 onset flag.
    """
    seconds_per_beat = 60.0 / tempo_bpm
    centres = np.arange(n_frames) * hop + hop / 2.0
    targets = np.zeros((n_frames, N_TARGETS), dtype=np.float32)
    bass = np.full(n_frames, -1, dtype=np.int64)
    bass_pitch = np.full(n_frames, np.inf)
    for voice in ACCOMPANIMENT:
        for onset, duration, midi in entry["parts"].get(voice, []):
            start = round(onset * seconds_per_beat * sample_rate)
            stop = start + max(round(duration * seconds_per_beat * sample_rate), 1)
            lo = int(np.searchsorted(centres, start, side="left"))
            hi = int(np.searchsorted(centres, stop, side="left"))
            pc = int(round(midi)) % 12
            targets[lo:hi, pc] = 1.0
            if voice == "bass":
                lower = bass_pitch[lo:hi] > midi
                bass[lo:hi][lower] = pc
                bass_pitch[lo:hi][lower] = midi
            frame = start // hop
            if 0 <= frame < n_frames:
                targets[frame, ONSET] = 1.0
    bass[bass < 0] = N_BASS - 1
    targets[np.arange(n_frames), N_PITCH_CLASSES + bass] = 1.0
    return targets


def _cache_root(cache: str | os.PathLike | None) -> Path:
    if cache is not None:
        return Path(cache)
    from accbench.datasets.demo import cache_dir

    return cache_dir() / "reference"


def load_training_data(
    split: str = "train",
    songs: int | None = None,
    *,
    sample_rate: int = SAMPLE_RATE,
    hop: int = HOP,
    features: dict[str, Any] | None = None,
    cache: str | os.PathLike | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SongFrames]:
    """Features and targets of the demo songs of a split (computed once, then read from the cache).

    Parameters
    ----------
    split : {"train", "valid", "test"}
    songs : int or None
        The first ``songs`` songs of the split; ``None`` for all.
    sample_rate, hop : int
    features : dict or None
        :class:`~accbench.models.reference_model.FrameFeatures` parameters (default :data:`DEFAULT_FEATURES`).
    cache : path or None
        Folder of the cached arrays (default ``$ACCBENCH_CACHE/reference``).
    progress : callable or None
        Called with a line of text per rendered song.

    Returns
    -------
    list of SongFrames
    """
    from accbench.datasets.demo import RENDER_VERSION, chorales, load_demo

    params = dict(DEFAULT_FEATURES if features is None else features)
    dataset = load_demo(songs, split=split, sample_rate=sample_rate)
    ids = [song.song_id for song in dataset]
    recipe = {
        "data_version": DATA_VERSION,
        "render_version": RENDER_VERSION,
        "sample_rate": sample_rate,
        "hop": hop,
        "features": params,
        "songs": ids,
        "tempi": [song.metadata["tempo_bpm"] for song in dataset],
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:24]
    path = _cache_root(cache) / f"{split}-{len(ids)}-{key}.npz"
    if path.is_file():
        with np.load(path) as stored:
            return [SongFrames(song_id, stored[f"f{i}"], stored[f"t{i}"]) for i, song_id in enumerate(ids)]
    entries = {entry["id"]: entry for entry in chorales()}
    result = []
    for index, song in enumerate(dataset):
        loaded = song.load(sample_rate)
        feats = song_features(loaded.input, sample_rate, hop, **params)
        targets = frame_targets(entries[song.song_id], song.metadata["tempo_bpm"], feats.shape[0], sample_rate, hop)
        result.append(SongFrames(song.song_id, feats, targets))
        if progress is not None:
            progress(f"prepared {split} song {index + 1}/{len(ids)} {song.song_id}")
    _write_cache(path, result)
    return result


def _write_cache(path: Path, songs: Sequence[SongFrames]) -> None:
    """Store the songs' arrays as ``f<i>`` (features) and ``t<i>`` (targets) of one ``.npz``, atomically."""
    arrays: dict[str, np.ndarray] = {}
    for i, item in enumerate(songs):
        arrays[f"f{i}"], arrays[f"t{i}"] = item.features, item.targets
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with atomic_path(path) as temporary:
        temporary.write_bytes(buffer.getvalue())


# -------------------------------------------------------------------------------------------- batching
def _batch(
    data: Sequence[SongFrames],
    picks: Sequence[tuple[int, int]],
    crop_frames: int,
    history_frames: int,
    ahead_frames: int,
) -> dict[str, torch.Tensor]:
    """Crops ``(song index, first output frame)`` as tensors (absolute positions, validity, teacher feedback)."""
    n_in = history_frames + crop_frames + ahead_frames
    batch = len(picks)
    features = np.zeros((batch, n_in, N_FEATURES), dtype=np.float32)
    input_valid = np.zeros((batch, n_in), dtype=bool)
    feedback = np.zeros((batch, crop_frames, N_TARGETS), dtype=np.float32)
    targets = np.zeros((batch, crop_frames, N_TARGETS), dtype=np.float32)
    output_valid = np.zeros((batch, crop_frames), dtype=bool)
    current = np.zeros((batch, crop_frames, N_FEATURES), dtype=np.float32)
    input_positions = np.zeros((batch, n_in), dtype=np.int64)
    output_positions = np.zeros((batch, crop_frames), dtype=np.int64)
    n_frames = np.zeros(batch, dtype=np.int64)
    for row, (song_index, first) in enumerate(picks):
        song = data[song_index]
        n = song.n_frames
        n_frames[row] = n
        inputs = np.arange(first - history_frames, first + crop_frames + ahead_frames)
        input_positions[row] = inputs
        ok = (inputs >= 0) & (inputs < n)
        input_valid[row] = ok
        features[row, ok] = song.features[inputs[ok]]
        outputs = np.arange(first, first + crop_frames)
        output_positions[row] = outputs
        ok = outputs < n
        output_valid[row] = ok
        targets[row, ok] = song.targets[outputs[ok]]
        current[row, ok] = song.features[outputs[ok]]
        previous = outputs - 1
        ok = (previous >= 0) & (previous < n)
        feedback[row, ok] = song.targets[previous[ok]]
    return {
        "features": torch.from_numpy(features),
        "input_positions": torch.from_numpy(input_positions),
        "input_valid": torch.from_numpy(input_valid),
        "feedback": torch.from_numpy(feedback),
        "output_positions": torch.from_numpy(output_positions),
        "n_frames": torch.from_numpy(n_frames),
        "targets": torch.from_numpy(targets),
        "output_valid": torch.from_numpy(output_valid),
        "current_features": torch.from_numpy(current),
    }


def reference_loss(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean over valid frames of: pitch-class BCE (summed over 12) + bass cross-entropy + weighted onset BCE."""
    mask = valid.to(logits.dtype)
    pitch = F.binary_cross_entropy_with_logits(
        logits[..., :N_PITCH_CLASSES], targets[..., :N_PITCH_CLASSES], reduction="none"
    ).sum(-1)
    bass_logits = logits[..., N_PITCH_CLASSES : N_PITCH_CLASSES + N_BASS]
    bass_classes = targets[..., N_PITCH_CLASSES : N_PITCH_CLASSES + N_BASS].argmax(-1)
    bass = F.cross_entropy(bass_logits.reshape(-1, N_BASS), bass_classes.reshape(-1), reduction="none").view_as(pitch)
    onset = F.binary_cross_entropy_with_logits(
        logits[..., ONSET],
        targets[..., ONSET],
        pos_weight=torch.tensor(ONSET_POS_WEIGHT, device=logits.device),
        reduction="none",
    )
    # No valid frame (a crop entirely past a song's end): the loss is 0, not NaN.
    return ((pitch + bass + onset) * mask).sum() / mask.sum().clamp(min=1.0)


# -------------------------------------------------------------------------------------------- training
@contextlib.contextmanager
def _torch_state(seed: int, threads: int | None, deterministic: bool) -> Iterator[None]:
    """Seed torch, set threads and deterministic algorithms; restore all three afterwards."""
    previous_deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]), torch_threads(threads):
        torch.manual_seed(seed)
        try:
            if deterministic:
                torch.use_deterministic_algorithms(True)
            yield
        finally:
            torch.use_deterministic_algorithms(previous_deterministic)


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for but CUDA is not available")
    return torch.device(device)


def _picks(rng: np.random.Generator, data: Sequence[SongFrames], count: int) -> list[tuple[int, int]]:
    lengths = np.array([song.n_frames for song in data], dtype=np.float64)
    songs = rng.choice(len(data), size=count, p=lengths / lengths.sum())
    return [(int(s), int(rng.integers(0, max(int(lengths[s]), 1)))) for s in songs]


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters and data options of one training run (checked on construction).

    Attributes
    ----------
    epochs : int
        Passes over the training frames (in random crops), >= 1.
    songs : int or None
        First ``songs`` songs of the demo train split (``None``: all 305).
    valid_songs : int
        Songs of the valid split whose loss is reported after each epoch (0: none).
    batch_size : int
        Crops per step, >= 1.
    crop_frames : int
        Output frames per crop (frames of 441 samples at 22050 Hz, 20 ms), >= 1.
    learning_rate : float
        Peak AdamW learning rate (linear warm-up over 5 % of the steps, cosine decay).
    feedback_dropout : float
        Probability of zeroing a fed-back previous output in training (robustness to its own mistakes).
    anticipation_weight : float
        Weight of the anticipatory objective (0: off), >= 0: from the decoder state of frame ``f`` predict the
        input features of frame ``f`` (mean squared error), which are invisible to it when ``t_f <= 0``.
    seed : int
        Seeds torch (weights, dropout) and the crop sampler.
    device : str
        ``"auto"`` (default: CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``. Deterministic algorithms
        are enforced on CPU.
    threads : int or None
        Intra-op threads (default 1); ``None`` keeps torch's setting.
    network : dict or None
        Overrides of :data:`~accbench.models.reference_model.DEFAULT_NETWORK`.
    max_steps : int or None
        Stop after this many steps in total (tests, smoke runs).
    cache : path or None
        Feature cache folder (default ``$ACCBENCH_CACHE/reference``).
    """

    epochs: int = 4
    songs: int | None = None
    valid_songs: int = 8
    batch_size: int = 16
    crop_frames: int = 128
    learning_rate: float = 3e-3
    feedback_dropout: float = 0.1
    anticipation_weight: float = 0.0
    seed: int = 0
    device: str = "auto"
    threads: int | None = 1
    network: dict[str, Any] | None = None
    max_steps: int | None = None
    cache: str | os.PathLike | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.crop_frames < 1:
            raise ConfigError("epochs, batch_size and crop_frames must be >= 1")
        if self.anticipation_weight < 0:
            raise ConfigError(f"anticipation_weight must be >= 0, got {self.anticipation_weight}")
        unknown = sorted(set(self.network or {}) - set(DEFAULT_NETWORK))
        if unknown:
            raise ConfigError(f"unknown network option(s): {', '.join(unknown)}")

    def network_params(self) -> dict[str, Any]:
        """:data:`~accbench.models.reference_model.DEFAULT_NETWORK` with the overrides (and the anticipation head
        when on)."""
        params = {**DEFAULT_NETWORK, **(self.network or {})}
        if self.anticipation_weight > 0:
            params["anticipation"] = True
        return params


@dataclass(frozen=True)
class _Plan:
    """The grid point and the step budget of a run (frames are output frames of ``HOP`` samples)."""

    future_visibility: int
    chunk_frames: int
    crop_frames: int  # output frames per crop
    total_frames: int
    steps_per_epoch: int
    total_steps: int
    history_frames: int  # input frames before a crop's first output frame that cross-attention may read
    ahead_frames: int  # input frames after a crop's last output frame it may read (t_f > 0)


def train_reference(
    future_visibility: int,
    chunk_frames: int,
    out: str | os.PathLike,
    *,
    config: TrainingConfig | None = None,
    train_data: Sequence[SongFrames] | None = None,
    valid_data: Sequence[SongFrames] | None = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> TrainingResult:
    """Train the reference model for one (t_f, k) point and save its checkpoint atomically.

    Parameters
    ----------
    future_visibility : int
        ``t_f`` in frames (may be negative).
    chunk_frames : int
        ``k`` (>= 1).
    out : path
        Folder; the checkpoint is ``out / checkpoint_name(t_f, k)`` with a JSON summary beside it.
    config : TrainingConfig or None
        The hyper-parameters and data options (default ``TrainingConfig()``).
    train_data, valid_data : sequence of SongFrames or None
        Pre-loaded data (otherwise :func:`load_training_data` with ``config.songs`` / ``config.valid_songs``).
    progress : callable or None
        Called with one line of text per progress report.
    **options
        Fields of :class:`TrainingConfig` (``epochs=2, seed=1, ...``), replacing those of ``config``.

    Returns
    -------
    TrainingResult
    """
    config = dataclasses.replace(config or TrainingConfig(), **options)
    say = progress or (lambda line: None)
    future_visibility, chunk_frames = _grid_point(future_visibility, chunk_frames)
    train_data, valid_data = _prepare_data(config, train_data, valid_data, say)
    target = _resolve_device(config.device)
    net_params = config.network_params()
    plan = _plan(future_visibility, chunk_frames, config, train_data, int(net_params["window"]))
    started = time.perf_counter()
    with _torch_state(config.seed, config.threads, deterministic=target.type == "cpu"):
        model = ReferenceNetwork(future_visibility, chunk_frames, **net_params).to(target)
        say(
            f"training t_f={future_visibility} k={chunk_frames}: {len(train_data)} songs, {plan.total_frames} frames, "
            f"{plan.steps_per_epoch} steps/epoch, {plan.total_steps} steps, "
            f"{sum(p.numel() for p in model.parameters())} parameters on {target}"
        )
        history, step_losses = _train_epochs(model, plan, config, train_data, valid_data, target, say, started)
        state_dict = {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}
    seconds = time.perf_counter() - started
    summary = _checkpoint_config(plan, config, net_params, (train_data, valid_data), target, seconds)
    summary["training"].update(steps=len(step_losses), first_loss=step_losses[0] if step_losses else None)
    summary["training"]["history"] = history
    path = _save_checkpoint(Path(out), plan, summary, state_dict)
    say(f"saved {path} ({seconds:.0f} s)")
    return TrainingResult(path, summary, history, step_losses)


def _grid_point(future_visibility: Any, chunk_frames: Any) -> tuple[int, int]:
    """``(t_f, k)`` as integers, checked."""
    if isinstance(chunk_frames, bool) or int(chunk_frames) != chunk_frames or chunk_frames < 1:
        raise ConfigError(f"chunk_frames must be an integer >= 1, got {chunk_frames!r}")
    if isinstance(future_visibility, bool) or int(future_visibility) != future_visibility:
        raise ConfigError(f"future_visibility must be an integer number of frames, got {future_visibility!r}")
    return int(future_visibility), int(chunk_frames)


# ------------------------------------------------------------------------------------------------ steps
def _prepare_data(
    config: TrainingConfig,
    train_data: Sequence[SongFrames] | None,
    valid_data: Sequence[SongFrames] | None,
    say: Callable[[str], None],
) -> tuple[Sequence[SongFrames], Sequence[SongFrames]]:
    """The training and validation songs: the given ones, else the demo splits (through the feature cache)."""
    options = {"sample_rate": SAMPLE_RATE, "hop": HOP, "cache": config.cache, "progress": say}
    if train_data is None:
        train_data = load_training_data("train", config.songs, **options)
    if valid_data is None:
        valid_data = load_training_data("valid", config.valid_songs, **options) if config.valid_songs else []
    if not train_data:
        raise ConfigError("no training songs")
    return train_data, valid_data


def _plan(
    future_visibility: int, chunk_frames: int, config: TrainingConfig, data: Sequence[SongFrames], window: int
) -> _Plan:
    """Steps per epoch (crops covering the training frames once), the step budget and the crops' context."""
    total_frames = sum(song.n_frames for song in data)
    steps_per_epoch = max(1, math.ceil(total_frames / (config.batch_size * config.crop_frames)))
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(config.max_steps, total_steps)
    ahead_frames = max(future_visibility, 0)
    return _Plan(
        future_visibility,
        chunk_frames,
        config.crop_frames,
        total_frames,
        steps_per_epoch,
        total_steps,
        history_frames=window + ahead_frames,  # the oldest frame cross-attention may read
        ahead_frames=ahead_frames,
    )


def _lr_factor(step: int, warmup: int, total_steps: int) -> float:
    """Learning-rate factor of a step: linear warm-up over ``warmup`` steps, then cosine decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))


def _optimizer(
    model: ReferenceNetwork, config: TrainingConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW (weight decay 0.01) with the warm-up (5 % of the steps) + cosine schedule."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    warmup = max(1, total_steps // 20)
    schedule = functools.partial(_lr_factor, warmup=warmup, total_steps=total_steps)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)


def _train_epochs(
    model: ReferenceNetwork,
    plan: _Plan,
    config: TrainingConfig,
    train_data: Sequence[SongFrames],
    valid_data: Sequence[SongFrames],
    device: torch.device,
    say: Callable[[str], None],
    started: float,
) -> tuple[list[dict[str, Any]], list[float]]:
    """The epoch loop: train, evaluate after each epoch; returns the per-epoch records and every step's loss."""
    optimizer, scheduler = _optimizer(model, config, plan.total_steps)
    rng = np.random.default_rng(config.seed)
    valid_rng = np.random.default_rng(10_000 + config.seed)
    valid_picks = _picks(valid_rng, valid_data, 4 * config.batch_size) if valid_data else []
    history: list[dict[str, Any]] = []
    step_losses: list[float] = []
    for epoch in range(1, config.epochs + 1):
        if len(step_losses) >= plan.total_steps:
            break
        model.train()
        epoch_started = time.perf_counter()
        epoch_losses = []
        while len(epoch_losses) < plan.steps_per_epoch and len(step_losses) < plan.total_steps:
            batch = _training_batch(rng, train_data, plan, config, device)
            loss = _train_step(model, optimizer, scheduler, batch, config.anticipation_weight)
            step_losses.append(loss)
            epoch_losses.append(loss)
            step = len(step_losses)
            if step % 50 == 0:
                elapsed = time.perf_counter() - started
                say(f"  step {step}/{plan.total_steps} loss {np.mean(step_losses[-50:]):.4f} ({elapsed:.0f} s)")
        valid_loss = _evaluate(model, valid_data, valid_picks, plan, device)
        record = {
            "epoch": epoch,
            "steps": len(step_losses),
            "train_loss": float(np.mean(epoch_losses)) if epoch_losses else None,
            "valid_loss": valid_loss,
            "seconds": round(time.perf_counter() - epoch_started, 2),
        }
        history.append(record)
        valid_text = "" if valid_loss is None else f" valid loss {valid_loss:.4f}"
        say(
            f"epoch {epoch}/{config.epochs}: train loss {record['train_loss']:.4f}{valid_text} "
            f"({record['seconds']:.0f} s)"
        )
    return history, step_losses


def _training_batch(
    rng: np.random.Generator, data: Sequence[SongFrames], plan: _Plan, config: TrainingConfig, device: torch.device
) -> dict[str, torch.Tensor]:
    """``batch_size`` random crops, fed-back outputs dropped with probability ``feedback_dropout``, on ``device``."""
    picks = _picks(rng, data, config.batch_size)
    batch = _batch(data, picks, plan.crop_frames, plan.history_frames, plan.ahead_frames)
    if config.feedback_dropout > 0:
        keep = rng.random(batch["feedback"].shape[:2]) >= config.feedback_dropout
        batch["feedback"] = batch["feedback"] * torch.from_numpy(keep[..., None].astype(np.float32))
    return {name: value.to(device) for name, value in batch.items()}


def _train_step(
    model: ReferenceNetwork,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    batch: dict[str, torch.Tensor],
    anticipation_weight: float,
) -> float:
    """One optimiser step (gradient norm clipped to 1); returns the step's loss."""
    logits, hidden = _forward(model, batch, return_hidden=True)
    loss = reference_loss(logits, batch["targets"], batch["output_valid"])
    if anticipation_weight > 0:
        loss = loss + anticipation_weight * _anticipation_loss(model, hidden, batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    return float(loss.detach().cpu())


def _forward(model: ReferenceNetwork, batch: dict[str, torch.Tensor], return_hidden: bool = False) -> Any:
    """The model on a batch of :func:`_batch` (logits, and the decoder states with ``return_hidden``)."""
    return model(
        batch["features"],
        batch["input_positions"],
        batch["input_valid"],
        batch["feedback"],
        batch["output_positions"],
        batch["n_frames"],
        return_hidden=return_hidden,
    )


def _anticipation_loss(model: ReferenceNetwork, hidden: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean squared error of the predicted input features of each output frame, over valid frames."""
    mask = batch["output_valid"].to(hidden.dtype)
    error = ((model.anticipation_head(hidden) - batch["current_features"]) ** 2).mean(-1)
    return (error * mask).sum() / mask.sum().clamp(min=1.0)


@torch.no_grad()
def _evaluate(
    model: ReferenceNetwork,
    data: Sequence[SongFrames],
    picks: Sequence[tuple[int, int]],
    plan: _Plan,
    device: torch.device,
) -> float | None:
    """Teacher-forced main loss (no anticipation term) on fixed crops, no feedback dropout; ``None`` without data."""
    if not data:
        return None
    model.eval()
    losses, weights = [], []
    for first in range(0, len(picks), 16):
        batch = _batch(data, picks[first : first + 16], plan.crop_frames, plan.history_frames, plan.ahead_frames)
        batch = {name: value.to(device) for name, value in batch.items()}
        valid = batch["output_valid"]
        losses.append(float(reference_loss(_forward(model, batch), batch["targets"], valid)))
        weights.append(float(valid.sum()))
    model.train()
    return float(np.average(losses, weights=weights)) if sum(weights) else None


# -------------------------------------------------------------------------------------------- checkpoint
def _checkpoint_config(
    plan: _Plan,
    config: TrainingConfig,
    net_params: dict[str, Any],
    data: tuple[Sequence[SongFrames], Sequence[SongFrames]],
    device: torch.device,
    seconds: float,
) -> dict[str, Any]:
    """The JSON-able config stored in a checkpoint; ``steps``, ``first_loss`` and ``history`` are filled in after.

    ``data`` is ``(train_data, valid_data)``.
    """
    from accbench import __version__

    train_data, valid_data = data
    return {
        "future_visibility": plan.future_visibility,
        "chunk_frames": plan.chunk_frames,
        "sample_rate": SAMPLE_RATE,
        "hop": HOP,
        "features": dict(DEFAULT_FEATURES),
        "network": net_params,
        "training": {
            "epochs": config.epochs,
            "steps": None,
            "songs": len(train_data),
            "song_ids_sha256": hashlib.sha256(",".join(s.song_id for s in train_data).encode()).hexdigest(),
            "valid_songs": len(valid_data),
            "batch_size": config.batch_size,
            "crop_frames": config.crop_frames,
            "learning_rate": config.learning_rate,
            "feedback_dropout": config.feedback_dropout,
            "anticipation_weight": config.anticipation_weight,
            "seed": config.seed,
            "device": str(device),
            "threads": config.threads,
            "seconds": round(seconds, 2),
            "first_loss": None,
            "history": [],
        },
        "accbench_version": __version__,
        "torch_version": str(torch.__version__),
        "python": platform.python_version(),
    }


def _save_checkpoint(out: Path, plan: _Plan, config: dict[str, Any], state_dict: dict[str, torch.Tensor]) -> Path:
    """Write ``out / checkpoint_name(t_f, k)`` and its JSON summary beside it, atomically; returns the path."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "config": config,
        "state_dict": state_dict,
    }
    path = out / checkpoint_name(plan.future_visibility, plan.chunk_frames)
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)
    atomic_write_text(path.with_suffix(".json"), json.dumps(config, indent=2) + "\n")
    return path
