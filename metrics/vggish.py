"""VGGish embeddings and the VGGish Frechet Audio Distance as the seed paper computes it.

The seed paper (Wu et al., lukewys/stream-music-gen, ``stream_music_gen/eval/fad_eval.py``) computes FAD with
its fork of ``frechet_audio_distance`` (maswang32/frechet-audio-distance): VGGish (Hershey et al. 2017, the
PyTorch port harritaylor/torchvggish) at 16 kHz, ``use_pca=False`` (no PCA/quantisation post-processing) and
``use_activation=False`` (the final ReLU of the embedding head removed), one 128-d embedding per 0.96 s of audio,
pooled over every song of a run; the background (reference) set is the reference accompaniment stems and the
eval set the generated stems (``--sub_fad``: the mixes).

Here:

- The network is PyPI ``torchvggish``'s ``VGG`` (its parameter names: ``features.*``, ``embeddings.*``) with the
  last ReLU dropped, loaded strictly from the published weights file ``vggish-10086976.pth`` at a local path
  (``weights=`` or ``$ACCBENCH_VGGISH_WEIGHTS``); nothing is downloaded (``torchvggish``'s own ``vggish()``
  would download, so it is never called). The file is read by
  :func:`accbench.metrics.checkpoints.load_checkpoint` (``weights_only``).
- The log-mel examples are ``torchvggish.vggish_input.waveform_to_examples`` (the same code as the hub
  version the authors load): 25 ms windows, 10 ms hop, 64 mel bands 125-7500 Hz, ``log(mel + 0.01)``,
  96-frame examples without overlap.
- Each stem is first loudness-normalised to -18 LUFS with a 0.99 peak guard (:mod:`accbench.loudness`), as the
  paper writes every stem it scores (``normalize_lufs=None`` skips it), then down-mixed to mono and resampled
  to 16 kHz with soxr (the paper: torchaudio's Kaiser sinc; see ``docs/paper-protocol.md``).
- FAD over songs uses accbench's stable Frechet distance (:func:`accbench.metrics.frechet.frechet_over_songs`:
  seeded bootstrap interval over songs, FAD-infinity); :func:`fad_per_song` gives fadtk's per-song FAD (each
  song's generated embeddings against the whole reference set).

Embeddings are cached by audio content + weights digest, like CLAP's.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from accbench.audio import as_channels_first, resample
from accbench.errors import ConfigError, DataError
from accbench.metrics.cache import AnalysisCache, audio_hash, default_cache
from accbench.metrics.checkpoints import shared_model, user_file
from accbench.metrics.registry import MetricSpec, register
from accbench.threads import torch_threads

__all__ = [
    "METRICS",
    "WEIGHTS_ENV",
    "VggishModel",
    "fad_over_songs",
    "fad_per_song",
    "get_model",
    "vggish_embeddings",
    "vggish_examples",
]

WEIGHTS_ENV = "ACCBENCH_VGGISH_WEIGHTS"
"""Environment variable naming the VGGish weights file when none is passed."""

SAMPLE_RATE = 16000
EMBEDDING_DIM = 128

WEIGHTS_HELP = (
    "VGGish FAD needs the published torchvggish weights vggish-10086976.pth (from "
    "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth): "
    f"pass weights=PATH (--vggish-weights) or set ${WEIGHTS_ENV}"
)

METRICS: list[MetricSpec] = [
    MetricSpec(
        "vggish.fad",
        "lower",
        "",
        (0.0, math.inf),
        "VGGish FAD (16 kHz, no PCA, no final ReLU) of generated vs reference accompaniment stems, pooled over the "
        "songs of one (model, config): the paper's FAD.",
        needs_reference=True,
    ),
    MetricSpec(
        "vggish.fad_inf",
        "lower",
        "",
        (-math.inf, math.inf),
        "VGGish FAD-infinity (extrapolated to infinitely many generated frames), per (model, config).",
        needs_reference=True,
    ),
    MetricSpec(
        "vggish.fad_song",
        "lower",
        "",
        (0.0, math.inf),
        "fadtk's per-song VGGish FAD: one song's generated frames vs the whole reference set of its config.",
        needs_reference=True,
    ),
]
register(*METRICS)


def _network() -> Any:
    import torch
    from torchvggish.torchvggish import VGG, make_layers

    network = VGG(make_layers(), postprocess=False)
    # use_activation=False: the embedding head without its final ReLU (frechet_audio_distance's VGGish path).
    network.embeddings = torch.nn.Sequential(*list(network.embeddings.children())[:-1])
    return network


class VggishModel:
    """VGGish from the published torchvggish state dict, without the final ReLU and without PCA.

    Parameters
    ----------
    weights : path or None
        ``vggish-10086976.pth``; ``None`` reads ``$ACCBENCH_VGGISH_WEIGHTS``.
    device : str
        torch device.
    batch_size : int
        0.96 s examples per forward pass.
    threads : int or None
        torch intra-op threads while embedding (restored afterwards).
    """

    version = "1"

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        threads: int | None = None,
    ) -> None:
        from accbench.digests import model_digest
        from accbench.metrics.checkpoints import load_checkpoint, map_state_dict

        weights = user_file(weights, WEIGHTS_ENV)
        if weights is None:
            raise ConfigError(f"no VGGish weights given. {WEIGHTS_HELP}")
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ConfigError(f"VGGish weights {str(path)!r} do not exist. {WEIGHTS_HELP}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        try:
            import torch
            import torchvggish  # noqa: F401
        except ImportError as error:
            raise ConfigError(f"VGGish needs torch and torchvggish (pip install 'accbench[paper]'): {error}") from None
        state = load_checkpoint(path, what="VGGish weights")
        if not isinstance(state, dict):
            raise ConfigError(f"VGGish weights {str(path)!r} are not a state dict")
        network = _network()
        identity = {"features.": "features.", "embeddings.": "embeddings."}
        map_state_dict(network, state, identity, path=path, what="VGGish weights")
        self._torch = torch
        self._network = network.to(device).eval()
        self.device = device
        self.batch_size = int(batch_size)
        self.threads = threads
        self.path = path
        digest = model_digest([path])
        self.id = f"vggish-v{self.version}-{digest[:20]}"
        self.label = f"vggish ({path.name}, sha256 {digest[:12]})"
        self._lock = threading.Lock()

    def embed(self, examples: np.ndarray) -> np.ndarray:
        """Embeddings ``(n, 128)`` float32 of log-mel examples ``(n, 96, 64)`` (:func:`vggish_examples`)."""
        torch = self._torch
        data = np.asarray(examples, dtype=np.float32)
        out = np.zeros((data.shape[0], EMBEDDING_DIM), dtype=np.float32)
        with self._lock, torch_threads(self.threads), torch.inference_mode():
            for start in range(0, data.shape[0], self.batch_size):
                part = torch.from_numpy(data[start : start + self.batch_size, None]).to(self.device)
                out[start : start + part.shape[0]] = self._network(part).float().cpu().numpy()
        return out


def get_model(weights: str | os.PathLike | VggishModel | None = None, **options: Any) -> VggishModel:
    """The :class:`VggishModel` of ``weights`` (built once per process and options)."""
    if isinstance(weights, VggishModel):
        return weights
    weights = user_file(weights, WEIGHTS_ENV)
    if weights is None:
        raise ConfigError(f"no VGGish weights given. {WEIGHTS_HELP}")
    return shared_model(VggishModel, weights, options, default_batch_size=64)


def vggish_examples(audio: np.ndarray) -> np.ndarray:
    """VGGish's log-mel examples of mono 16 kHz audio (``torchvggish.vggish_input.waveform_to_examples``).

    Parameters
    ----------
    audio : ndarray, shape (n_samples,)
        Mono, 16 kHz.

    Returns
    -------
    ndarray, float64, shape (n_examples, 96, 64)
        One example per full 0.96 s; ``(0, 96, 64)`` when the audio is shorter than one example (the
        authors' code fails there).
    """
    from torchvggish.vggish_input import waveform_to_examples

    signal = np.asarray(audio).reshape(-1)
    # One example needs 96 hops of 10 ms plus one 25 ms window: 0.96 s + 15 ms.
    if signal.shape[0] < 95 * 160 + 400:
        return np.zeros((0, 96, 64))
    return np.asarray(waveform_to_examples(signal, SAMPLE_RATE, return_tensor=False))


def vggish_embeddings(
    audio: np.ndarray,
    sample_rate: int,
    model: VggishModel | str | os.PathLike | None = None,
    *,
    normalize_lufs: float | None = -18.0,
    cache: AnalysisCache | None = None,
    song: str | None = None,
) -> np.ndarray:
    """VGGish embeddings of one stem, one per 0.96 s, cached by content + weights digest.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
        At ``sample_rate`` Hz.
    sample_rate : int
    model : VggishModel, path or None
        See :func:`get_model`.
    normalize_lufs : float or None
        Loudness target before resampling (the paper: -18 LUFS); ``None`` embeds the audio as it is.
    cache : AnalysisCache or None
    song : str or None

    Returns
    -------
    ndarray, float32, shape (n_examples, 128)
    """
    network = get_model(model)
    signal = as_channels_first(audio, name="audio", song=song)
    if not np.all(np.isfinite(signal)):
        raise DataError("audio contains NaN or infinite samples", song=song)
    cache = default_cache() if cache is None else cache

    def compute() -> dict[str, np.ndarray]:
        mono = signal.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
        if normalize_lufs is not None:
            from accbench.loudness import normalize_loudness

            mono = normalize_loudness(mono, sample_rate, target_lufs=float(normalize_lufs), song=song).audio
        examples = vggish_examples(resample(mono, int(sample_rate), SAMPLE_RATE)[0])
        if examples.shape[0] == 0:
            return {"embeddings": np.zeros((0, EMBEDDING_DIM), dtype=np.float32)}
        return {"embeddings": network.embed(examples)}

    content = audio_hash(signal, sample_rate)
    return cache.get_or_compute("vggish", network.id, content, {"normalize_lufs": normalize_lufs}, compute)[
        "embeddings"
    ]


def fad_over_songs(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    *,
    bootstrap: int = 200,
    seed: int = 0,
    infinity: bool = True,
) -> dict[str, float]:
    """The paper's FAD of one (model, config): all songs' generated vs reference VGGish frames, pooled.

    Parameters
    ----------
    generated, reference : sequence of ndarray, each shape (n_i, 128)
        Per song (same order): embeddings of the generated stem and of the reference stem.
    bootstrap : int
        Resamples of songs for the 95 % interval (0: none).
    seed : int
    infinity : bool
        Also FAD-infinity.

    Returns
    -------
    dict
        ``vggish.fad``, ``vggish.fad_ci_low``, ``vggish.fad_ci_high``, ``vggish.fad_n_songs``,
        ``vggish.fad_n_generated``, ``vggish.fad_n_reference`` and with ``infinity`` ``vggish.fad_inf``,
        ``vggish.fad_inf_r2`` (see :func:`accbench.metrics.frechet.frechet_over_songs`).
    """
    from accbench.metrics.frechet import frechet_over_songs

    return frechet_over_songs(
        generated, reference, bootstrap=bootstrap, seed=seed, infinity=infinity, prefix="vggish.fad"
    )


def fad_per_song(generated: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> np.ndarray:
    """fadtk's per-song FAD: each song's generated frames against the pooled reference frames of all songs.

    Returns
    -------
    ndarray, float64, shape (n_songs,)
        NaN for a song with fewer than 2 frames.
    """
    from accbench.metrics.frechet import frechet_distance_from_embeddings

    pooled = np.concatenate([np.asarray(r, dtype=np.float64) for r in reference]) if reference else np.zeros((0, 128))
    return np.array([frechet_distance_from_embeddings(g, pooled) for g in generated], dtype=np.float64)
