"""COCOLA coherence of an accompaniment with its input, as the seed paper scores it.

COCOLA (Ciranni et al. 2024, "COCOLA: Coherence-Oriented Contrastive Learning of Musical Audio
Representations"; gladia-research-group/cocola, MIT) embeds 5 s excerpts and scores how well two of them
fit together with a bilinear similarity. The seed paper (Wu et al., lukewys/stream-music-gen,
``stream_music_gen/eval/cocola_eval.py``, with the fork maswang32/cocola-stem-gen) scores every generated
accompaniment against its input and reports the mean and standard deviation over songs; its "GT" row scores
the reference accompaniment against the same input. This module computes the same numbers.

Pipeline (every setting is the authors'):

1. Each stem is loudness-normalised to -18 LUFS with a 0.99 peak guard (:mod:`accbench.loudness`, as the
   paper's generation scripts write stems; ``normalize_lufs=None`` skips it), down-mixed to mono and resampled
   to 16 kHz (soxr; the paper uses torchaudio's Kaiser-windowed sinc, see ``docs/paper-protocol.md``).
2. 5 s chunks (80000 samples) every 2.5 s; the last chunk is zero-padded (:func:`chunk_audio`, the authors'
   ``chunk_audio``).
3. Features per chunk (:func:`hpss_features`): librosa STFT (``n_fft`` 1024, window 400, hop 160, centred,
   Hann), HPSS (librosa defaults), power mel spectrograms of each part (64 bands, 60-7800 Hz, Slaney), each
   ``power_to_db(ref=max)`` on its own: ``(2, 64, 501)`` float32, harmonic first.
4. Encoder: EfficientNet-B0 with 2 input channels (``efficientnet_pytorch``, ``from_name``, no top), linear
   1280 -> 512, LayerNorm, tanh; score: ``x^T W y`` (bilinear) of the input chunk ``x`` and the accompaniment
   chunk ``y``; the song's score is the mean over chunks.
5. Modes: ``both`` (standard COCOLA score), ``harmonic`` (the percussive feature channel is set to 0 before the
   encoder) and ``percussive`` (the harmonic channel set to 0). This is the fork's fixed ``CoCola.score``; the
   original repository's ``score`` ignored the mode (every mode gave the ``both`` score).

Metrics (higher is better, unbounded: a bilinear form of two tanh vectors, in ``[-sum|W|, sum|W|]``):
``cocola.score``, ``cocola.harmonic``, ``cocola.percussive`` (output vs input: the paper's number) and
``cocola.reference_score``, ``cocola.reference_harmonic``, ``cocola.reference_percussive`` (reference vs input:
its GT row; NaN without a reference).

The checkpoint is the published Lightning ``.ckpt`` (``checkpoint-epoch=87-val_loss=0.00.ckpt``, COCOLA_HP_v1),
given as ``checkpoint=`` or ``$ACCBENCH_COCOLA_CHECKPOINT``; it is read with
:func:`accbench.metrics.checkpoints.load_checkpoint` (nothing it pickles is executed). Chunk embeddings are
cached by audio content, checkpoint digest and mode, so an input is embedded once per song however many
configs are scored.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from accbench.audio import as_channels_first, resample
from accbench.errors import ConfigError, DataError
from accbench.metrics.cache import AnalysisCache, audio_hash, default_cache
from accbench.metrics.checkpoints import shared_model, user_file
from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register
from accbench.threads import torch_threads

if TYPE_CHECKING:
    from accbench.metrics.scoring import SongAnalyses

__all__ = [
    "CHECKPOINT_ENV",
    "GROUP",
    "METRICS",
    "MODES",
    "CocolaModel",
    "chunk_audio",
    "cocola_embeddings",
    "evaluate",
    "get_model",
    "hpss_features",
    "missing_checkpoint",
]

CHECKPOINT_ENV = "ACCBENCH_COCOLA_CHECKPOINT"
"""Environment variable naming the COCOLA checkpoint when none is passed."""

SAMPLE_RATE = 16000
CHUNK_SAMPLES = 16000 * 5
HOP_SAMPLES = 8000 * 5
MODES = ("both", "harmonic", "percussive")
_MODE_METRIC = {"both": "score", "harmonic": "harmonic", "percussive": "percussive"}

CHECKPOINT_HELP = (
    "COCOLA needs the published checkpoint COCOLA_HP_v1 (checkpoint-epoch=87-val_loss=0.00.ckpt, from "
    "https://drive.google.com/file/d/1S-_OvnDwNFLNZD5BmI1Ouck_prutRVWZ, linked by gladia-research-group/cocola): "
    f"pass checkpoint=PATH (--cocola-checkpoint) or set ${CHECKPOINT_ENV}"
)

# Checkpoint (Lightning CoCola) key prefixes -> this module's network.
_PREFIXES = {
    "encoder.encoder.model.0.": "backbone.",
    "encoder.projection.": "projection.",
    "layer_norm.": "layer_norm.",
    "similarity.w": "w",
}


def _specs() -> list[MetricSpec]:
    unbounded = (-math.inf, math.inf)
    specs = []
    for mode in MODES:
        name = _MODE_METRIC[mode]
        what = {"both": "COCOLA score", "harmonic": "COCOLA harmonic score", "percussive": "COCOLA percussive score"}
        specs.append(
            MetricSpec(f"cocola.{name}", "higher", "", unbounded, f"{what[mode]} of output vs input (the paper's).")
        )
        specs.append(
            MetricSpec(
                f"cocola.reference_{name}",
                "higher",
                "",
                unbounded,
                f"{what[mode]} of the reference accompaniment vs input (the paper's GT row).",
                needs_reference=True,
            )
        )
    return specs


METRICS: list[MetricSpec] = _specs()
register(*METRICS)


def chunk_audio(audio: np.ndarray, chunk: int = CHUNK_SAMPLES, hop: int = HOP_SAMPLES) -> np.ndarray:
    """Overlapping chunks of a mono signal, the last one zero-padded (the authors' ``chunk_audio``).

    Parameters
    ----------
    audio : ndarray, shape (n_samples,)
    chunk, hop : int
        Chunk length and hop in samples (default 5 s and 2.5 s at 16 kHz).

    Returns
    -------
    ndarray, float32, shape (n_chunks, chunk)
        ``1`` chunk when ``n_samples <= chunk``, else ``ceil((n_samples - chunk) / hop) + 1``.

    Examples
    --------
    >>> chunk_audio(np.ones(10), chunk=4, hop=2).shape
    (5, 4)
    """
    signal = np.asarray(audio, dtype=np.float32).reshape(-1)
    n = signal.shape[0]
    count = 1 if n <= chunk else math.ceil((n - chunk) / hop) + 1
    padded = np.pad(signal, (0, max(0, (count - 1) * hop + chunk - n)))
    return np.lib.stride_tricks.sliding_window_view(padded, chunk)[::hop][:count].copy()


def hpss_features(
    chunks: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    *,
    n_fft: int = 1024,
    win_length: int = 400,
    hop_length: int = 160,
    fmin: float = 60.0,
    fmax: float = 7800.0,
    n_mels: int = 64,
) -> np.ndarray:
    """COCOLA's harmonic/percussive log-mel features of 16 kHz chunks.

    Parameters
    ----------
    chunks : ndarray, shape (n_chunks, n_samples)
        Mono chunks at ``sample_rate`` Hz.
    sample_rate, n_fft, win_length, hop_length, fmin, fmax, n_mels
        The authors' settings (defaults).

    Returns
    -------
    ndarray, float32, shape (n_chunks, 2, n_mels, 1 + n_samples // hop_length)
        ``[harmonic, percussive]`` mel power in dB relative to each part's own maximum (``<= 0``; a silent
        chunk is all 0).
    """
    import librosa

    batch = np.atleast_2d(np.asarray(chunks, dtype=np.float32))
    # One multichannel STFT and HPSS (librosa filters each chunk independently: no mixing across chunks).
    stft = librosa.stft(batch, n_fft=n_fft, win_length=win_length, hop_length=hop_length)
    harmonic, percussive = librosa.decompose.hpss(stft)
    options = {"sr": sample_rate, "fmin": fmin, "fmax": fmax, "n_mels": n_mels}
    out = np.empty((batch.shape[0], 2, n_mels, stft.shape[-1]), dtype=np.float32)
    for i in range(batch.shape[0]):
        # One chunk at a time, as the authors call it: ref=max is per chunk and per part.
        for c, part in enumerate((harmonic[i], percussive[i])):
            mel = librosa.feature.melspectrogram(S=np.abs(part) ** 2, **options)
            out[i, c] = librosa.power_to_db(mel, ref=np.max)
    return out


def _network(embedding_dim: int) -> Any:
    import torch
    from efficientnet_pytorch import EfficientNet

    class CocolaNetwork(torch.nn.Module):
        """EfficientNet-B0 (2 channels, no top) -> linear 1280 -> d -> LayerNorm -> tanh; bilinear ``W``."""

        def __init__(self) -> None:
            super().__init__()
            self.backbone = EfficientNet.from_name("efficientnet-b0", include_top=False, in_channels=2)
            self.projection = torch.nn.Linear(1280, embedding_dim)
            self.layer_norm = torch.nn.LayerNorm(embedding_dim)
            self.w = torch.nn.Parameter(torch.zeros(embedding_dim, embedding_dim))

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            pooled = self.backbone(features).flatten(1)
            return torch.tanh(self.layer_norm(self.projection(pooled)))

    return CocolaNetwork()


class CocolaModel:
    """The COCOLA network from the published Lightning checkpoint.

    Parameters
    ----------
    checkpoint : path or None
        The ``.ckpt``; ``None`` reads ``$ACCBENCH_COCOLA_CHECKPOINT``; neither gives a
        :class:`~accbench.errors.ConfigError` saying where the file comes from.
    device : str
        torch device.
    batch_size : int
        Chunks per forward pass.
    threads : int or None
        torch intra-op threads while embedding (restored afterwards).
    """

    version = "1"

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        from accbench.digests import model_digest
        from accbench.metrics.checkpoints import COCOLA_STAND_INS, ModelInputType, load_checkpoint, map_state_dict

        checkpoint = user_file(checkpoint, CHECKPOINT_ENV)
        if checkpoint is None:
            raise ConfigError(f"no COCOLA checkpoint given. {CHECKPOINT_HELP}")
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise ConfigError(f"COCOLA checkpoint {str(path)!r} does not exist. {CHECKPOINT_HELP}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        try:
            import efficientnet_pytorch  # noqa: F401
            import torch
        except ImportError as error:
            raise ConfigError(
                f"COCOLA needs torch and efficientnet-pytorch (pip install 'accbench[paper]'): {error}"
            ) from None
        content = load_checkpoint(path, stand_ins=COCOLA_STAND_INS, what="COCOLA checkpoint")
        state = content.get("state_dict") if isinstance(content, dict) else None
        if not isinstance(state, dict):
            raise ConfigError(f"COCOLA checkpoint {str(path)!r} has no 'state_dict' (not a Lightning checkpoint)")
        hparams = content.get("hyper_parameters") or {}
        input_type = hparams.get("input_type", ModelInputType.DOUBLE_CHANNEL_HARMONIC_PERCUSSIVE)
        if input_type is not ModelInputType.DOUBLE_CHANNEL_HARMONIC_PERCUSSIVE:
            raise ConfigError(
                f"COCOLA checkpoint {str(path)!r} is a {getattr(input_type, 'value', input_type)!r} model; accbench "
                "scores the harmonic/percussive model (COCOLA_HP_v1)"
            )
        dim = int(hparams.get("embedding_dim", 512))
        network = _network(dim)
        map_state_dict(network, state, _PREFIXES, path=path, what="COCOLA checkpoint")
        self._torch = torch
        self._network = network.to(device).eval()
        self.device = device
        self.batch_size = int(batch_size)
        self.threads = threads
        self.dim = dim
        self.path = path
        digest = model_digest([path])
        self.id = f"cocola-v{self.version}-{digest[:20]}"
        self.label = f"cocola ({path.name}, sha256 {digest[:12]})"
        self._lock = threading.Lock()

    def embed(self, features: np.ndarray, mode: str = "both") -> np.ndarray:
        """Embeddings ``tanh(LayerNorm(linear(encoder(features))))`` of features ``(n, 2, 64, T)``.

        Parameters
        ----------
        features : ndarray, float32, shape (n, 2, n_mels, n_frames)
            From :func:`hpss_features`.
        mode : {"both", "harmonic", "percussive"}
            ``harmonic`` zeroes the percussive channel, ``percussive`` the harmonic one.

        Returns
        -------
        ndarray, float32, shape (n, dim)
        """
        if mode not in MODES:
            raise ConfigError(f"COCOLA mode must be one of {', '.join(MODES)}, got {mode!r}")
        torch = self._torch
        data = np.array(features, dtype=np.float32)
        if mode == "harmonic":
            data[:, 1] = 0.0
        elif mode == "percussive":
            data[:, 0] = 0.0
        out = np.zeros((data.shape[0], self.dim), dtype=np.float32)
        with self._lock, torch_threads(self.threads), torch.inference_mode():
            for start in range(0, data.shape[0], self.batch_size):
                part = torch.from_numpy(data[start : start + self.batch_size]).to(self.device)
                out[start : start + part.shape[0]] = self._network(part).float().cpu().numpy()
        return out

    def similarity(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Pairwise bilinear scores ``x_i^T W y_i`` of embeddings ``(n, dim)``: ``(n,)`` float64."""
        torch = self._torch
        with torch.inference_mode():
            w = self._network.w.detach().cpu()
            tx, ty = torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(np.asarray(y, np.float32))
            projection = torch.matmul(w, ty.t())  # the authors' BilinearSimilarity.pairwise
            return (tx * projection.t()).sum(dim=-1).double().numpy()


def get_model(checkpoint: str | os.PathLike | CocolaModel | None = None, **options: Any) -> CocolaModel:
    """The :class:`CocolaModel` of ``checkpoint`` (built once per process and options)."""
    if isinstance(checkpoint, CocolaModel):
        return checkpoint
    checkpoint = user_file(checkpoint, CHECKPOINT_ENV)
    if checkpoint is None:
        raise ConfigError(f"no COCOLA checkpoint given. {CHECKPOINT_HELP}")
    return shared_model(CocolaModel, checkpoint, options, default_batch_size=16)


def _prepare(audio: np.ndarray, sample_rate: int, normalize_lufs: float | None, song: str | None) -> np.ndarray:
    """Mono 16 kHz float32 ``(n,)``: loudness-normalised at its own rate first (as the paper writes stems)."""
    signal = as_channels_first(audio, name="audio", song=song)
    if not np.all(np.isfinite(signal)):
        raise DataError("audio contains NaN or infinite samples", song=song)
    mono = signal.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
    if normalize_lufs is not None:
        from accbench.loudness import normalize_loudness

        mono = normalize_loudness(mono, sample_rate, target_lufs=float(normalize_lufs), song=song).audio
    return resample(mono, int(sample_rate), SAMPLE_RATE)[0]


def cocola_embeddings(
    audio: np.ndarray,
    sample_rate: int,
    model: CocolaModel,
    modes: Sequence[str] = MODES,
    *,
    normalize_lufs: float | None = -18.0,
    cache: AnalysisCache | None = None,
    song: str | None = None,
) -> dict[str, np.ndarray]:
    """Chunk embeddings of one stem in each mode, cached by content + checkpoint digest + mode.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
        A stem at ``sample_rate`` Hz.
    sample_rate : int
    model : CocolaModel
    modes : sequence of {"both", "harmonic", "percussive"}
    normalize_lufs : float or None
        Loudness target before resampling (the paper: -18 LUFS); ``None`` scores the audio as it is.
    cache : AnalysisCache or None
        ``None`` uses the process default.
    song : str or None
        Song id for messages.

    Returns
    -------
    dict of str to ndarray, float32, shape (n_chunks, dim)
    """
    cache = default_cache() if cache is None else cache
    signal = as_channels_first(audio, name="audio", song=song)
    content = audio_hash(signal, sample_rate)
    features: list[np.ndarray] = []  # computed once for all modes, only on a cache miss

    def compute(mode: str) -> dict[str, np.ndarray]:
        if not features:
            features.append(hpss_features(chunk_audio(_prepare(signal, sample_rate, normalize_lufs, song))))
        return {"embeddings": model.embed(features[0], mode)}

    params = {"normalize_lufs": normalize_lufs, "chunk": CHUNK_SAMPLES, "hop": HOP_SAMPLES}
    return {
        mode: cache.get_or_compute(
            "cocola", model.id, content, {**params, "mode": mode}, lambda mode=mode: compute(mode)
        )["embeddings"]
        for mode in modes
    }


def evaluate(
    input_audio: np.ndarray,
    output_audio: np.ndarray,
    sample_rate: int,
    reference: np.ndarray | None = None,
    *,
    checkpoint: str | os.PathLike | CocolaModel | None = None,
    modes: Sequence[str] = MODES,
    normalize_lufs: float | None = -18.0,
    cache: AnalysisCache | None = None,
    song: str | None = None,
    **model_options: Any,
) -> dict[str, float | str]:
    """The per-song COCOLA metrics of one output (and of the reference, the GT row).

    Parameters
    ----------
    input_audio, output_audio : ndarray, shape (channels, n) or (n,)
        The input and the model's output at ``sample_rate`` Hz, the same length (``score`` ensures it).
    sample_rate : int
    reference : ndarray or None
        The reference accompaniment; without it the ``reference_*`` metrics are NaN.
    checkpoint : path, CocolaModel or None
        See :class:`CocolaModel`.
    modes : sequence of str
        Which of ``both``, ``harmonic``, ``percussive`` to compute (others are NaN).
    normalize_lufs : float or None
        See :func:`cocola_embeddings`.
    cache, song
        As in :func:`cocola_embeddings`.
    **model_options
        ``device``, ``batch_size``, ``threads`` of :class:`CocolaModel`.

    Returns
    -------
    dict
        The six ``cocola.*`` metrics (floats) and ``cocola.checkpoint`` (the model's label).
    """
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        raise ConfigError(f"unknown COCOLA mode {unknown[0]!r}; known: {', '.join(MODES)}")
    model = get_model(checkpoint, **model_options)
    options = {"normalize_lufs": normalize_lufs, "cache": cache, "song": song}
    x = cocola_embeddings(input_audio, sample_rate, model, modes, **options)
    scores: dict[str, float | str] = {spec.name: math.nan for spec in METRICS}
    for name, stem in (("", output_audio), ("reference_", reference)):
        if stem is None:
            continue
        y = cocola_embeddings(stem, sample_rate, model, modes, **options)
        for mode in modes:
            if x[mode].shape != y[mode].shape:
                raise DataError(
                    f"COCOLA: input has {x[mode].shape[0]} chunks but the {'reference' if name else 'output'} "
                    f"{y[mode].shape[0]}; give them the same length",
                    song=song,
                )
            scores[f"cocola.{name}{_MODE_METRIC[mode]}"] = float(np.mean(model.similarity(x[mode], y[mode])))
    scores["cocola.checkpoint"] = model.label
    return scores


# ----------------------------------------------------------------------------------------------------------
# The cocola group of accbench.metrics.score

_NAMES = tuple(spec.name for spec in METRICS)
_REFERENCE = tuple(spec.name for spec in METRICS if spec.needs_reference)


def missing_checkpoint(checkpoint: str | os.PathLike | CocolaModel | None = None) -> str:
    """Why no COCOLA checkpoint can be used (naming the file and where it comes from), or ``""``."""
    if isinstance(checkpoint, CocolaModel):
        return ""
    path = user_file(checkpoint, CHECKPOINT_ENV)
    if path is None:
        return f"no COCOLA checkpoint: {CHECKPOINT_HELP}"
    if not Path(path).expanduser().is_file():
        return f"COCOLA checkpoint {str(path)!r} not found: {CHECKPOINT_HELP}"
    return ""


def _score_group(song: SongAnalyses, wanted: frozenset[str]) -> GroupScores:
    """The COCOLA metrics with ``song.options["cocola"]`` as options of :func:`evaluate`.

    Without a checkpoint the metrics are skipped with the reason (which file, from where), so a sweep without
    the file still completes; a checkpoint that cannot be loaded is an error.
    """
    options = dict(song.options.get("cocola") or {})
    reason = missing_checkpoint(options.get("checkpoint"))
    if reason:
        scores = GroupScores()
        scores.skip(_NAMES, reason)
        return scores
    reference = None if song.reference is None else song.reference.audio
    found = evaluate(
        song.input.audio, song.output.audio, song.sample_rate, reference, cache=song.cache, song=song.song, **options
    )
    scores = GroupScores(info={"cocola.checkpoint": str(found.pop("cocola.checkpoint"))})
    for name, value in found.items():
        reason = "no reference accompaniment" if name in _REFERENCE and reference is None else "mode not requested"
        scores.put(name, float(value), reason)
    return scores


GROUP = MetricGroup(
    name="cocola",
    metrics=_NAMES,
    needs={"input": _NAMES, "output": _NAMES, "reference_audio": _REFERENCE, "embeddings": _NAMES},
    evaluate=_score_group,
    opt_in=True,
)
"""The COCOLA group (opt-in: it needs the published checkpoint)."""
