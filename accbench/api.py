"""``accbench.simulate``: run one model on one song under a delay config.

This is the glue a user touches: it loads the model if given a name, brings the input (and reference) to
the model's sample rate and channel count, checks the data, and runs :func:`accbench.simulators.run_stream`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from accbench.audio import as_channels_first, load_audio, match_channels, resample
from accbench.errors import ConfigError, DataError
from accbench.models import load_model
from accbench.protocol import ModelInfo, StreamingModel
from accbench.simulators import SimulationConfig, SimulationResult, run_stream
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
    """Load or take ``audio``, check it, resample it to the model's rate and match ``channels``."""
    if isinstance(audio, str | os.PathLike):
        audio, sample_rate = load_audio(audio, song=song)
    elif sample_rate is None:
        raise ConfigError(f"sample_rate is required when {name} is an array (song {song!r})")
    array = as_channels_first(audio, name=name, song=song)
    if array.shape[1] == 0:
        raise DataError(f"{name} is empty", song=song)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} contains NaN or infinite samples", song=song)
    array = resample(array, int(sample_rate), int(info.sample_rate))
    return match_channels(array, channels)


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
        ``.output`` (channels, n) float32 at the model's rate, ``.events`` (one row per call), ``.summary``.

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
        info = loaded.info
        config = SimulationConfig(
            future_visibility=to_frames(future_visibility, "future_visibility", info),
            chunk_frames=to_frames(chunk_frames, "chunk_frames", info),
            latency=latency,
            input_latency_ms=input_latency_ms,
            output_latency_ms=output_latency_ms,
            on_miss=on_miss,
            seed=seed,
            lenient=lenient,
        )
        x = prepare_audio(input, sample_rate, info, name="input", song=song_id, channels=info.channels)
        ref = None
        if reference is not None:
            raw_length = _raw_length(reference)
            ref = prepare_audio(reference, sample_rate, info, name="reference", song=song_id, channels=info.channels)
            input_length = _raw_length(input)
            if raw_length is not None and input_length is not None and raw_length != input_length:
                raise DataError(
                    f"reference has {raw_length} samples but input has {input_length}; give them the same "
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
        return run_stream(loaded, x, config, reference=ref, song_id=song_id)
    finally:
        if owned:
            loaded.close()


def _raw_length(audio: Any) -> int | None:
    if isinstance(audio, np.ndarray):
        return audio.shape[-1]
    return None
