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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from accbench.errors import ConfigError, ModelError
from accbench.protocol import ModelInfo, Session, StepContext, StreamingModel
from accbench.simulators.latency import LatencyModel, parse_latency
from accbench.simulators.schedule import (
    MISS_POLICIES,
    NO_PREVIOUS_FINISH,
    TimingSummary,
    call_start,
    chunk_start,
    deadline,
    delay_samples,
    lateness_s,
    log_summary,
    n_calls,
    on_time,
    silenced_samples,
    visible_end,
)
from accbench.units import seconds_to_samples_ceil

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
        if info is None or info.latency is None:
            return parse_latency(None)
        try:
            return parse_latency(info.latency)
        except ConfigError as error:
            raise ConfigError(f"model {info.name!r} declares latency {info.latency!r}: {error}") from None

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
class SimulationSummary(TimingSummary):
    """Per-song timing summary of one simulation.

    The fields of :class:`accbench.simulators.schedule.TimingSummary` (``n_calls`` ... ``mean_inference_time_ms``;
    ``max_lateness_s`` is ``nan`` for an empty log, the bound ``None`` when slower than real time), then:

    Attributes
    ----------
    deterministic : bool
        ``False`` for measured latencies.
    repairs : int
        Chunks repaired in lenient mode.
    """

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
    reference : ndarray or None
        The reference accompaniment :func:`run_stream` was given (model rate, channel-matched), for scoring;
        ``None`` when none was given.
    """

    output: np.ndarray
    sample_rate: int
    events: pd.DataFrame
    summary: SimulationSummary
    model: ModelInfo
    config: SimulationConfig
    song_id: str
    input: np.ndarray = field(repr=False)
    reference: np.ndarray | None = field(default=None, repr=False)


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


@dataclass(frozen=True)
class _Plan:
    """The timing parameters of one simulation, in integer samples (docs/design.md, "Timing semantics")."""

    sample_rate: int
    hop: int
    chunk_frames: int
    future_visibility: int
    chunk: int
    lookahead: int
    n_samples: int
    n_calls: int
    input_latency: int
    output_latency: int
    on_miss: str
    latency: LatencyModel
    planned: np.ndarray | None

    @classmethod
    def make(cls, config: SimulationConfig, info: ModelInfo, n_samples: int) -> _Plan:
        sample_rate, hop = int(info.sample_rate), int(info.hop)
        chunk = config.chunk_frames * hop
        calls = n_calls(n_samples, chunk)
        latency = config.latency_model(info)
        planned = latency.inference_samples(
            calls, chunk_frames=config.chunk_frames, hop=hop, sample_rate=sample_rate, seed=config.seed
        )
        input_latency = delay_samples(config.input_latency_ms, sample_rate)
        output_latency = delay_samples(config.output_latency_ms, sample_rate)
        return cls(
            sample_rate=sample_rate,
            hop=hop,
            chunk_frames=config.chunk_frames,
            future_visibility=config.future_visibility,
            chunk=chunk,
            lookahead=config.future_visibility * hop,
            n_samples=n_samples,
            n_calls=calls,
            input_latency=input_latency,
            output_latency=output_latency,
            on_miss=config.on_miss,
            latency=latency,
            planned=planned,
        )

    def duration(self, index: int, elapsed_s: float) -> int:
        """``d_j`` in samples: the latency model's, or the measured wall clock rounded up."""
        if self.planned is not None:
            return int(self.planned[index])
        return seconds_to_samples_ceil(elapsed_s, self.sample_rate)

    def session(self, song_id: str, seed: int, reference: np.ndarray | None) -> Session:
        """What the model is told at ``reset``: the song, this plan's timing (in :class:`Session`'s field order)."""
        timing = self.sample_rate, self.hop, self.future_visibility, self.chunk_frames, self.n_samples
        return Session(song_id, *timing, seed, reference)

    def attrs(self) -> dict[str, Any]:
        """The event log's ``DataFrame.attrs``."""
        return {
            "sample_rate": self.sample_rate,
            "hop": self.hop,
            "chunk_frames": self.chunk_frames,
            "future_visibility": self.future_visibility,
            "input_latency_samples": self.input_latency,
            "output_latency_samples": self.output_latency,
            "n_samples": self.n_samples,
            "on_miss": self.on_miss,
            "latency": self.latency.spec,
            "deterministic": self.latency.deterministic,
        }


def _check_input(info: ModelInfo, input_audio: np.ndarray) -> None:
    n_channels = input_audio.shape[0]
    if n_channels != info.channels or input_audio.dtype != np.float32:
        raise ConfigError(
            f"run_stream needs float32 input with {info.channels} channel(s) for model {info.name!r}, "
            f"got {input_audio.dtype} with {n_channels} (accbench.simulate converts it)"
        )


def _reference_views(info: ModelInfo, reference: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The reference as ``reset`` sees it (``"full"`` access, a read-only copy) and as calls see it (``"visible"``)."""
    if reference is None or info.reference_access == "none":
        return None, None
    reference = np.ascontiguousarray(reference, dtype=np.float32)
    if info.reference_access == "full":
        full = reference.copy()
        full.flags.writeable = False
        return full, None
    return None, reference


def _reset(model: StreamingModel, session: Session, context: dict[str, Any]) -> None:
    try:
        model.reset(session)
    except ModelError as error:
        raise _with_context(error, context, None) from error
    except Exception as error:
        raise ModelError(f"reset raised {type(error).__name__}: {error}", **context) from error


def _stream(
    model: StreamingModel,
    input_audio: np.ndarray,
    visible_reference: np.ndarray | None,
    plan: _Plan,
    validate: _Validator,
    context: dict[str, Any],
) -> tuple[np.ndarray, list[tuple[int, ...]], list[str]]:
    """The call loop: hand each call its newly visible input, time it, apply the miss policy.

    Returns the output ``(out_channels, n_samples)``, one integer row per call
    (``index, chunk_start, visible_end, call_start, inference_time, call_finish, deadline, underrun_samples``)
    and the repair note of each call.
    """
    output = np.zeros((validate.shape[0], plan.n_samples), dtype=np.float32)
    rows: list[tuple[int, ...]] = []
    repairs: list[str] = []
    previous_end, previous_finish, previous_played = 0, NO_PREVIOUS_FINISH, True
    clock = time.perf_counter
    for index in range(plan.n_calls):
        start = chunk_start(index, plan.chunk)
        end = visible_end(start, plan.lookahead, plan.n_samples)
        new_input = _readonly_copy(input_audio, previous_end, end)
        new_reference = None if visible_reference is None else _readonly_copy(visible_reference, previous_end, end)
        ctx = StepContext(
            index, start, end, plan.chunk_frames, plan.hop, previous_played, plan.n_samples - start, new_reference
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
        duration = plan.duration(index, elapsed)
        begin = call_start(start, plan.lookahead, plan.input_latency, previous_finish)
        finish = begin + duration
        length = min(plan.chunk, plan.n_samples - start)
        silenced = silenced_samples(finish, start, length, plan.output_latency, plan.on_miss)
        output[:, start + silenced : start + length] = out[:, silenced:length]
        rows.append((index, start, end, begin, duration, finish, deadline(start, plan.output_latency), silenced))
        previous_end, previous_finish, previous_played = end, finish, silenced == 0
    return output, rows, repairs


def _event_log(rows: list[tuple[int, ...]], repairs: list[str], plan: _Plan) -> pd.DataFrame:
    """The event log (:data:`EVENT_COLUMNS`) of the loop's integer rows, with the plan as ``attrs``."""
    table = np.array(rows, dtype=np.int64).reshape(-1, 8)
    events = pd.DataFrame({name: table[:, position] for position, name in enumerate(EVENT_COLUMNS[:7])})
    events["on_time"] = on_time(events["call_finish"].to_numpy(), events["deadline"].to_numpy())
    events["lateness_s"] = lateness_s(events["call_finish"].to_numpy(), events["deadline"].to_numpy(), plan.sample_rate)
    events["underrun_samples"] = table[:, 7]
    events["repairs"] = repairs
    events.attrs.update(plan.attrs())
    return events


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
        Reference accompaniment on the same timeline, handed only to models declaring ``reference_access``;
        kept as :attr:`SimulationResult.reference` for scoring.
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
    _check_input(info, input_audio)
    plan = _Plan.make(config, info, input_audio.shape[1])
    context = {"model": info.name, "song": song_id, "config": config.describe(info)}
    full_reference, visible_reference = _reference_views(info, reference)
    _reset(model, plan.session(song_id, config.seed, full_reference), context)
    validate = _Validator(info, plan.chunk, config.lenient, context)
    output, rows, repairs = _stream(model, input_audio, visible_reference, plan, validate, context)
    events = _event_log(rows, repairs, plan)
    return SimulationResult(
        output, plan.sample_rate, events, summarize(events), info, replace(config), song_id, input_audio, reference
    )


def summarize(events: pd.DataFrame) -> SimulationSummary:
    """Timing summary of an event log (see :class:`SimulationSummary`).

    The figures come from :func:`accbench.simulators.schedule.log_summary`, as the timing metrics do;
    ``max_lateness_s`` is ``nan`` for an empty log.
    """
    return SimulationSummary(
        **asdict(log_summary(events, events.attrs)),
        deterministic=bool(events.attrs["deterministic"]),
        repairs=int((events["repairs"] != "").sum()),
    )
