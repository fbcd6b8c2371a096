"""The timing model of the simulator as plain integer functions (docs/design.md, "Timing semantics").

This module is the one place that computes the schedule, the feasible future-visibility bound and the timing
summary of an event log; the simulator (:mod:`accbench.simulators.engine`), the timing metrics
(:mod:`accbench.metrics.timing`) and the report's latency-budget frontier (:mod:`accbench.reports.plots`) all
call it. It imports nothing from accbench but :mod:`accbench.units`.

All positions and times are integer samples on the model's clock (``sample_rate`` Hz); a time ``t`` means
the moment input sample ``t`` is performed. With chunk size ``K = chunk_frames * hop`` and future
visibility ``T = future_visibility * hop`` samples:

- chunk ``j`` covers output samples ``[s_j, s_j + K)`` with ``s_j = j * K``;
- its call may use input ``[0, v_j)`` with ``v_j = clamp(s_j + T, 0, N)``;
- it may start once input position ``s_j + T`` has reached the system and the previous call has finished:
  ``c_j = max(s_j + T + L_in, f_{j-1})``; it finishes at ``f_j = c_j + d_j``;
- it must be handed over ``L_out`` before it plays: deadline ``D_j = s_j - L_out``; on time iff ``f_j <= D_j``.

The start time uses the *unclamped* position ``s_j + T``: when ``T < 0`` the first chunks need no input at
all and a live system computes them before the performer starts (a count-in). Using the clamped ``v_j``
instead would make chunk 0 late whenever any delay is non-zero, contradicting the feasible bound below.

Miss policies decide what a late chunk sounds like:

- ``truncate``: the samples whose playback time has passed when the chunk is ready
  (``f_j + L_out > s_j + i``) are silence, the rest play;
- ``drop``: a late chunk is silence;
- ``ignore``: nothing is silenced; misses are only counted (offline studies, ``t_f > 0``).

Degenerate case, decided once: an empty event log (a song of zero samples) has miss rate, underrun fraction,
real-time factor and mean inference time 0 (no call, no miss, nothing silenced), but its maximum lateness is
``nan``: there is no call whose lateness could be reported, and 0 would claim a call that exactly met its
deadline. The simulator's summary and the timing metrics agree on this because both come from
:func:`timing_summary`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from accbench.units import frames_to_ms, seconds_to_samples_ceil

__all__ = [
    "MISS_POLICIES",
    "NO_PREVIOUS_FINISH",
    "TimingSummary",
    "call_start",
    "chunk_start",
    "deadline",
    "delay_samples",
    "delay_samples_array",
    "feasible_future_visibility",
    "feasible_future_visibility_array",
    "lateness_s",
    "log_summary",
    "n_calls",
    "on_time",
    "silenced_samples",
    "timing_summary",
    "visible_end",
]

MissPolicy = Literal["truncate", "drop", "ignore"]
MISS_POLICIES: tuple[str, ...] = ("truncate", "drop", "ignore")

#: ``f_{-1}``: the finish time of the (non-existent) call before the first; earlier than any start.
NO_PREVIOUS_FINISH = -(2**62)


def delay_samples(delay_ms: float, sample_rate: int) -> int:
    """A delay (``L_in``, ``L_out``) in milliseconds as whole samples at ``sample_rate`` Hz, rounded up.

    The one conversion of configured delays to samples: a delay is never understated, and the simulator and
    the report's frontier agree on it.
    """
    return seconds_to_samples_ceil(delay_ms / 1000, sample_rate)


def delay_samples_array(delay_ms: np.ndarray, sample_rate: np.ndarray | int) -> np.ndarray:
    """:func:`delay_samples` elementwise.

    Parameters
    ----------
    delay_ms : array_like of float
        Non-negative delays in ms.
    sample_rate : array_like of int
        Hz, broadcastable against ``delay_ms``.

    Returns
    -------
    ndarray of int64
        Samples, of the broadcast shape.
    """
    delays, rates = np.broadcast_arrays(np.asarray(delay_ms, dtype=float), np.asarray(sample_rate, dtype=np.int64))
    converted: dict[tuple[float, int], int] = {}
    samples = np.empty(delays.size, dtype=np.int64)
    for position, key in enumerate(zip(delays.ravel().tolist(), rates.ravel().tolist(), strict=True)):
        if key not in converted:
            converted[key] = delay_samples(*key)
        samples[position] = converted[key]
    return samples.reshape(delays.shape)


def n_calls(n_samples: int, chunk_samples: int) -> int:
    """``ceil(N / K)``: the number of calls (chunks) for a song of ``n_samples`` samples."""
    return -(-n_samples // chunk_samples)


def chunk_start(index: int, chunk_samples: int) -> int:
    """``s_j = j * K``: first output sample (and playback time) of chunk ``index``."""
    return index * chunk_samples


def visible_end(chunk_start: int, future_visibility_samples: int, n_samples: int) -> int:
    """``v_j = clamp(s_j + T, 0, N)``: end (exclusive) of the input visible to the call of a chunk."""
    return min(max(chunk_start + future_visibility_samples, 0), n_samples)


def call_start(chunk_start: int, future_visibility_samples: int, input_latency: int, previous_finish: int) -> int:
    """``c_j = max(s_j + T + L_in, f_{j-1})``: when the call of a chunk starts, samples.

    Parameters
    ----------
    chunk_start : int
        ``s_j`` in samples.
    future_visibility_samples : int
        ``T = t_f * hop`` in samples (unclamped: negative values allow a count-in).
    input_latency : int
        ``L_in`` in samples.
    previous_finish : int
        ``f_{j-1}`` in samples (:data:`NO_PREVIOUS_FINISH` for the first call).
    """
    return max(chunk_start + future_visibility_samples + input_latency, previous_finish)


def deadline(chunk_start: int, output_latency: int) -> int:
    """``D_j = s_j - L_out``: the latest finish time (samples) at which a chunk is on time."""
    return chunk_start - output_latency


def on_time(call_finish: np.ndarray, deadline: np.ndarray) -> np.ndarray:
    """``f_j <= D_j``: whether each call was on time, elementwise over int arrays."""
    return np.asarray(call_finish) <= np.asarray(deadline)


def lateness_s(call_finish: np.ndarray, deadline: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(f_j - D_j) / sample_rate``: lateness in seconds (negative: slack), elementwise over int arrays."""
    return (np.asarray(call_finish) - np.asarray(deadline)) / sample_rate


def silenced_samples(
    call_finish: int, chunk_start: int, chunk_length: int, output_latency: int, on_miss: MissPolicy
) -> int:
    """How many leading samples of a chunk are silence under a miss policy.

    Parameters
    ----------
    call_finish : int
        ``f_j`` in samples.
    chunk_start : int
        ``s_j`` in samples.
    chunk_length : int
        Samples of the chunk inside the song (``K``, less for the last chunk).
    output_latency : int
        ``L_out`` in samples.
    on_miss : {"truncate", "drop", "ignore"}

    Returns
    -------
    int
        The first ``n`` samples of the chunk are silenced (``0 <= n <= chunk_length``).
    """
    passed = min(max(call_finish + output_latency - chunk_start, 0), chunk_length)
    if on_miss == "truncate":
        return passed
    if on_miss == "drop":
        return chunk_length if passed > 0 else 0
    return 0


def feasible_future_visibility_array(
    inference_samples: np.ndarray | int,
    chunk_samples: np.ndarray | int,
    hop: np.ndarray | int,
    input_latency: np.ndarray | int,
    output_latency: np.ndarray | int,
) -> tuple[np.ndarray, np.ndarray]:
    """The feasible future-visibility bound, elementwise over broadcastable integer arrays.

    ``t_f <= floor(-(L_in + L_out + d) / hop)`` frames, valid while ``d <= K``: then no call waits for the
    previous one and every call has the same slack. A model slower than real time (``d > K``) falls further
    behind each call whatever ``t_f``. Exact integer floor division: no rounding tolerance is needed.

    Parameters
    ----------
    inference_samples : int or ndarray of int
        ``d`` in samples.
    chunk_samples : int or ndarray of int
        ``K = chunk_frames * hop`` in samples.
    hop : int or ndarray of int
        Samples per frame (> 0).
    input_latency, output_latency : int or ndarray of int
        ``L_in`` and ``L_out`` in samples.

    Returns
    -------
    bound : ndarray of int64
        The bound in frames, of the broadcast shape (meaningful only where ``real_time``).
    real_time : ndarray of bool
        ``d <= K``: where a bound exists.

    Examples
    --------
    >>> bound, ok = feasible_future_visibility_array(np.array([0, 441, 442, 2205, 2206]), 2205, 441, 441, 0)
    >>> bound.tolist(), ok.tolist()
    ([-1, -2, -3, -6, -7], [True, True, True, True, False])
    """
    d, chunk, step, l_in, l_out = (
        np.asarray(value, dtype=np.int64)
        for value in (inference_samples, chunk_samples, hop, input_latency, output_latency)
    )
    return np.floor_divide(-(l_in + l_out + d), step), d <= chunk


def feasible_future_visibility(
    inference_samples: int, chunk_frames: int, hop: int, input_latency: int, output_latency: int
) -> int | None:
    """The largest future visibility (frames) with no missed deadline for a constant inference time.

    The scalar form of :func:`feasible_future_visibility_array`.

    Parameters
    ----------
    inference_samples : int
        ``d`` in samples.
    chunk_frames : int
    hop : int
    input_latency, output_latency : int
        ``L_in`` and ``L_out`` in samples.

    Returns
    -------
    int or None
        Frames (often negative), or ``None`` when not real-time feasible (``d > K``).
    """
    bound, real_time = feasible_future_visibility_array(
        inference_samples, chunk_frames * hop, hop, input_latency, output_latency
    )
    return int(bound) if bool(real_time) else None


@dataclass(frozen=True)
class TimingSummary:
    """Timing figures of one event log (see :func:`timing_summary`).

    Attributes
    ----------
    n_calls : int
    miss_rate : float
        Fraction of calls that finished after their deadline (0 for no call).
    underrun_fraction : float
        Silenced output samples over all ``n_samples`` (0 for an empty song).
    max_lateness_s : float
        Largest ``f_j - D_j`` in seconds (negative: every call had slack; ``nan`` for no call).
    feasible_future_visibility : int or None
        The bound (frames) at the worst inference time (0 for no call); ``None`` when slower than real time.
    feasible_future_visibility_ms : float or None
        The same bound in milliseconds.
    feasible : bool
        The log's ``t_f`` is within the bound.
    mean_recency_gap_s : float
        ``((K - 1) / 2 - t_f * hop) / sample_rate``: the mean age of the newest visible input at each output
        sample's playback time.
    real_time_factor : float
        Mean inference time over ``K`` (below 1 keeps up on average; 0 for no call).
    mean_inference_time_ms : float
        0 for no call.
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


def timing_summary(
    inference_time: np.ndarray,
    on_time: np.ndarray,
    lateness: np.ndarray,
    underrun_samples: np.ndarray,
    *,
    sample_rate: int,
    hop: int,
    chunk_frames: int,
    future_visibility: int,
    input_latency: int,
    output_latency: int,
    n_samples: int,
) -> TimingSummary:
    """The timing summary of an event log, from its columns and attrs.

    Parameters
    ----------
    inference_time : ndarray of int, shape (n_calls,)
        ``d_j`` in samples.
    on_time : ndarray of bool, shape (n_calls,)
    lateness : ndarray of float, shape (n_calls,)
        ``(f_j - D_j) / sample_rate`` in seconds (the event log's ``lateness_s``).
    underrun_samples : ndarray of int, shape (n_calls,)
        Silenced samples per chunk.
    sample_rate : int
        Hz.
    hop, chunk_frames, future_visibility : int
        Samples per frame, frames per call, ``t_f`` in frames.
    input_latency, output_latency : int
        ``L_in`` and ``L_out`` in samples.
    n_samples : int
        Song length ``N`` in samples.

    Returns
    -------
    TimingSummary
        See the module docstring for the empty-log case.
    """
    inference_time = np.asarray(inference_time, dtype=np.int64)
    count = int(inference_time.size)
    chunk = chunk_frames * hop
    worst = int(inference_time.max()) if count else 0
    mean_inference = float(inference_time.mean()) if count else 0.0
    bound = feasible_future_visibility(worst, chunk_frames, hop, input_latency, output_latency)
    return TimingSummary(
        n_calls=count,
        miss_rate=float((~np.asarray(on_time, dtype=bool)).mean()) if count else 0.0,
        underrun_fraction=float(np.sum(underrun_samples) / n_samples) if n_samples else 0.0,
        max_lateness_s=float(np.max(lateness)) if count else math.nan,
        feasible_future_visibility=bound,
        feasible_future_visibility_ms=None if bound is None else frames_to_ms(bound, sample_rate, hop),
        feasible=bound is not None and future_visibility <= bound,
        mean_recency_gap_s=((chunk - 1) / 2 - future_visibility * hop) / sample_rate,
        real_time_factor=mean_inference / chunk,
        mean_inference_time_ms=mean_inference * 1000 / sample_rate,
    )


def log_summary(columns: Mapping[str, Any], attrs: Mapping[str, Any]) -> TimingSummary:
    """:func:`timing_summary` of an event log given as its columns and its attrs.

    Parameters
    ----------
    columns : mapping of str to array_like
        The log's ``inference_time``, ``on_time``, ``lateness_s`` and ``underrun_samples`` columns by name
        (a pandas DataFrame works as is).
    attrs : mapping
        ``sample_rate, hop, chunk_frames, future_visibility, input_latency_samples, output_latency_samples,
        n_samples`` (the log's ``DataFrame.attrs``).
    """
    return timing_summary(
        np.asarray(columns["inference_time"], dtype=np.int64),
        np.asarray(columns["on_time"], dtype=bool),
        np.asarray(columns["lateness_s"], dtype=float),
        np.asarray(columns["underrun_samples"], dtype=np.int64),
        sample_rate=int(attrs["sample_rate"]),
        hop=int(attrs["hop"]),
        chunk_frames=int(attrs["chunk_frames"]),
        future_visibility=int(attrs["future_visibility"]),
        input_latency=int(attrs["input_latency_samples"]),
        output_latency=int(attrs["output_latency_samples"]),
        n_samples=int(attrs["n_samples"]),
    )
