"""One song through one model: prepare the audio, simulate, and (optionally) score. The one single-song path.

:func:`accbench.simulate`, the sweep's tasks and the ``simulate``/``score`` commands all go through here, so
a song is prepared one way everywhere, with one set of errors:

1. :func:`prepare_song` loads files, checks the audio (:class:`~accbench.errors.DataError`: empty, NaN or
   infinite samples, input and reference of different lengths), resamples it to the model's rate and matches
   the model's channel count; a model that needs a reference accompaniment and gets none is a
   :class:`~accbench.errors.ConfigError`.
2. :func:`run_song` runs :func:`accbench.simulators.run_stream` on the prepared song and, when asked,
   scores the :class:`~accbench.simulators.SimulationResult` itself with :func:`accbench.metrics.score`, so
   the output is always scored at the rate it was rendered at (see docs/design.md, "Layout and dependency
   direction": the metrics never import the simulator; this module joins them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from accbench.audio import as_channels_first, load_audio, match_channels, resample
from accbench.errors import ConfigError, DataError
from accbench.protocol import ModelInfo, StreamingModel
from accbench.simulators import SimulationConfig, SimulationResult, run_stream

if TYPE_CHECKING:  # type names only: importing annotations loads mir_eval and scipy.stats (~0.9 s)
    from accbench.annotations import Annotations
    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.scoring import Scores

__all__ = ["PreparedSong", "SongAudio", "SongRun", "prepare_audio", "prepare_song", "run_song"]

AudioSource = np.ndarray | str | os.PathLike


class SongLike(Protocol):
    """What :func:`run_song` reads from a song: a :class:`SongAudio`, a :class:`PreparedSong` or a dataset's
    loaded song (:meth:`accbench.datasets.Song.load`)."""

    song_id: str
    input: AudioSource
    reference: AudioSource | None
    sample_rate: int | None
    annotations: Annotations | None


@dataclass(frozen=True)
class SongAudio:
    """A song as a user gives it: arrays at ``sample_rate`` Hz or audio files (any rate, any channels).

    Attributes
    ----------
    song_id : str
        Names the song in results rows and error messages.
    input : ndarray or path
        ``(channels, n)`` or ``(n,)`` samples, or an audio file.
    reference : ndarray, path or None
        The reference accompaniment, the same length as the input.
    sample_rate : int or None
        Hz of the arrays (ignored for files).
    annotations : Annotations or None
    """

    song_id: str
    input: AudioSource = field(repr=False)
    reference: AudioSource | None = field(default=None, repr=False)
    sample_rate: int | None = None
    annotations: Annotations | None = None


@dataclass(frozen=True)
class PreparedSong:
    """A song ready for a model: audio at the model's rate with the model's channel count.

    Attributes
    ----------
    song_id : str
        As given (:attr:`SongAudio.song_id`).
    input : ndarray, float32, shape (channels, n_samples)
        At ``sample_rate`` Hz, ``channels`` the model's input channels.
    reference : ndarray, float32, shape (channels, n_samples), or None
        The reference accompaniment on the input's timeline (same length).
    sample_rate : int
        Hz (the model's rate).
    annotations : Annotations or None
        Beats and chords, seconds (rate-independent).
    """

    song_id: str
    input: np.ndarray = field(repr=False)
    reference: np.ndarray | None = field(repr=False)
    sample_rate: int
    annotations: Annotations | None = None


@dataclass(frozen=True)
class SongRun:
    """What :func:`run_song` produced.

    Attributes
    ----------
    song : PreparedSong
        The song as the model received it.
    result : SimulationResult
    scores : Scores or None
        ``None`` when scoring was not asked for.
    seconds : dict of str to float
        Wall-clock seconds per phase: ``simulate`` and (when scored) ``score``.
    """

    song: PreparedSong
    result: SimulationResult
    scores: Scores | None
    seconds: dict[str, float]


def prepare_audio(
    audio: AudioSource,
    sample_rate: int | None,
    target_rate: int,
    *,
    name: str,
    song: str,
    channels: int | None = None,
) -> np.ndarray:
    """Load or take ``audio``, check it, resample it to ``target_rate`` and (optionally) match ``channels``.

    Parameters
    ----------
    audio : ndarray or path
        ``(channels, n)`` or ``(n,)`` samples at ``sample_rate`` Hz, or an audio file (its own rate is used).
    sample_rate : int or None
        Hz of an array; ignored for files.
    target_rate : int
        Hz of the result.
    name : str
        ``"input"``, ``"reference"``, ``"output"``: for messages.
    song : str
        Song id for messages.
    channels : int or None
        Channels of the result (down-mix or duplicate); ``None`` keeps them.

    Returns
    -------
    ndarray, float32, shape (channels, m)

    Raises
    ------
    ConfigError
        An array without ``sample_rate``.
    DataError
        A missing or unreadable file, a malformed, empty or non-finite signal.
    """
    if isinstance(audio, str | os.PathLike):
        audio, sample_rate = load_audio(audio, song=song)
    elif sample_rate is None:
        raise ConfigError(f"sample_rate is required when {name} is an array (song {song!r})")
    array = as_channels_first(audio, name=name, song=song)
    if array.shape[1] == 0:
        raise DataError(f"{name} is empty", song=song)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} contains NaN or infinite samples", song=song)
    array = resample(array, int(sample_rate), int(target_rate))
    return array if channels is None else match_channels(array, channels)


def _raw_length(audio: Any) -> int | None:
    return audio.shape[-1] if isinstance(audio, np.ndarray) else None


def prepare_song(
    input: AudioSource,
    info: ModelInfo,
    *,
    sample_rate: int | None = None,
    reference: AudioSource | None = None,
    annotations: Annotations | None = None,
    song_id: str = "song",
) -> PreparedSong:
    """Bring one song to a model: its rate, its channels, checked, with a reference when the model needs one.

    Parameters
    ----------
    input : ndarray or path
        The input (the live part) at ``sample_rate`` Hz, or an audio file.
    info : ModelInfo
        The model's declared rate, input channels and reference access.
    sample_rate : int or None
        Hz of ``input`` and ``reference`` arrays (ignored for files).
    reference : ndarray, path or None
        The reference accompaniment, the same length as the input.
    annotations : Annotations or None
        Passed through.
    song_id : str

    Returns
    -------
    PreparedSong

    Raises
    ------
    DataError
        See :func:`prepare_audio`; or input and reference of different lengths (before or after resampling).
    ConfigError
        An array without a sample rate, or a model that needs a reference accompaniment and gets none.
    """
    x = prepare_audio(input, sample_rate, info.sample_rate, name="input", song=song_id, channels=info.channels)
    ref = None
    if reference is not None:
        ref = prepare_audio(
            reference, sample_rate, info.sample_rate, name="reference", song=song_id, channels=info.channels
        )
        raw_reference, raw_input = _raw_length(reference), _raw_length(input)
        if raw_reference is not None and raw_input is not None and raw_reference != raw_input:
            raise DataError(
                f"reference has {raw_reference} samples but input has {raw_input}; give them the same "
                "length (datasets do this with an explicit pad/trim policy)",
                song=song_id,
            )
        if ref.shape[1] != x.shape[1]:
            raise DataError(
                f"reference has {ref.shape[1]} samples at {info.sample_rate} Hz but input has {x.shape[1]}",
                song=song_id,
            )
    elif info.reference_access != "none":
        raise ConfigError(f"model {info.name!r} needs a reference accompaniment (song {song_id!r})")
    return PreparedSong(song_id, x, ref, int(info.sample_rate), annotations)


def run_song(
    model: StreamingModel,
    song: SongLike,
    config: SimulationConfig,
    *,
    song_id: str | None = None,
    score: bool = False,
    metrics: Iterable[str] | str | None = None,
    cache: AnalysisCache | None = None,
    embedding: Mapping[str, Any] | None = None,
    beat_tracker: str = "default",
    chord_estimator: str = "default",
    beat_this_checkpoint: str | None = None,
    group_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> SongRun:
    """Prepare one song for ``model``, simulate it under ``config`` and (when asked) score the result.

    Parameters
    ----------
    model : StreamingModel
        Already loaded; reset for this song by the simulator and not closed.
    song : SongAudio, PreparedSong or a loaded dataset song
        ``input``, ``reference`` (or None), ``sample_rate``, ``annotations`` and ``song_id``; audio at any rate
        (a :meth:`accbench.datasets.Song.load` result at the model's rate passes through unchanged).
    config : SimulationConfig
    song_id : str or None
        Default: ``song.song_id``.
    score : bool
        Score the result; implied by ``metrics``.
    metrics : iterable of str, str or None
        Groups and/or metric names for :func:`accbench.metrics.score` (default there: every default group).
    cache : AnalysisCache or None
        Analysis cache for scoring.
    embedding : mapping or None
        Options of the embedding group (see :func:`accbench.metrics.score`).
    beat_tracker, chord_estimator : str
        Analysis backends for scoring.
    beat_this_checkpoint : str or None
        With ``beat_tracker="beat-this"``: its checkpoint (see :func:`accbench.metrics.score`).
    group_options : mapping or None
        Options of other opt-in groups by name, e.g. ``{"cocola": {"checkpoint": PATH}}`` (see
        :func:`accbench.metrics.score`).

    Returns
    -------
    SongRun
        The prepared song, the simulation result, the scores (``None`` when not scored) and phase seconds.

    Raises
    ------
    DataError, ConfigError
        See :func:`prepare_song`.
    ModelError
        From the simulator (the model raised or returned a bad chunk).
    """
    song_id = song.song_id if song_id is None else song_id
    prepared = prepare_song(
        song.input,
        model.info,
        sample_rate=song.sample_rate,
        reference=song.reference,
        annotations=song.annotations,
        song_id=song_id,
    )
    began = time.perf_counter()
    result = run_stream(model, prepared.input, config, reference=prepared.reference, song_id=song_id)
    seconds = {"simulate": time.perf_counter() - began}
    scores = None
    if score or metrics is not None:
        from accbench.metrics import score as score_result

        began = time.perf_counter()
        scores = score_result(
            result,
            annotations=prepared.annotations,
            metrics=metrics,
            cache=cache,
            embedding=embedding,
            beat_tracker=beat_tracker,
            chord_estimator=chord_estimator,
            beat_this_checkpoint=beat_this_checkpoint,
            group_options=group_options,
        )
        seconds["score"] = time.perf_counter() - began
    return SongRun(prepared, result, scores, seconds)
