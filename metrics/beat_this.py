"""Beat This! beat and downbeat tracking (Foscarin, Schlüter and Widmer, ISMIR 2024), offline, without torchaudio.

The seed paper tracks beats with Beat This (PyPI ``beat-this`` 1.1.0, checkpoint ``final0``, no DBN). This
module is that package's ``Audio2Beats`` inference path, written for accbench so it runs beside any torch
(the package's preprocessing imports torchaudio, which PyPI builds only for some torch versions):

1. Audio ``(channels, n)`` or ``(n,)`` at any rate: mean over channels (float64), soxr resampling (``HQ``) to
   22050 Hz, float32.
2. :func:`log_mel`: ``log1p(1000 * mel)`` of a magnitude STFT (``torch.stft``: 1024-sample periodic Hann
   window, 441-sample hop, centred with reflection padding, scaled by ``1 / sqrt(1024)``: torchaudio's
   ``normalized="frame_length"``) through
   128 Slaney-scale mel filters from 30 Hz to 11 kHz (``librosa.filters.mel``, no area normalisation);
   ``(frames, 128)``, 50 frames per second, frame ``t`` at ``t / 50`` s.
3. :func:`frame_logits`: the network (:class:`~accbench.metrics.beat_this_model.BeatThisModel`) on chunks of
   1500 frames (30 s) that overlap by 6 frames at each side; the 6 border frames of each chunk's prediction
   are discarded, the first chunk and the last are zero-padded by 6 frames, the last chunk is moved left to
   end at the piece's end, and where chunks overlap the earlier chunk's prediction is kept.
4. :func:`postprocess` (the package's "minimal" postprocessor): frames that are the maximum of their +-3 frame
   neighbourhood (+-60 ms) with logit > 0; runs of peaks at most one frame from the running mean of the run
   merge into that mean; frames / 50 are the times; each downbeat moves to its nearest beat, duplicates go.

The numbers equal the package's (``scripts/parity_beat_this.py`` runs both on the same weights and audio:
log-mel and logits within 1e-4, identical beat and downbeat times). Audio shorter than 513 samples at
22050 Hz (23 ms; the package fails on it) has no frames and no beats.

Checkpoints
-----------
The published checkpoints (``final0`` 78 MB, ``small0`` 8 MB, ...) are Lightning files with
``hyper_parameters`` and ``state_dict``; they load with ``torch.load(weights_only=True)`` (nothing they
contain is executed) and ``strict=True``. accbench never downloads: :func:`resolve_checkpoint` takes a file
path, or a checkpoint name that is looked up where the package itself caches it,
``$TORCH_HOME/hub/checkpoints/beat_this-<name>.ckpt`` (``torch.hub.get_dir()``); a missing file is a
:class:`~accbench.errors.ConfigError` saying how to fetch it (:data:`CHECKPOINT_URL`) on a machine with
internet. Results and analysis caches are keyed by the checkpoint's SHA-256 (:func:`checkpoint_digest`).

Needs the optional extra ``beat-this`` (``pip install 'accbench[beat-this]'``: torch, einops,
rotary-embedding-torch).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soxr

from accbench.audio import as_channels_first
from accbench.digests import file_sha256
from accbench.errors import ConfigError, DataError

if TYPE_CHECKING:
    import torch

    from accbench.metrics.beat_this_model import BeatThisModel

__all__ = [
    "BORDER_FRAMES",
    "CHECKPOINT_URL",
    "CHUNK_FRAMES",
    "DEFAULT_CHECKPOINT",
    "FPS",
    "SAMPLE_RATE",
    "checkpoint_digest",
    "frame_logits",
    "hub_checkpoint_path",
    "load_model",
    "log_mel",
    "postprocess",
    "resample_mono",
    "resolve_checkpoint",
    "save_random_checkpoint",
    "track",
]

SAMPLE_RATE = 22050
"""Hz of the spectrogram's audio."""
N_FFT = 1024
HOP = 441
FPS = 50
"""Frames per second of the spectrogram and the logits (``SAMPLE_RATE / HOP``)."""
N_MELS = 128
F_MIN_HZ = 30.0
F_MAX_HZ = 11000.0
LOG_MULTIPLIER = 1000.0
CHUNK_FRAMES = 1500
"""Frames per inference chunk (30 s)."""
BORDER_FRAMES = 6
"""Frames discarded at each side of a chunk's prediction; chunks overlap by this much."""
PEAK_FRAMES = 7
"""Width of the postprocessor's maximum filter (+-3 frames)."""

DEFAULT_CHECKPOINT = "final0"
"""The checkpoint the seed paper used (trained on all data but GTZAN, seed 0)."""
CHECKPOINT_URL = "https://cloud.cp.jku.at/public.php/dav/files/7ik4RrBKTS273gp"
"""Where the ``beat-this`` package downloads ``<name>.ckpt`` from (accbench never does)."""

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_LOCK = threading.Lock()


def _require_torch() -> None:
    missing = [name for name in ("torch", "rotary_embedding_torch", "einops") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"the Beat This tracker needs {', '.join(missing)}: pip install 'accbench[beat-this]' "
            "(torch, einops, rotary-embedding-torch)"
        )


# ----------------------------------------------------------------------------------------------------------
# Checkpoints


def hub_checkpoint_path(name: str) -> Path:
    """Where the ``beat-this`` package caches checkpoint ``name``:
    ``<torch.hub.get_dir()>/checkpoints/beat_this-<name>.ckpt``."""
    _require_torch()
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints" / f"beat_this-{name}.ckpt"


def _how_to_get(name: str, target: Path) -> str:
    url = f"{CHECKPOINT_URL}/{name}.ckpt"
    return (
        f"on a machine with internet run curl -L -o beat_this-{name}.ckpt '{url}' (the file the beat-this "
        f"package downloads), then copy it to {target} or pass its path (beat_this_checkpoint=PATH, "
        "--beat-this-checkpoint PATH)"
    )


def resolve_checkpoint(checkpoint: str | os.PathLike | None = None) -> Path:
    """The checkpoint file for ``checkpoint``: an existing file path, or a name found in the torch hub cache.

    Parameters
    ----------
    checkpoint : str, path or None
        A ``.ckpt`` file, or a published checkpoint name (``"final0"``, ``"small0"``, ...) looked up as
        :func:`hub_checkpoint_path`; ``None`` means :data:`DEFAULT_CHECKPOINT`.

    Returns
    -------
    path : Path
        Absolute.

    Raises
    ------
    ConfigError
        No such file; the message names the file looked for and how to get it (never downloads).
    """
    spec = DEFAULT_CHECKPOINT if checkpoint is None else os.fspath(checkpoint)
    path = Path(spec).expanduser()
    if path.is_file():
        return path.resolve()
    if _NAME.fullmatch(spec):
        cached = hub_checkpoint_path(spec)
        if cached.is_file():
            return cached.resolve()
        raise ConfigError(f"Beat This checkpoint {spec!r} not found at {cached}; {_how_to_get(spec, cached)}")
    name = path.stem.removeprefix("beat_this-")
    name = name if _NAME.fullmatch(name) else DEFAULT_CHECKPOINT
    raise ConfigError(f"Beat This checkpoint file not found: {str(path)!r}; {_how_to_get(name, path)}")


def checkpoint_digest(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a checkpoint file (remembered per path, size and modification time)."""
    return file_sha256(path)


def _state_and_parameters(checkpoint: Any, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The network's state dict (``model.`` and ``_orig_mod.`` prefixes removed) and its shape parameters."""
    from accbench.metrics.beat_this_model import MODEL_PARAMETERS

    if not isinstance(checkpoint, Mapping) or not isinstance(checkpoint.get("state_dict"), Mapping):
        raise DataError("not a Beat This checkpoint: no 'state_dict' table", path=str(path))
    hyper = checkpoint.get("hyper_parameters") or {}
    if not isinstance(hyper, Mapping):
        raise DataError("not a Beat This checkpoint: 'hyper_parameters' is not a table", path=str(path))
    parameters = {key: hyper[key] for key in MODEL_PARAMETERS if key in hyper}
    state = {}
    for key, value in checkpoint["state_dict"].items():
        key = str(key).removeprefix("model.").replace("_orig_mod.", "")
        state[key] = value
    return state, parameters


@functools.lru_cache(maxsize=2)
def _load(path: str, digest: str) -> BeatThisModel:
    import torch

    from accbench.metrics.beat_this_model import BeatThisModel

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refused, truncated file, not a torch file
        reason = " ".join(str(error).split())[:300]
        raise DataError(
            f"cannot read Beat This checkpoint (torch.load, weights_only=True): {reason}", path=path
        ) from None
    state, parameters = _state_and_parameters(checkpoint, Path(path))
    try:
        model = BeatThisModel(**parameters)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError, KeyError) as error:
        reason = " ".join(str(error).split())[:300]
        raise DataError(f"checkpoint does not fit the Beat This network: {reason}", path=path) from None
    return model.eval()


def load_model(checkpoint: str | os.PathLike | None = None) -> BeatThisModel:
    """The network of a checkpoint (see :func:`resolve_checkpoint`), in eval mode on the CPU; the last two
    loaded are kept in memory."""
    _require_torch()
    path = resolve_checkpoint(checkpoint)
    return _load(str(path), checkpoint_digest(path))


def save_random_checkpoint(path: str | os.PathLike, *, seed: int, **dims: Any) -> Path:
    """Write a random-weight checkpoint in the published format (for tests and speed; its beats mean nothing).

    Every weight and batch-norm statistic is drawn from a generator seeded with ``seed`` (the global RNG is
    left as it was); the head's biases are set so that about half the frames of a noise spectrogram have
    positive logits (so the postprocessor finds peaks). ``dims`` are :class:`BeatThisModel` parameters
    (default: the ``final`` size). Written atomically.
    """
    _require_torch()
    import torch

    from accbench.atomic import atomic_path
    from accbench.metrics.beat_this_model import BeatThisModel

    with torch.random.fork_rng(devices=[]):
        model = BeatThisModel(**dims).eval()
    generator = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point() or name.endswith("rotary_embed.freqs"):
                continue
            noise = torch.randn(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(0.5 + noise.abs())
            elif name.endswith("running_mean"):
                tensor.copy_(0.5 * noise)
            elif name.endswith(("gamma", "norm.weight", "bn1d.weight", "bn2d.weight")):
                tensor.copy_(1.0 + 0.2 * noise)
            else:
                tensor.copy_(noise / math.sqrt(max(1, tensor.shape[-1] if tensor.ndim > 1 else 1)))
        probe = torch.log1p(50.0 * torch.rand(300, N_MELS, generator=generator))
        out = model(probe.unsqueeze(0))
        bias = model.task_heads.beat_downbeat_lin.bias
        bias[1] -= out["downbeat"].median()
        bias[0] -= (out["beat"] - out["downbeat"].median()).median()
    hyper = {"spect_dim": N_MELS, "fps": FPS, **dims}
    state = {f"model.{key}": value for key, value in model.state_dict().items()}
    content = {"epoch": 0, "global_step": 0, "state_dict": state, "hyper_parameters": hyper}
    with atomic_path(Path(path)) as temporary:
        torch.save(content, temporary)
    return Path(path)


# ----------------------------------------------------------------------------------------------------------
# Spectrogram, network, postprocessor


def resample_mono(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The package's input: the channel mean (float64), soxr ``HQ`` to 22050 Hz, float32 ``(n,)``."""
    array = np.asarray(audio, dtype=np.float64)  # float64 until after resampling, as the package
    array = array[np.newaxis, :] if array.ndim == 1 else array
    if array.ndim != 2:
        raise DataError(f"audio must be 1-D or (channels, n_samples), got shape {array.shape}")
    if int(sample_rate) <= 0:
        raise DataError(f"sample rate must be positive, got {sample_rate}")
    mono = array.mean(axis=0, dtype=np.float64)
    if int(sample_rate) != SAMPLE_RATE and mono.size:
        mono = soxr.resample(mono, int(sample_rate), SAMPLE_RATE)
    return np.asarray(mono, dtype=np.float32)


@functools.cache
def _mel_filters() -> np.ndarray:
    """``(1 + N_FFT // 2, N_MELS)`` float32 Slaney mel filters, peak 1 (torchaudio's ``norm=None``)."""
    import librosa

    filters = librosa.filters.mel(
        sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=F_MIN_HZ, fmax=F_MAX_HZ, htk=False, norm=None
    )
    return np.ascontiguousarray(filters.T, dtype=np.float32)


def log_mel(mono: np.ndarray) -> torch.Tensor:
    """Log-mel spectrogram of mono 22050 Hz audio, ``(1 + n // 441, 128)`` float32 (``(0, 128)`` below 513 samples)."""
    import torch

    signal = torch.as_tensor(np.asarray(mono, dtype=np.float32))
    if signal.numel() <= N_FFT // 2:  # reflection padding needs more samples than the pad
        return torch.zeros((0, N_MELS), dtype=torch.float32)
    window = torch.hann_window(N_FFT)
    spectrum = torch.stft(
        signal, N_FFT, hop_length=HOP, win_length=N_FFT, window=window, center=True, pad_mode="reflect",
        normalized=True, onesided=True, return_complex=True,
    )  # fmt: skip
    magnitude = spectrum.abs()
    mel = torch.matmul(magnitude.T, torch.from_numpy(_mel_filters()))
    return torch.log1p(LOG_MULTIPLIER * mel)


def _chunk_starts(n_frames: int) -> list[int]:
    """First frame of each chunk (the first is ``-BORDER_FRAMES``); the last ends at the piece's end."""
    step = CHUNK_FRAMES - 2 * BORDER_FRAMES
    starts = list(range(-BORDER_FRAMES, n_frames - BORDER_FRAMES, step))
    if n_frames > step:
        starts[-1] = n_frames - (CHUNK_FRAMES - BORDER_FRAMES)
    return starts


def frame_logits(model: BeatThisModel, spect: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat logits per frame, float32 ``(frames,)`` each, by chunked inference (module docstring).

    Parameters
    ----------
    model : BeatThisModel
        In eval mode; its device is used.
    spect : torch.Tensor, shape (frames, 128)
        :func:`log_mel`.
    """
    import torch
    import torch.nn.functional as F

    n_frames = int(spect.shape[0])
    device = next(model.parameters()).device
    spect = spect.to(device)
    beat = torch.full((n_frames,), -1000.0, device=device)
    downbeat = torch.full((n_frames,), -1000.0, device=device)
    with _LOCK, torch.inference_mode():
        for start in reversed(_chunk_starts(n_frames)):  # earlier chunks overwrite later ones where they overlap
            stop = start + CHUNK_FRAMES
            piece = spect[max(start, 0) : min(stop, n_frames)]
            pad_after = max(0, min(BORDER_FRAMES, stop - n_frames))
            piece = F.pad(piece, (0, 0, max(0, -start), pad_after))
            out = model(piece.unsqueeze(0))
            keep = slice(start + BORDER_FRAMES, stop - BORDER_FRAMES)
            beat[keep] = out["beat"][0, BORDER_FRAMES:-BORDER_FRAMES]
            downbeat[keep] = out["downbeat"][0, BORDER_FRAMES:-BORDER_FRAMES]
    return beat.float().cpu().numpy(), downbeat.float().cpu().numpy()


def _merge_adjacent(frames: np.ndarray) -> np.ndarray:
    """Each run of peak frames at most one frame from the run's running mean becomes that mean (float)."""
    merged: list[float] = []
    count = 0
    mean = 0.0
    for frame in (int(f) for f in frames):
        if count and frame - mean <= 1:
            count += 1
            mean += (frame - mean) / count
            continue
        if count:
            merged.append(mean)
        mean, count = float(frame), 1
    if count:
        merged.append(mean)
    return np.asarray(merged, dtype=np.float64)


def postprocess(beat_logits: np.ndarray, downbeat_logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat times (seconds, float64, increasing) from frame logits (the "minimal" postprocessor).

    Parameters
    ----------
    beat_logits, downbeat_logits : ndarray, shape (frames,)
        At :data:`FPS` frames per second.

    Returns
    -------
    beats, downbeats : ndarray
        Every downbeat is one of the beats (moved to the nearest one).
    """
    import torch
    import torch.nn.functional as F

    logits = torch.as_tensor(np.stack([np.asarray(beat_logits), np.asarray(downbeat_logits)]).astype(np.float32))
    if logits.shape[1] == 0:
        return np.zeros(0), np.zeros(0)
    peak = (logits == F.max_pool1d(logits, PEAK_FRAMES, 1, PEAK_FRAMES // 2)) & (logits > 0)
    beats = _merge_adjacent(np.flatnonzero(peak[0].numpy())) / FPS
    downbeats = _merge_adjacent(np.flatnonzero(peak[1].numpy())) / FPS
    if beats.size:
        downbeats = beats[np.abs(beats[np.newaxis, :] - downbeats[:, np.newaxis]).argmin(axis=1)]
    return beats, np.unique(downbeats)


def track(
    audio: np.ndarray, sample_rate: int, checkpoint: str | os.PathLike | BeatThisModel | None = None
) -> dict[str, np.ndarray]:
    """Beats and downbeats of ``audio`` with Beat This (uncached; :func:`accbench.metrics.analysis.beats` caches).

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
        Finite samples.
    sample_rate : int
        Hz.
    checkpoint : str, path, BeatThisModel or None
        See :func:`resolve_checkpoint`, or an already loaded network.

    Returns
    -------
    dict
        ``beats``, ``downbeats``: float64 seconds; ``beat_logits``, ``downbeat_logits``: float32 per frame
        (50 per second).
    """
    if not np.all(np.isfinite(as_channels_first(np.asarray(audio)))):
        raise DataError("audio contains NaN or infinite samples")
    model = checkpoint if not isinstance(checkpoint, str | os.PathLike | type(None)) else load_model(checkpoint)
    beat, downbeat = frame_logits(model, log_mel(resample_mono(audio, sample_rate)))
    beats, downbeats = postprocess(beat, downbeat)
    return {"beats": beats, "downbeats": downbeats, "beat_logits": beat, "downbeat_logits": downbeat}
