"""Audio embedders for the embedding metrics: LAION CLAP (through transformers) and a weights-free spectral one.

An embedder maps equal-length mono windows at its own sample rate to L2-normalised vectors. Two backends:

- ``clap``: LAION CLAP's audio tower (HTSAT + projection) as implemented by ``transformers``
  (``ClapAudioModelWithProjection`` + ``ClapFeatureExtractor``), loaded from a *local* model folder
  (``model=`` / ``--clap-model DIR`` / ``$ACCBENCH_CLAP_MODEL``). Nothing is ever downloaded: loading passes
  ``local_files_only=True`` and refuses anything that is not an existing folder or file. 48 kHz, 10 s windows.
- ``spectral``: log-mel statistics and chroma, no weights; for CI and smoke runs. Its scores are **not
  comparable to CLAP**: its metrics carry a ``spectral_`` prefix and its label says so.

:func:`embed_audio` turns a whole signal into window embeddings (down-mix, resample with soxr, window, batch,
embed) and caches them by audio content hash + embedder id (model weights included) + window parameters, so a
changed file, a changed model or changed windows never reuse stale embeddings.

torch and transformers are imported only when a CLAP embedder is built.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import scipy.fft

from accbench.audio import as_channels_first, resample
from accbench.digests import model_digest
from accbench.errors import ConfigError, DataError
from accbench.metrics.cache import AnalysisCache, audio_hash, default_cache
from accbench.suggest import did_you_mean
from accbench.threads import torch_threads

__all__ = [
    "CLAP_MODEL_ENV",
    "ClapEmbedder",
    "Embedder",
    "SpectralEmbedder",
    "embed_audio",
    "get_embedder",
    "window_starts",
]

CLAP_MODEL_ENV = "ACCBENCH_CLAP_MODEL"
"""Environment variable naming the local CLAP model folder when none is passed."""

_CLAP_HELP = (
    "no CLAP model given: pass --clap-model DIR (or model=DIR), or set ACCBENCH_CLAP_MODEL, to a local folder "
    "holding a LAION CLAP checkpoint in transformers format (config.json, preprocessor_config.json, "
    "model.safetensors), e.g. a copy of the Hugging Face repository laion/larger_clap_music. "
    "accbench never downloads models; "
    "see docs/embeddings.md. For smoke runs without weights use embedder='spectral' (not comparable to CLAP)."
)


@runtime_checkable
class Embedder(Protocol):
    """What the embedding metrics need from an audio embedder.

    Attributes
    ----------
    name : str
        Backend name (``"clap"``, ``"spectral"``).
    id : str
        Identity for cache keys: changes whenever the embeddings could change (code version, weights, config).
    label : str
        Human-readable description written to results (``embedding.embedder``).
    metric_prefix : str
        Prefix of the metric names (``""`` for CLAP, ``"spectral_"`` for the spectral embedder).
    sample_rate : int
        Hz of the windows ``embed`` accepts.
    window_s : float
        Longest window the embedder takes, in seconds (CLAP: 10 s).
    dim : int
        Embedding dimension ``d``.
    """

    name: str
    id: str
    label: str
    metric_prefix: str
    sample_rate: int
    window_s: float
    dim: int

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Embed mono windows ``(n, n_samples)`` float32 at ``sample_rate`` into ``(n, dim)`` float32 unit vectors."""
        ...


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A zero vector has no direction; it stays zero (neither backend produces one: see their docstrings).
    return np.where(norms > 0, vectors / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)


class SpectralEmbedder:
    """Weights-free embedding: log-mel mean and spread, log-chroma mean and a constant, L2-normalised.

    Per window (mono, 22050 Hz): power spectra (Hann, ``n_fft`` 2048, hop 512, 0 dB = full-scale sine) are
    summarised as the mean and standard deviation over frames of 64 log-mel bands and the mean of 12 log-chroma
    bins, each mapped from ``[-80 dB, 0 dB]`` to ``[0, 1]`` (below -80 dB is 0), plus a constant component 0.25.
    Digital silence is therefore the unit vector of that constant: a defined embedding, nearly orthogonal to
    music. 141 dimensions. Deterministic; about 20 ms per 10 s window on one CPU core.

    Its values are **not comparable to CLAP** (or to anything published); its metrics are named
    ``embedding.spectral_*`` and labelled ``spectral (not comparable to CLAP)``.
    """

    name = "spectral"
    version = "1"
    metric_prefix = "spectral_"
    label = "spectral (not comparable to CLAP)"

    def __init__(self, *, sample_rate: int = 22050, window_s: float = 10.0, n_fft: int = 2048, hop: int = 512) -> None:
        import librosa  # core dependency; imported here so importing the metrics package stays light

        self.sample_rate = int(sample_rate)
        self.window_s = float(window_s)
        self.n_fft = int(n_fft)
        self.hop = int(hop)
        self._window = np.hanning(self.n_fft + 1)[:-1].astype(np.float32)  # periodic Hann
        self._mel = librosa.filters.mel(sr=self.sample_rate, n_fft=self.n_fft, n_mels=64).astype(np.float32)
        chroma = librosa.filters.chroma(sr=self.sample_rate, n_fft=self.n_fft)
        self._chroma = (chroma / np.maximum(chroma.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)
        self.dim = 64 + 64 + 12 + 1
        self.id = f"spectral-v{self.version}-sr{self.sample_rate}-fft{self.n_fft}-hop{self.hop}"

    def _scaled_db(self, power: np.ndarray) -> np.ndarray:
        return np.clip((10.0 * np.log10(power.astype(np.float64) + 1e-12) + 80.0) / 80.0, 0.0, None)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Embed ``(n, n_samples)`` mono windows at 22050 Hz into ``(n, 141)`` float32 unit vectors."""
        batch = np.atleast_2d(np.asarray(batch, dtype=np.float32))
        # A few windows at a time keeps the (windows, frames, bins) spectra small.
        parts = [self._embed(batch[i : i + 4]) for i in range(0, batch.shape[0], 4)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        n, length = batch.shape
        if length < self.n_fft:
            batch = np.pad(batch, ((0, 0), (0, self.n_fft - length)))
        frames = np.lib.stride_tricks.sliding_window_view(batch, self.n_fft, axis=1)[:, :: self.hop]
        spectrum = scipy.fft.rfft(frames * self._window, axis=-1)
        power = (spectrum.real**2 + spectrum.imag**2) * np.float32(4.0 / float(self._window.sum()) ** 2)
        n_frames = power.shape[1]
        power = power.reshape(n * n_frames, -1)  # one 2-D product is much faster than a stacked one
        log_mel = self._scaled_db(power @ self._mel.T).reshape(n, n_frames, -1)
        log_chroma = self._scaled_db(power @ self._chroma.T).reshape(n, n_frames, -1)
        features = np.concatenate(
            [log_mel.mean(axis=1), log_mel.std(axis=1), log_chroma.mean(axis=1), np.full((n, 1), 0.25)], axis=1
        )
        return _l2_normalise(features)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report (unused text-tower weights) and progress bars while loading."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()


class ClapEmbedder:
    """LAION CLAP audio embeddings through ``transformers``, from a local model folder.

    Parameters
    ----------
    model : path or None
        A folder in transformers format (``config.json`` of a ``ClapModel`` or ``ClapAudioModelWithProjection``,
        ``preprocessor_config.json``, weights). ``None`` reads
        ``$ACCBENCH_CLAP_MODEL``; neither gives a :class:`~accbench.errors.ConfigError` saying what to do.
    device : str
        torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
    batch_size : int
        Windows per forward pass (default 8).
    threads : int or None
        torch intra-op threads while embedding (restored afterwards); ``None`` leaves torch's setting.
    dtype : {"float32", "float16", "bfloat16"}
        Model precision; half precision only makes sense on a GPU.
    quantize : bool
        Round windows to 16-bit PCM after clipping to [-1, 1] before the features, as LAION's README and fadtk
        do (default ``True``).

    Notes
    -----
    Preprocessing is LAION's: mono, 48 kHz (resampled by :func:`embed_audio` with soxr), windows of at most
    ``max_length_s`` (10 s) from the folder's ``preprocessor_config.json``, shorter windows repeat-padded
    (``padding="repeatpad"``), log-mel features by ``ClapFeatureExtractor``. ``is_longer`` is always ``False``:
    windows are never longer than the model's input, and transformers' training-time trick of marking a random
    clip of the batch as longer (which makes an embedding depend on its batch and on the global numpy RNG) is
    not applied; the global numpy RNG state is restored after feature extraction. Embeddings are the projected
    audio embeddings, L2-normalised (as ``CLAP_Module.get_audio_embedding_from_data`` returns them).
    """

    name = "clap"
    version = "1"
    metric_prefix = ""

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 8,
        threads: int | None = None,
        dtype: str = "float32",
        quantize: bool = True,
    ) -> None:
        if model is None or str(model) == "":
            model = os.environ.get(CLAP_MODEL_ENV) or None
        if model is None:
            raise ConfigError(_CLAP_HELP)
        path = Path(model).expanduser()
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if dtype not in ("float32", "float16", "bfloat16"):
            raise ConfigError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}")
        try:
            import torch
            from transformers import ClapAudioModelWithProjection, ClapFeatureExtractor
        except ImportError as error:
            raise ConfigError(
                f"the CLAP embedder needs torch and transformers (pip install 'accbench[clap]'): {error}"
            ) from None
        self._torch = torch
        self.device = device
        self.batch_size = int(batch_size)
        self.threads = threads
        self.quantize = bool(quantize)
        self._dtype = getattr(torch, dtype)
        if path.is_file():
            # LAION's .pt checkpoints need a state-dict mapping onto the transformers model; not supported yet.
            raise ConfigError(
                f"{str(path)!r} is a file; the CLAP embedder loads a folder in transformers format. LAION's original "
                ".pt checkpoints are not supported yet: use their transformers-format conversions "
                "(see docs/embeddings.md)."
            )
        if path.is_dir():
            missing = [name for name in ("config.json", "preprocessor_config.json") if not (path / name).is_file()]
            weights = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
            if missing or not weights:
                what = ", ".join(missing + ([] if weights else ["*.safetensors or *.bin weights"]))
                raise ConfigError(f"CLAP model folder {str(path)!r} lacks {what}. {_CLAP_HELP}")
            # local_files_only: a local folder is read as is; nothing is looked up on a hub.
            try:
                with _quiet_transformers():
                    network, info = ClapAudioModelWithProjection.from_pretrained(
                        str(path), local_files_only=True, output_loading_info=True
                    )
                    extractor = ClapFeatureExtractor.from_pretrained(str(path), local_files_only=True)
            except (OSError, ValueError, RuntimeError, KeyError) as error:
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise ConfigError(
                    f"CLAP model folder {str(path)!r} cannot be loaded (its config does not match its weights, or "
                    f"it is not a CLAP checkpoint): {reason}"
                ) from None
            # transformers fills missing weights with random ones and only warns: that would be a silent bug here.
            missing = sorted(info.get("missing_keys", []))
            if missing:
                raise ConfigError(
                    f"CLAP model folder {str(path)!r} lacks {len(missing)} audio weights (e.g. {missing[0]!r}): "
                    "its config does not match its weights"
                )
            files = [path / "config.json", path / "preprocessor_config.json", *weights]
        else:
            raise ConfigError(f"CLAP model {str(path)!r} does not exist. {_CLAP_HELP}")
        self.model_path = path
        self._network = network.to(device=device, dtype=self._dtype).eval()
        self._extractor = extractor
        self.sample_rate = int(extractor.sampling_rate)
        self.window_s = float(extractor.max_length_s)
        self.dim = int(network.config.projection_dim)
        digest = model_digest(files)
        self.id = f"clap-v{self.version}-{digest[:20]}-q{int(self.quantize)}"
        self.label = f"clap ({path.name}, sha256 {digest[:12]})"
        self._lock = threading.Lock()

    def _features(self, batch: np.ndarray) -> np.ndarray:
        if self.quantize:
            batch = np.round(np.clip(batch, -1.0, 1.0) * 32767.0) / 32767.0
        state = np.random.get_state()  # the feature extractor may draw from numpy's global RNG
        try:
            features = self._extractor(
                list(np.asarray(batch, dtype=np.float64)), sampling_rate=self.sample_rate, return_tensors="np"
            )
        finally:
            np.random.set_state(state)
        return np.asarray(features["input_features"], dtype=np.float32)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Embed mono windows ``(n, n_samples)`` at 48 kHz (``n_samples <= window_s * 48000``) into ``(n, d)``.

        Returns
        -------
        ndarray, float32, shape (n, dim)
            L2-normalised projected CLAP audio embeddings; batches of ``batch_size`` windows per forward pass.
        """
        batch = np.atleast_2d(np.asarray(batch, dtype=np.float32))
        limit = round(self.window_s * self.sample_rate)
        if batch.shape[1] > limit:
            raise ConfigError(
                f"CLAP windows are at most {self.window_s:g} s ({limit} samples at {self.sample_rate} Hz); "
                f"got {batch.shape[1]} samples: use window_s <= {self.window_s:g}"
            )
        torch = self._torch
        out = np.zeros((batch.shape[0], self.dim), dtype=np.float32)
        with self._lock, torch_threads(self.threads), torch.inference_mode():
            for start in range(0, batch.shape[0], self.batch_size):
                part = batch[start : start + self.batch_size]
                features = torch.from_numpy(self._features(part)).to(device=self.device, dtype=self._dtype)
                is_longer = torch.zeros((part.shape[0], 1), dtype=torch.bool, device=self.device)
                embeds = self._network(input_features=features, is_longer=is_longer).audio_embeds
                out[start : start + part.shape[0]] = embeds.float().cpu().numpy()
        return _l2_normalise(out)


_EMBEDDERS: dict[str, type] = {"clap": ClapEmbedder, "spectral": SpectralEmbedder}
_INSTANCES: dict[tuple[str, str], Embedder] = {}
_INSTANCES_LOCK = threading.Lock()


def get_embedder(name: str | Embedder = "auto", **options: Any) -> Embedder:
    """The embedder called ``name``, built once per process for the same options.

    Parameters
    ----------
    name : {"auto", "clap", "spectral"} or Embedder
        ``"auto"`` is CLAP when a model is given (``model=``) or ``$ACCBENCH_CLAP_MODEL`` is set, else spectral;
        the metric names and label always say which one ran. An :class:`Embedder` instance is returned as is.
    **options
        Keyword arguments of the backend (:class:`ClapEmbedder`: ``model``, ``device``, ``batch_size``,
        ``threads``, ``dtype``, ``quantize``; :class:`SpectralEmbedder`: ``sample_rate``, ``window_s``).

    Raises
    ------
    ConfigError
        Unknown name, or CLAP without a model.
    """
    if not isinstance(name, str):
        if isinstance(name, Embedder):
            return name
        raise ConfigError(f"embedder must be a name or an Embedder, got {type(name).__name__}")
    if name == "auto":
        name = "clap" if options.get("model") or os.environ.get(CLAP_MODEL_ENV) else "spectral"
    if name not in _EMBEDDERS:
        known = ["auto", *sorted(_EMBEDDERS)]
        raise ConfigError(f"unknown embedder {name!r}{did_you_mean(name, known)}; known: {', '.join(known)}")
    if name == "spectral":
        options = {k: v for k, v in options.items() if k in ("sample_rate", "window_s", "n_fft", "hop")}
    elif options.get("model") is None:
        options["model"] = os.environ.get(CLAP_MODEL_ENV) or None
    key = (name, json.dumps(options, sort_keys=True, default=str))
    with _INSTANCES_LOCK:
        if key not in _INSTANCES:
            _INSTANCES[key] = _EMBEDDERS[name](**options)
        return _INSTANCES[key]


def window_starts(n_samples: int, window_samples: int, hop_samples: int) -> np.ndarray:
    """Start samples of the analysis windows of a signal.

    Windows start every ``hop_samples`` while they fit; when the last one ends before the signal does, one more
    window is aligned to the end, so every window has full length and every sample is covered. A signal shorter
    than one window is one (short) window starting at 0; an empty signal has none.

    Parameters
    ----------
    n_samples, window_samples, hop_samples : int

    Returns
    -------
    ndarray of int64, shape (n_windows,)

    Examples
    --------
    >>> window_starts(25, 10, 5).tolist()
    [0, 5, 10, 15]
    >>> window_starts(27, 10, 5).tolist()
    [0, 5, 10, 15, 17]
    """
    if window_samples < 1 or hop_samples < 1:
        raise ConfigError(f"window and hop must be >= 1 sample, got {window_samples} and {hop_samples}")
    # An empty signal has no windows; a short one is a single window.
    if n_samples <= 0:
        return np.zeros(0, dtype=np.int64)
    if n_samples <= window_samples:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_samples - window_samples + 1, hop_samples, dtype=np.int64)
    if starts[-1] + window_samples < n_samples:
        starts = np.append(starts, n_samples - window_samples)
    return starts


def _windows(audio: np.ndarray, sample_rate: int, window_s: float, hop_s: float) -> np.ndarray:
    window = max(1, round(window_s * sample_rate))
    hop = max(1, round(hop_s * sample_rate))
    starts = window_starts(audio.shape[0], window, hop)
    if starts.size == 0:
        return np.zeros((0, window), dtype=np.float32)
    length = min(window, audio.shape[0])
    return np.stack([audio[s : s + length] for s in starts]).astype(np.float32)


def embed_audio(
    audio: np.ndarray,
    sample_rate: int,
    embedder: str | Embedder = "auto",
    *,
    window_s: float | None = None,
    hop_s: float | None = None,
    cache: AnalysisCache | None = None,
    song: str | None = None,
) -> np.ndarray:
    """Window embeddings of one signal, cached by content.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
        Audio at ``sample_rate``; channels are averaged to mono.
    sample_rate : int
        Hz of ``audio``; resampled to the embedder's rate with soxr.
    embedder : str or Embedder
        See :func:`get_embedder`.
    window_s, hop_s : float or None
        Window length and hop in seconds; defaults: the embedder's window (10 s) and half of it.
    cache : AnalysisCache or None
        Where embeddings are cached; ``None`` uses :func:`~accbench.metrics.cache.default_cache`. The key is the
        SHA-256 of the audio content (shape, dtype, sample rate), the embedder id (which includes the model
        weights' hash) and the window parameters.
    song : str or None
        Song id for error messages.

    Returns
    -------
    ndarray, float32, shape (n_windows, d)
        Windows as in :func:`window_starts`; ``(0, d)`` for empty audio.
    """
    model = get_embedder(embedder)
    window_s = float(model.window_s if window_s is None else window_s)
    hop_s = float(window_s / 2 if hop_s is None else hop_s)
    if not (math.isfinite(window_s) and window_s > 0 and math.isfinite(hop_s) and hop_s > 0):
        raise ConfigError(f"window_s and hop_s must be positive, got {window_s} and {hop_s}")
    if window_s > model.window_s + 1e-9:
        raise ConfigError(f"window_s={window_s:g} is longer than the {model.name} embedder's {model.window_s:g} s")
    signal = as_channels_first(audio, name="audio", song=song)
    if not np.all(np.isfinite(signal)):
        raise DataError("audio contains NaN or infinite samples", song=song)
    cache = default_cache() if cache is None else cache

    def compute() -> dict[str, np.ndarray]:
        mono = signal.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
        mono = resample(mono, int(sample_rate), model.sample_rate)[0]
        windows = _windows(mono, model.sample_rate, window_s, hop_s)
        if windows.shape[0] == 0:
            return {"embeddings": np.zeros((0, model.dim), dtype=np.float32)}
        return {"embeddings": np.asarray(model.embed(windows), dtype=np.float32)}

    params = {"window_s": window_s, "hop_s": hop_s}
    stored = cache.get_or_compute(f"embedding-{model.name}", model.id, audio_hash(signal, sample_rate), params, compute)
    return stored["embeddings"]
