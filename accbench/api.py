"""``accbench.simulate``: run one model on one song under a delay config.

This is the glue a user touches: it loads the model if given a name, builds the simulation config from
frames or durations, and runs the one single-song path :func:`accbench.song_run.run_song` (prepare: load,
resample to the model's rate, match channels, check; then :func:`accbench.simulators.run_stream`).
Score the result with ``accbench.metrics.score(result, annotations=...)``: it is at the model's rate.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from accbench.errors import ConfigError
from accbench.models import load_model
from accbench.protocol import ModelInfo, StreamingModel
from accbench.simulators import SimulationConfig, SimulationResult
from accbench.song_run import SongAudio, run_song
from accbench.song_run import prepare_audio as _prepare_audio
from accbench.units import ms_to_frames, parse_duration

__all__ = ["prepare_audio", "simulate", "to_frames"]


def to_frames(value: int | str, name: str, info: ModelInfo) -> int:
    """A frame count from an int (frames) or a string with a unit (``"-200ms"``, ``"0.5s"``, ``"4frames"``)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be whole frames or a duration string, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, str):
        try:
            amount, unit = parse_duration(value, default_unit="frames")
            if unit == "frames":
                if amount.denominator != 1:
                    raise ValueError(f"{value!r} is not a whole number of frames")
                return int(amount)
            return ms_to_frames(amount * (1000 if unit == "s" else 1), info.sample_rate, info.hop)
        except ValueError as error:
            raise ConfigError(f"{name}: {error}") from None
    raise ConfigError(f"{name} must be whole frames (int) or a duration string such as '-200ms', got {value!r}")


def prepare_audio(
    audio: np.ndarray | str | os.PathLike,
    sample_rate: int | None,
    info: ModelInfo,
    *,
    name: str,
    song: str,
    channels: int,
) -> np.ndarray:
    """Load or take ``audio``, check it, resample it to the model's rate and match ``channels``.

    Kept for callers of earlier versions; :func:`accbench.song_run.prepare_song` prepares a whole song.
    """
    return _prepare_audio(audio, sample_rate, info.sample_rate, name=name, song=song, channels=channels)


def simulate(
    model: str | StreamingModel,
    input: np.ndarray | str | os.PathLike,
    *,
    sample_rate: int | None = None,
    future_visibility: int | str,
    chunk_frames: int | str,
    reference: np.ndarray | str | os.PathLike | None = None,
    latency: str | None = None,
    input_latency_ms: float = 0.0,
    output_latency_ms: float = 0.0,
    on_miss: str = "truncate",
    seed: int = 0,
    lenient: bool = False,
    song_id: str = "song",
    model_options: dict[str, Any] | None = None,
) -> SimulationResult:
    """Simulate a streaming model on one song.

    Parameters
    ----------
    model : str or StreamingModel
        A model object or a spec for :func:`accbench.load_model` (loaded with ``model_options`` and closed
        afterwards).
    input : ndarray or path
        ``(channels, n)`` or ``(n,)`` audio at ``sample_rate`` Hz, or an audio file.
    sample_rate : int
        Hz of ``input`` and ``reference`` arrays (ignored for files).
    future_visibility : int or str
        ``t_f``: frames of the model's hop, or a duration such as ``"-200ms"`` (must be whole frames).
    chunk_frames : int or str
        ``k``: frames per call, or a duration such as ``"80ms"``.
    reference : ndarray or path, optional
        Reference accompaniment, the same length as the input; only baselines that declare it receive it.
    latency : str, optional
        Inference-time model: ``zero``, ``fixed:30ms``, ``linear:20ms,2ms/frame``, ``trace:FILE``,
        ``measured``, each optionally with ``,jitter=5ms``. Default: the model's declared latency, else zero.
    input_latency_ms, output_latency_ms : float
        System delays ``L_in`` and ``L_out``.
    on_miss : {"truncate", "drop", "ignore"}
    seed : int
        Reaches the model through ``reset`` and seeds latency jitter.
    lenient : bool
        Repair bad chunks and record the repairs instead of failing.
    song_id : str

    Returns
    -------
    SimulationResult
        ``.output`` (channels, n) float32 at the model's rate, ``.events`` (one row per call), ``.summary``,
        ``.input`` (the input at the model's rate). Score it as it is: ``accbench.metrics.score(result, ...)``.

    Raises
    ------
    DataError
        Empty or non-finite audio, input and reference of different lengths.
    ConfigError
        A bad config value, an array without ``sample_rate``, or a model that needs a reference and gets none.
    ModelError
        The model failed to load, raised or returned a bad chunk.

    Examples
    --------
    >>> import numpy as np, accbench
    >>> x = np.zeros(22050, dtype=np.float32)
    >>> res = accbench.simulate("silence", x, sample_rate=22050, future_visibility=-10, chunk_frames=4,
    ...                         latency="fixed:30ms")
    >>> res.output.shape, res.summary.feasible_future_visibility
    ((1, 22050), -2)
    """
    owned = isinstance(model, str)
    loaded = load_model(model, **(model_options or {})) if owned else load_model(model)
    try:
        future_visibility = to_frames(future_visibility, "future_visibility", loaded.info)
        chunk_frames = to_frames(chunk_frames, "chunk_frames", loaded.info)
        # The parameters are SimulationConfig's fields, named and ordered alike.
        config = SimulationConfig(
            future_visibility, chunk_frames, latency, input_latency_ms, output_latency_ms, on_miss, seed, lenient
        )
        return run_song(loaded, SongAudio(song_id, input, reference, sample_rate), config).result
    finally:
        if owned:
            loaded.close()
