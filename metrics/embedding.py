"""Embedding coherence: how close the accompanied result sounds to the reference, in a learned embedding space.

The output of a model is scored in the space of an audio embedder (LAION CLAP, or a weights-free spectral
stand-in for CI; see :mod:`accbench.metrics.embedders`). Signals are cut into aligned windows (default: the
embedder's 10 s window with a 5 s hop, the last window aligned to the end), embedded, and compared window by window.

Conventions. Audio is float32 ``(channels, n_samples)`` (or 1-D mono) at ``sample_rate`` Hz; channels are averaged
to mono. The *output mix* is input + output, the *reference mix* input + reference. Output and reference are scored
over the input's duration: longer ones are trimmed, shorter ones padded with silence (what would be heard).
Embeddings are cached by audio content, so the input and reference analyses are computed once per song however
many configs are swept.

Metrics (names are ``embedding.<metric>`` for CLAP and ``embedding.spectral_<metric>`` for the spectral embedder,
whose values are not comparable to CLAP's; ``embedding.embedder`` says which embedder and model produced them):

- ``cosine_mix``: mean over windows of the cosine similarity of output mix and reference mix (higher is better).
- ``cosine_output_reference``: the same for the output alone against the reference accompaniment alone.
- ``cosine_output_input``: the same for the output against the input; reference-free (an output that copies the
  input also scores high, so read it beside the others).
- ``frechet_song``: Frechet distance between the output-mix and reference-mix windows of one song (lower is
  better; strongly biased upwards with few windows, so compare it only at equal song lengths and windows).
- ``frechet``: the Frechet distance between the output-mix and reference-mix windows pooled over all songs of one
  (model, config), with a bootstrap interval; computed by :func:`accbench.metrics.frechet.frechet_over_songs` from
  :func:`mix_window_embeddings` of each song, not by :func:`evaluate`.

Metrics that need a reference are NaN when a song has none, and ``embedding.skipped`` says why (it is ``""`` when
nothing was skipped).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from accbench.audio import as_channels_first, match_channels
from accbench.errors import DataError
from accbench.metrics.cache import AnalysisCache
from accbench.metrics.embedders import Embedder, embed_audio, get_embedder
from accbench.metrics.frechet import frechet_distance_from_embeddings
from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register

if TYPE_CHECKING:
    from accbench.metrics.scoring import SongAnalyses

__all__ = [
    "GROUP",
    "METRICS",
    "cosine_similarities",
    "evaluate",
    "mix_window_embeddings",
    "validate",
    "windowed_cosine",
]

_NOT_CLAP = " Spectral embedder: NOT comparable to CLAP or published scores."


def _specs(prefix: str, note: str) -> list[MetricSpec]:
    cosine = (-1.0, 1.0)
    return [
        MetricSpec(
            f"embedding.{prefix}cosine_mix",
            "higher",
            "",
            cosine,
            "Mean windowed cosine similarity of output mix (input+output) and reference mix (input+reference)." + note,
            needs_reference=True,
        ),
        MetricSpec(
            f"embedding.{prefix}cosine_output_reference",
            "higher",
            "",
            cosine,
            "Mean windowed cosine similarity of the output and the reference accompaniment." + note,
            needs_reference=True,
        ),
        MetricSpec(
            f"embedding.{prefix}cosine_output_input",
            "higher",
            "",
            cosine,
            "Mean windowed cosine similarity of the output and the input (reference-free)." + note,
        ),
        MetricSpec(
            f"embedding.{prefix}frechet_song",
            "lower",
            "",
            (0.0, math.inf),
            "Frechet distance of one song's output-mix and reference-mix window embeddings (biased, few windows)."
            + note,
            needs_reference=True,
        ),
        MetricSpec(
            f"embedding.{prefix}frechet",
            "lower",
            "",
            (0.0, math.inf),
            "Frechet distance of output-mix vs reference-mix window embeddings pooled over a run (per config)." + note,
            needs_reference=True,
        ),
    ]


METRICS: list[MetricSpec] = _specs("", " CLAP embedder.") + _specs("spectral_", _NOT_CLAP)
"""The embedding metrics, registered at import."""

register(*METRICS)


def _fit(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Mono ``(1, n_samples)``: trimmed, or padded with silence."""
    mono = audio.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
    if mono.shape[1] >= n_samples:
        return np.ascontiguousarray(mono[:, :n_samples])
    return np.pad(mono, ((0, 0), (0, n_samples - mono.shape[1])))


def validate(
    input_audio: np.ndarray,
    output_audio: np.ndarray,
    reference: np.ndarray | None = None,
    *,
    song: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check the signals and bring them to mono and to the input's length.

    Parameters
    ----------
    input_audio : ndarray, shape (channels, n) or (n,)
    output_audio : ndarray, shape (channels, m) or (m,)
    reference : ndarray or None, shape (channels, r) or (r,)
    song : str or None
        Song id for error messages.

    Returns
    -------
    input, output, reference : ndarray, float32, shape (1, n)
        Mono; output and reference trimmed or padded with silence to ``n``; reference ``None`` when not given.

    Raises
    ------
    DataError
        Non-finite samples or malformed arrays.
    """
    signals = {"input": input_audio, "output": output_audio, "reference": reference}
    checked: dict[str, np.ndarray | None] = {}
    for name, value in signals.items():
        if value is None:
            checked[name] = None
            continue
        array = as_channels_first(value, name=name, song=song)
        if not np.all(np.isfinite(array)):
            raise DataError(f"{name} audio contains NaN or infinite samples", song=song)
        checked[name] = match_channels(array, 1)  # the down-mix scoring uses: the same mixes hit the same cache
    n = checked["input"].shape[1]
    ref = checked["reference"]
    return _fit(checked["input"], n), _fit(checked["output"], n), None if ref is None else _fit(ref, n)


def cosine_similarities(reference_embeddings: np.ndarray, estimated_embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity of aligned window embeddings.

    Parameters
    ----------
    reference_embeddings, estimated_embeddings : ndarray, shape (n_windows, d)
        Embeddings of the same windows of two signals.

    Returns
    -------
    ndarray, float64, shape (n_windows,)
        Values in [-1, 1]; a window where either embedding is the zero vector has similarity 0.
    """
    ref = np.asarray(reference_embeddings, dtype=np.float64)
    est = np.asarray(estimated_embeddings, dtype=np.float64)
    if ref.shape != est.shape or ref.ndim != 2:
        raise ValueError(f"embeddings must have the same (n_windows, d) shape, got {ref.shape} and {est.shape}")
    norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(est, axis=1)
    dots = np.sum(ref * est, axis=1)
    # A zero vector has no direction: count it as unrelated (similarity 0) rather than dividing by zero.
    safe = np.where(norms > 0, norms, 1.0)
    return np.clip(np.where(norms > 0, dots / safe, 0.0), -1.0, 1.0)


def windowed_cosine(reference_embeddings: np.ndarray, estimated_embeddings: np.ndarray) -> float:
    """Mean over windows of :func:`cosine_similarities`; NaN when there are no windows.

    Examples
    --------
    >>> import numpy as np
    >>> windowed_cosine(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    0.5
    """
    values = cosine_similarities(reference_embeddings, estimated_embeddings)
    # No windows (empty audio): nothing to compare.
    return float(values.mean()) if values.size else math.nan


def mix_window_embeddings(
    input_audio: np.ndarray,
    output_audio: np.ndarray,
    sample_rate: int,
    reference: np.ndarray | None = None,
    *,
    embedder: str | Embedder = "auto",
    cache: AnalysisCache | None = None,
    window_s: float | None = None,
    hop_s: float | None = None,
    song: str | None = None,
    **embedder_options: Any,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Window embeddings of the output mix and the reference mix of one song, for the per-config Frechet distance.

    Parameters are those of :func:`evaluate`. Results come from the same cache entries :func:`evaluate` fills, so
    calling both costs one embedding pass.

    Returns
    -------
    generated : ndarray, float32, shape (n_windows, d)
        Embeddings of input + output.
    reference : ndarray, float32, shape (n_windows, d), or None
        Embeddings of input + reference; ``None`` when the song has no reference.
    """
    model = get_embedder(embedder, **embedder_options)
    x, y, r = validate(input_audio, output_audio, reference, song=song)
    options = {"window_s": window_s, "hop_s": hop_s, "cache": cache, "song": song}
    generated = embed_audio(x + y, sample_rate, model, **options)
    reference_mix = None if r is None else embed_audio(x + r, sample_rate, model, **options)
    return generated, reference_mix


def evaluate(
    input_audio: np.ndarray,
    output_audio: np.ndarray,
    sample_rate: int,
    reference: np.ndarray | None = None,
    *,
    embedder: str | Embedder = "auto",
    cache: AnalysisCache | None = None,
    window_s: float | None = None,
    hop_s: float | None = None,
    song: str | None = None,
    **embedder_options: Any,
) -> dict[str, float | str]:
    """All per-song embedding metrics of one output.

    Parameters
    ----------
    input_audio : ndarray, shape (channels, n) or (n,)
        The input the model accompanied, at ``sample_rate``.
    output_audio : ndarray, shape (channels, m) or (m,)
        The rendered output timeline (trimmed or padded with silence to ``n``).
    sample_rate : int
        Hz of all three signals.
    reference : ndarray or None
        The reference accompaniment; without it the reference metrics are NaN and ``embedding.skipped`` says so.
    embedder : {"auto", "clap", "spectral"} or Embedder
        See :func:`accbench.metrics.embedders.get_embedder` (``"auto"``: CLAP when a model is configured, else
        spectral).
    cache : AnalysisCache or None
        Embedding cache; ``None`` uses the process default.
    window_s, hop_s : float or None
        Window and hop in seconds; defaults: the embedder's window (10 s) and half of it.
    song : str or None
        Song id for error messages.
    **embedder_options
        Passed to :func:`~accbench.metrics.embedders.get_embedder` (``model``, ``device``, ``batch_size``,
        ``threads``...).

    Returns
    -------
    dict
        ``embedding.<prefix>cosine_mix``, ``embedding.<prefix>cosine_output_reference``,
        ``embedding.<prefix>cosine_output_input``, ``embedding.<prefix>frechet_song`` (floats; ``<prefix>`` is
        ``""`` for CLAP and ``"spectral_"`` for the spectral embedder), ``embedding.embedder`` (the embedder's
        label, e.g. ``"spectral (not comparable to CLAP)"``) and ``embedding.skipped`` (reason, or ``""``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, r = rng.normal(scale=0.1, size=(2, 1, 22050 * 4)).astype(np.float32)
    >>> scores = evaluate(x, r, 22050, reference=r, embedder="spectral")
    >>> round(scores["embedding.spectral_cosine_mix"], 6), scores["embedding.embedder"]
    (1.0, 'spectral (not comparable to CLAP)')
    """
    model = get_embedder(embedder, **embedder_options)
    prefix = f"embedding.{model.metric_prefix}"
    x, y, r = validate(input_audio, output_audio, reference, song=song)
    options = {"window_s": window_s, "hop_s": hop_s, "cache": cache, "song": song}
    e_input = embed_audio(x, sample_rate, model, **options)
    e_output = embed_audio(y, sample_rate, model, **options)
    e_mix = embed_audio(x + y, sample_rate, model, **options)
    scores: dict[str, float | str] = {
        f"{prefix}cosine_mix": math.nan,
        f"{prefix}cosine_output_reference": math.nan,
        f"{prefix}cosine_output_input": windowed_cosine(e_input, e_output),
        f"{prefix}frechet_song": math.nan,
        "embedding.embedder": model.label,
        "embedding.skipped": "",
    }
    if r is None:
        # Without a reference accompaniment the reference metrics are skipped, not faked.
        scores["embedding.skipped"] = "no reference accompaniment: cosine_mix, cosine_output_reference, frechet_song"
        return scores
    e_reference = embed_audio(r, sample_rate, model, **options)
    e_reference_mix = embed_audio(x + r, sample_rate, model, **options)
    scores[f"{prefix}cosine_mix"] = windowed_cosine(e_reference_mix, e_mix)
    scores[f"{prefix}cosine_output_reference"] = windowed_cosine(e_reference, e_output)
    scores[f"{prefix}frechet_song"] = frechet_distance_from_embeddings(e_mix, e_reference_mix)
    if e_mix.shape[0] < 2:
        scores["embedding.skipped"] = "frechet_song: fewer than 2 windows"
    return scores


# ----------------------------------------------------------------------------------------------------------
# The embedding group of accbench.metrics.score

_PER_SONG = tuple(spec.name for spec in METRICS if not spec.name.endswith("frechet"))  # frechet: per config


def _score_group(song: SongAnalyses, wanted: frozenset[str]) -> GroupScores:
    """The per-song embedding metrics (:func:`evaluate`) with ``song.options["embedding"]`` as its options."""
    reference = None if song.reference is None else song.reference.audio
    options = dict(song.options.get("embedding") or {})
    found = evaluate(
        song.input.audio, song.output.audio, song.sample_rate, reference, cache=song.cache, song=song.song, **options
    )
    reason = str(found.pop("embedding.skipped", ""))
    scores = GroupScores(info={"embedding.embedder": str(found.pop("embedding.embedder", ""))})
    for name, value in found.items():
        scores.put(name, float(value), reason)
    return scores


GROUP = MetricGroup(
    name="embedding",
    metrics=_PER_SONG,
    needs={"input": _PER_SONG, "output": _PER_SONG, "reference_audio": _PER_SONG, "embeddings": _PER_SONG},
    evaluate=_score_group,
    opt_in=True,
)
"""The embedding group (opt-in: its names depend on the embedder; the pooled ``frechet`` is per config)."""
