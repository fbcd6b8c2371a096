"""The streaming loop: feeds a model its visible input chunk by chunk on a virtual clock.

:func:`run_stream` is the simulator. It hands the model only the input samples that became visible since
its previous call, as a fresh read-only array (never a view of the song, so future input is unreachable
by construction), validates every returned chunk, advances the virtual clock with the latency model,
applies the miss policy and records one event-log row per call. Everything is integer samples; the same
model, input, config and seed give bit-identical output and event log (except with ``latency="measured"``,
which is flagged).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from accbench.errors import ConfigError, ModelError
from accbench.protocol import ModelInfo, Session, StepContext, StreamingModel
from accbench.simulators.latency import LatencyModel, parse_latency
from accbench.simulators.schedule import MISS_POLICIES, feasible_future_visibility, silenced_samples, visible_end
from accbench.units import frames_to_ms, seconds_to_samples_ceil

__all__ = ["EVENT_COLUMNS", "SimulationConfig", "SimulationResult", "SimulationSummary", "run_stream", "summarize"]

#: Event-log columns; integer columns are samples on the model's clock.
EVENT_COLUMNS: tuple[str, ...] = (
    "index",
    "chunk_start",
    "visible_end",
    "call_start",
    "inference_time",
    "call_finish",
    "deadline",
    "on_time",
    "lateness_s",
    "underrun_samples",
    "repairs",
)


@dataclass(frozen=True)
class SimulationConfig:
    """One point of the design grid.

    Parameters
    ----------
    future_visibility : int
        ``t_f`` in frames (negative: the model must anticipate).
    chunk_frames : int
        ``k``, frames per call (>= 1).
    latency : str or LatencyModel or None
        Inference-time model (:mod:`accbench.simulators.latency`); ``None`` uses the model's declared latency,
        else ``zero``.
    input_latency_ms, output_latency_ms : float
        ``L_in`` and ``L_out`` in milliseconds (>= 0).
    on_miss : {"truncate", "drop", "ignore"}
    seed : int
    lenient : bool
        Repair bad chunks (pad/trim, cast, zero NaN) and record each repair instead of failing.
    """

    future_visibility: int
    chunk_frames: int
    latency: str | LatencyModel | None = None
    input_latency_ms: float = 0.0
    output_latency_ms: float = 0.0
    on_miss: str = "truncate"
    seed: int = 0
    lenient: bool = False

    def __post_init__(self) -> None:
        for name in ("future_visibility", "chunk_frames", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ConfigError(f"{name} must be an integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.chunk_frames < 1:
            raise ConfigError(f"chunk_frames must be >= 1, got {self.chunk_frames}")
        for name in ("input_latency_ms", "output_latency_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not np.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value!r}")
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value!r}")
        if self.on_miss not in MISS_POLICIES:
            raise ConfigError(f"on_miss must be one of {', '.join(MISS_POLICIES)}, got {self.on_miss!r}")
        if self.latency is not None:
            object.__setattr__(self, "latency", parse_latency(self.latency))

    def latency_model(self, info: ModelInfo | None = None) -> LatencyModel:
        """The latency model in force: the config's, else the model's declared one, else ``zero``."""
        if self.latency is not None:
            return self.latency
        return parse_latency(info.latency if info is not None else None)

    def describe(self, info: ModelInfo | None = None) -> str:
        """A short human-readable description, used in error messages."""
        parts = [f"future_visibility={self.future_visibility}", f"chunk_frames={self.chunk_frames}"]
        parts.append(f"latency={self.latency_model(info).spec}")
        if self.input_latency_ms or self.output_latency_ms:
            parts.append(f"input_latency={self.input_latency_ms:g}ms output_latency={self.output_latency_ms:g}ms")
        parts.append(f"on_miss={self.on_miss}")
        parts.append(f"seed={self.seed}")
        return " ".join(parts)


@dataclass(frozen=True)
class SimulationSummary:
    """Per-song timing summary of one simulation.

    Attributes
    ----------
    n_calls : int
    miss_rate : float
        Fraction of calls that finished after their deadline.
    underrun_fraction : float
        Fraction of output samples silenced by the miss policy.
    max_lateness_s : float
        Largest ``f_j - D_j`` in seconds (negative: every call had slack).
    feasible_future_visibility : int or None
        Largest ``t_f`` (frames) with no miss at the worst observed inference time; ``None`` when slower than
        real time.
    feasible_future_visibility_ms : float or None
    feasible : bool
        The config's ``t_f`` is within that bound.
    mean_recency_gap_s : float
        ``((K - 1) / 2 - t_f * hop) / sr``: how far, on average, an output sample is from the newest input its
        call could see.
    real_time_factor : float
        Mean inference time over chunk duration (< 1 keeps up with the input).
    mean_inference_time_ms : float
    deterministic : bool
        ``False`` for measured latencies.
    repairs : int
        Chunks repaired in lenient mode.
    """

    n_calls: int
    miss_rate: float
    underrun_fraction: float
    max_lateness_s: float
    feasible_future_visibility: int | None
    feasible_future_visibility_ms: float | None
    feasible: bool
    mean_recency_gap_s: float
    real_time_factor: float
    mean_inference_time_ms: float
    deterministic: bool
    repairs: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SimulationResult:
    """What one simulation of one song produced.

    Attributes
    ----------
    output : ndarray, float32, shape (output_channels, n_samples)
        The accompaniment as it was heard, on the input's timeline at ``sample_rate``.
    sample_rate : int
        Hz (the model's rate).
    events : DataFrame
        One row per call (:data:`EVENT_COLUMNS`); ``events.attrs`` holds the timing parameters.
    summary : SimulationSummary
    model : ModelInfo
    config : SimulationConfig
    song_id : str
    input : ndarray
        The input as the model's clock saw it (resampled, channel-matched), ``(channels, n_samples)``.
    """

    output: np.ndarray
    sample_rate: int
    events: pd.DataFrame
    summary: SimulationSummary
    model: ModelInfo
    config: SimulationConfig
    song_id: str
    input: np.ndarray = field(repr=False)


def _readonly_copy(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    piece = array[:, start:stop].copy()
    piece.flags.writeable = False
    return piece


class _Validator:
    """Checks (or, leniently, repairs) each chunk a model returns."""

    def __init__(self, info: ModelInfo, chunk_samples: int, lenient: bool, error_context: dict[str, Any]) -> None:
        self.shape = (info.out_channels, chunk_samples)
        self._ones = np.ones(info.out_channels * chunk_samples, dtype=np.float32)
        self.lenient = lenient
        self.context = error_context

    def fail(self, reason: str, call: int) -> ModelError:
        return ModelError(reason, call=call, **self.context)

    def __call__(self, out: Any, call: int) -> tuple[np.ndarray, str]:
        if type(out) is np.ndarray and out.dtype == np.float32 and out.shape == self.shape:
            # One dot product propagates any NaN/inf; only a non-finite (or overflowing) sum needs the full check.
            if math.isfinite(out.ravel().dot(self._ones)) or np.isfinite(out).all():
                return out, ""
            if not self.lenient:
                bad = int(out.size - np.count_nonzero(np.isfinite(out)))
                raise self.fail(f"output contains {bad} NaN or infinite sample(s)", call)
            return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0), "zeroed non-finite samples"
        return self._slow(out, call)

    def _slow(self, out: Any, call: int) -> tuple[np.ndarray, str]:
        expected = f"expected float32 array of shape {self.shape}"
        if not isinstance(out, np.ndarray):
            try:
                array = np.asarray(out)
            except Exception:
                array = None
            if array is None or array.dtype == object or not np.issubdtype(array.dtype, np.number):
                raise self.fail(f"returned {type(out).__name__}; {expected}", call)
            if not self.lenient:
                raise self.fail(f"returned {type(out).__name__}, not a numpy array; {expected}", call)
            out = array
        repairs = []
        if not self.lenient:
            if out.dtype != np.float32:
                raise self.fail(f"returned dtype {out.dtype}; {expected}", call)
            raise self.fail(f"returned shape {out.shape}; {expected}", call)
        if not np.issubdtype(out.dtype, np.number) or np.iscomplexobj(out):
            raise self.fail(f"returned dtype {out.dtype}; {expected}", call)
        if out.dtype != np.float32:
            repairs.append(f"cast {out.dtype} to float32")
            out = out.astype(np.float32)
        channels, samples = self.shape
        if out.ndim == 1 and channels == 1:
            repairs.append("reshaped 1-D output to (1, n)")
            out = out[np.newaxis, :]
        if out.ndim != 2:
            raise self.fail(f"returned shape {out.shape}; {expected}", call)
        if out.shape[0] != channels:
            if out.shape[0] == 1:
                out = np.repeat(out, channels, axis=0)
            else:
                out = np.repeat(out.mean(axis=0, keepdims=True), channels, axis=0)
            repairs.append(f"matched {out.shape[0]} channel(s) to {channels}")
        if out.shape[1] != samples:
            repairs.append(f"{'trimmed' if out.shape[1] > samples else 'padded'} {out.shape[1]} samples to {samples}")
            fixed = np.zeros((channels, samples), dtype=np.float32)
            fixed[:, : min(samples, out.shape[1])] = out[:, :samples]
            out = fixed
        if not np.isfinite(out).all():
            out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
            repairs.append("zeroed non-finite samples")
        return np.ascontiguousarray(out, dtype=np.float32), "; ".join(repairs)


def _with_context(error: ModelError, context: dict[str, Any], call: int | None) -> ModelError:
    """An adapter's own error, completed with the song, config and call it happened in."""
    return ModelError(
        error.reason,
        model=error.model or context["model"],
        song=error.song or context["song"],
        config=error.config or context["config"],
        call=error.call if error.call is not None else call,
    )


def run_stream(
    model: StreamingModel,
    input_audio: np.ndarray,
    config: SimulationConfig,
    *,
    reference: np.ndarray | None = None,
    song_id: str = "song",
) -> SimulationResult:
    """Simulate a streaming model on one song.

    Parameters
    ----------
    model : StreamingModel
        Already loaded; it is reset for this song and not closed.
    input_audio : ndarray, float32, shape (channels, n_samples)
        The input at ``model.info.sample_rate`` with ``model.info.channels`` channels.
    config : SimulationConfig
    reference : ndarray or None
        Reference accompaniment on the same timeline, handed only to models declaring ``reference_access``.
    song_id : str

    Returns
    -------
    SimulationResult

    Raises
    ------
    ModelError
        When the model raises or returns a bad chunk (not in lenient mode); names model, song, config, call.
    """
    info = model.info
    sample_rate, hop = int(info.sample_rate), int(info.hop)
    n_channels, n_samples = input_audio.shape
    if n_channels != info.channels or input_audio.dtype != np.float32:
        raise ConfigError(
            f"run_stream needs float32 input with {info.channels} channel(s) for model {info.name!r}, "
            f"got {input_audio.dtype} with {n_channels} (accbench.simulate converts it)"
        )
    chunk = config.chunk_frames * hop
    lookahead = config.future_visibility * hop
    n_calls = -(-n_samples // chunk)
    latency = config.latency_model(info)
    input_latency = seconds_to_samples_ceil(config.input_latency_ms / 1000, sample_rate)
    output_latency = seconds_to_samples_ceil(config.output_latency_ms / 1000, sample_rate)
    context = {"model": info.name, "song": song_id, "config": config.describe(info)}
    planned = latency.inference_samples(
        n_calls, chunk_frames=config.chunk_frames, hop=hop, sample_rate=sample_rate, seed=config.seed
    )
    if reference is not None and info.reference_access != "none":
        reference = np.ascontiguousarray(reference, dtype=np.float32)
    full_reference = None
    if info.reference_access == "full" and reference is not None:
        full_reference = reference.copy()
        full_reference.flags.writeable = False
    visible_reference = reference if info.reference_access == "visible" else None
    session = Session(
        song_id=song_id,
        sample_rate=sample_rate,
        hop=hop,
        future_visibility=config.future_visibility,
        chunk_frames=config.chunk_frames,
        n_samples=n_samples,
        seed=config.seed,
        reference=full_reference,
    )
    try:
        model.reset(session)
    except ModelError as error:
        raise _with_context(error, context, None) from error
    except Exception as error:
        raise ModelError(f"reset raised {type(error).__name__}: {error}", **context) from error

    validate = _Validator(info, chunk, config.lenient, context)
    output = np.zeros((info.out_channels, n_samples), dtype=np.float32)
    rows: list[tuple[int, int, int, int, int, int, int, int]] = []
    repairs: list[str] = []
    previous_end = 0
    previous_finish = -(2**62)
    previous_played = True
    clock = time.perf_counter
    for index in range(n_calls):
        start = index * chunk
        end = visible_end(start, lookahead, n_samples)
        new_input = _readonly_copy(input_audio, previous_end, end)
        new_reference = None if visible_reference is None else _readonly_copy(visible_reference, previous_end, end)
        ctx = StepContext(
            index, start, end, config.chunk_frames, hop, previous_played, n_samples - start, new_reference
        )
        began = clock()
        try:
            out = model.step(new_input, ctx)
        except ModelError as error:
            raise _with_context(error, context, index) from error
        except Exception as error:
            raise validate.fail(f"step raised {type(error).__name__}: {error}", index) from error
        elapsed = clock() - began
        out, repair = validate(out, index)
        repairs.append(repair)
        duration = int(planned[index]) if planned is not None else seconds_to_samples_ceil(elapsed, sample_rate)
        call_start = max(start + lookahead + input_latency, previous_finish)
        finish = call_start + duration
        length = min(chunk, n_samples - start)
        silenced = silenced_samples(finish, start, length, output_latency, config.on_miss)
        output[:, start + silenced : start + length] = out[:, silenced:length]
        rows.append((index, start, end, call_start, duration, finish, start - output_latency, silenced))
        previous_end, previous_finish, previous_played = end, finish, silenced == 0

    table = np.array(rows, dtype=np.int64).reshape(-1, 8)
    columns = {name: table[:, position] for position, name in enumerate(EVENT_COLUMNS[:7])}
    events = pd.DataFrame(columns)
    events["on_time"] = events["call_finish"] <= events["deadline"]
    events["lateness_s"] = (events["call_finish"] - events["deadline"]) / sample_rate
    events["underrun_samples"] = table[:, 7]
    events["repairs"] = repairs
    events.attrs.update(
        sample_rate=sample_rate,
        hop=hop,
        chunk_frames=config.chunk_frames,
        future_visibility=config.future_visibility,
        input_latency_samples=input_latency,
        output_latency_samples=output_latency,
        n_samples=n_samples,
        on_miss=config.on_miss,
        latency=latency.spec,
        deterministic=latency.deterministic,
    )
    summary = summarize(events)
    return SimulationResult(output, sample_rate, events, summary, info, replace(config), song_id, input_audio)


def summarize(events: pd.DataFrame) -> SimulationSummary:
    """Timing summary of an event log (see :class:`SimulationSummary`)."""
    attrs = events.attrs
    sample_rate, hop, chunk_frames = attrs["sample_rate"], attrs["hop"], attrs["chunk_frames"]
    chunk = chunk_frames * hop
    n_calls = len(events)
    worst = int(events["inference_time"].max()) if n_calls else 0
    bound = feasible_future_visibility(
        worst, chunk_frames, hop, attrs["input_latency_samples"], attrs["output_latency_samples"]
    )
    return SimulationSummary(
        n_calls=n_calls,
        miss_rate=float((~events["on_time"]).mean()) if n_calls else 0.0,
        underrun_fraction=float(events["underrun_samples"].sum() / attrs["n_samples"]) if attrs["n_samples"] else 0.0,
        max_lateness_s=float(events["lateness_s"].max()) if n_calls else 0.0,
        feasible_future_visibility=bound,
        feasible_future_visibility_ms=None if bound is None else frames_to_ms(bound, sample_rate, hop),
        feasible=bound is not None and attrs["future_visibility"] <= bound,
        mean_recency_gap_s=((chunk - 1) / 2 - attrs["future_visibility"] * hop) / sample_rate,
        real_time_factor=float(events["inference_time"].mean() / chunk) if n_calls else 0.0,
        mean_inference_time_ms=float(events["inference_time"].mean() * 1000 / sample_rate) if n_calls else 0.0,
        deterministic=bool(attrs["deterministic"]),
        repairs=int((events["repairs"] != "").sum()),
    )
