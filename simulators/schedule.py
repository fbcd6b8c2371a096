"""The timing rules of the simulator as plain integer functions (DESIGN.md section 3).

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
"""

from __future__ import annotations

from typing import Literal

__all__ = ["MISS_POLICIES", "feasible_future_visibility", "silenced_samples", "visible_end"]

MissPolicy = Literal["truncate", "drop", "ignore"]
MISS_POLICIES: tuple[str, ...] = ("truncate", "drop", "ignore")


def visible_end(chunk_start: int, future_visibility_samples: int, n_samples: int) -> int:
    """``v_j = clamp(s_j + T, 0, N)``: end (exclusive) of the input visible to the call of a chunk."""
    return min(max(chunk_start + future_visibility_samples, 0), n_samples)


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


def feasible_future_visibility(
    inference_samples: int, chunk_frames: int, hop: int, input_latency: int, output_latency: int
) -> int | None:
    """The largest future visibility (frames) with no missed deadline for a constant inference time.

    ``t_f <= floor(-(L_in + L_out + d) / hop)``, valid while ``d <= K``: then no call waits for the previous
    one and every call has the same slack. A model slower than real time (``d > K``) falls further behind each
    call whatever ``t_f``; ``None`` is returned.

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
        Frames (often negative), or ``None`` when not real-time feasible.
    """
    if inference_samples > chunk_frames * hop:
        return None
    return -(input_latency + output_latency + inference_samples) // hop
