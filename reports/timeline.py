"""The timeline figure of one simulation: what the model could hear, when it ran, and what was played.

This is the picture that explains future visibility ``t_f`` and chunk size ``k``. It reads an event log
(one row per call, integer sample positions on the model clock, see CONTRIBUTING.md) and the input audio:

- top: the input waveform with the chunk boundaries ``s_j`` and each call's visible-input end ``v_j``;
- middle: one row per call ``j``: the chunk's playback span ``[s_j, s_j + K)``, the moment its input was
  complete (``v_j / sr + L_in``), the call itself from start ``c_j`` to finish ``f_j`` (green on time, red
  late) and its deadline ``D_j = s_j / sr - L_out``;
- bottom: the output as heard, chunk by chunk, with deadline misses and underruns (silenced samples) shaded.

- :func:`plot_timeline`: the figure.
- :func:`save_timeline`: the figure written to PNG/SVG/PDF (atomically).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from accbench.errors import DataError
from accbench.reports.plots import save_figure

__all__ = ["EVENT_COLUMNS", "plot_timeline", "save_timeline"]

EVENT_COLUMNS = (
    "index",
    "chunk_start",
    "visible_end",
    "call_start",
    "inference_time",
    "call_finish",
    "deadline",
    "on_time",
    "underrun_samples",
)

_ON_TIME = "#2ca02c"
_LATE = "#d62728"
_CHUNK = "#9ecae1"
_VISIBLE = "#ff7f0e"


def _validate(audio: np.ndarray, events: pd.DataFrame) -> tuple[np.ndarray, int, int]:
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise DataError(f"event log lacks column(s) {', '.join(missing)}")
    attrs = events.attrs
    for key in ("sample_rate", "hop", "chunk_frames"):
        if key not in attrs:
            raise DataError(f"event log attrs lack {key!r} (needed to place calls in time)")
    array = np.asarray(audio, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise DataError(f"input audio must be (channels, n_samples), got shape {array.shape}")
    return array, int(attrs["sample_rate"]), int(attrs["hop"]) * int(attrs["chunk_frames"])


def _envelope(mono: np.ndarray, start: int, stop: int, bins: int = 1500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample positions, minima and maxima of ``mono[start:stop]`` in at most ``bins`` bins."""
    start, stop = max(0, start), min(mono.size, stop)
    segment = mono[start:stop]
    if segment.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    width = max(1, int(np.ceil(segment.size / bins)))
    usable = segment[: segment.size // width * width].reshape(-1, width)
    if usable.size == 0:
        usable = segment.reshape(1, -1)
        width = segment.size
    positions = start + np.arange(usable.shape[0]) * width + width / 2
    return positions, usable.min(axis=1), usable.max(axis=1)


def plot_timeline(
    input_audio: np.ndarray,
    events: pd.DataFrame,
    *,
    first_call: int = 0,
    max_calls: int | None = 12,
    title: str | None = None,
) -> Figure:
    """Draw the timeline of one simulation.

    Parameters
    ----------
    input_audio : ndarray, float32, shape (channels, n_samples)
        The input at the model's sample rate (a 1-D array is one channel).
    events : DataFrame
        The event log (columns :data:`EVENT_COLUMNS`, ``attrs`` with ``sample_rate``, ``hop``,
        ``chunk_frames`` and, when known, ``future_visibility``, ``input_latency_samples``,
        ``output_latency_samples``, ``on_miss``, ``latency``).
    first_call : int
        Index of the first call shown.
    max_calls : int or None
        How many calls to show (default 12; ``None``: all). Long songs are easier to read in a window.
    title : str, optional
        Figure title (default: the config).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Three stacked panels sharing a time axis in seconds.

    Examples
    --------
    >>> figure = plot_timeline(audio, events, max_calls=8)  # doctest: +SKIP
    >>> figure.savefig("timeline.png")  # doctest: +SKIP
    """
    audio, sr, size = _validate(input_audio, events)
    attrs = events.attrs
    log = events.sort_values("index").reset_index(drop=True)
    stop = len(log) if max_calls is None else min(len(log), first_call + max_calls)
    shown = log.iloc[first_call:stop]
    figure = Figure(figsize=(11, 7.2), layout="constrained")
    wave_axis, call_axis, out_axis = figure.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1.0, 2.2, 0.8]})
    input_latency = int(attrs.get("input_latency_samples", 0) or 0)
    output_latency = int(attrs.get("output_latency_samples", 0) or 0)
    hop = int(attrs["hop"])
    if shown.empty:
        for axis in (wave_axis, call_axis, out_axis):
            axis.text(0.5, 0.5, "no calls", transform=axis.transAxes, ha="center", va="center")
        return figure

    chunk_start = shown["chunk_start"].to_numpy(dtype=np.int64)
    visible = shown["visible_end"].to_numpy(dtype=np.int64)
    call_start = shown["call_start"].to_numpy(dtype=np.int64)
    call_finish = shown["call_finish"].to_numpy(dtype=np.int64)
    deadline = shown["deadline"].to_numpy(dtype=np.int64)
    on_time = shown["on_time"].astype(bool).to_numpy()
    underrun = shown["underrun_samples"].to_numpy(dtype=np.int64)
    calls = shown["index"].to_numpy(dtype=np.int64)
    left = int(min(chunk_start.min(), deadline.min(), visible.min(), call_start.min()))
    right = int(max((chunk_start + size).max(), call_finish.max() + output_latency, visible.max()))
    pad = max(1, (right - left) // 50)
    left, right = left - pad, right + pad

    # Input waveform with chunk boundaries and visible-input ends.
    mono = audio.mean(axis=0)
    positions, low, high = _envelope(mono, left, right)
    if positions.size:
        wave_axis.fill_between(positions / sr, low, high, color="0.35", linewidth=0.4, step="mid")
    for start in chunk_start:
        for axis in (wave_axis, out_axis):
            axis.axvline(start / sr, color="0.6", linestyle=":", linewidth=0.8)
    wave_axis.vlines(visible / sr, -1.05, 1.05, color=_VISIBLE, linewidth=1.2, alpha=0.8)
    wave_axis.set_ylim(-1.05, 1.05)
    peak = float(np.max(np.abs(mono[max(0, left) : max(0, right)]))) if right > 0 and mono.size else 0.0
    if 0 < peak < 0.5:
        wave_axis.set_ylim(-1.15 * peak, 1.15 * peak)
    wave_axis.set_ylabel("input")
    wave_axis.set_title(
        "Input as performed: chunk boundaries s_j (dotted) and visible-input ends v_j (orange)", fontsize=9
    )

    # One row per call.
    for row in range(len(calls)):
        y = row
        call_axis.broken_barh([(chunk_start[row] / sr, size / sr)], (y - 0.38, 0.76), color=_CHUNK, alpha=0.6)
        arrival = (visible[row] + input_latency) / sr
        call_axis.plot([visible[row] / sr], [y], marker=">", color=_VISIBLE, markersize=7, linestyle="")
        if input_latency:
            call_axis.plot([visible[row] / sr, arrival], [y, y], color=_VISIBLE, linewidth=1.0)
        color = _ON_TIME if on_time[row] else _LATE
        duration = max(call_finish[row] - call_start[row], 0)
        call_axis.broken_barh([(call_start[row] / sr, max(duration, 1) / sr)], (y - 0.2, 0.4), color=color)
        call_axis.plot([deadline[row] / sr] * 2, [y - 0.42, y + 0.42], color="black", linewidth=1.6)
        if not on_time[row]:
            call_axis.annotate(
                "late",
                (call_finish[row] / sr, y),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=7,
                color=_LATE,
                va="center",
            )
    # Show t_f once, on the first call whose visible end is not clamped at the song's start.
    tf = attrs.get("future_visibility")
    unclamped = [row for row in range(len(calls)) if visible[row] > 0 and visible[row] != chunk_start[row]]
    if tf is not None and unclamped:
        row = unclamped[0]
        call_axis.annotate(
            "",
            xy=(chunk_start[row] / sr, row + 0.33),
            xytext=(visible[row] / sr, row + 0.33),
            arrowprops={"arrowstyle": "<->", "color": _VISIBLE, "linewidth": 1.0},
        )
        call_axis.text(
            (visible[row] + chunk_start[row]) / 2 / sr,
            row + 0.42,
            f"t_f = {int(tf) * 1000.0 * hop / sr:g} ms",
            ha="center",
            va="top",
            fontsize=7,
            color=_VISIBLE,
        )
    call_axis.set_yticks(range(len(calls)), [f"j={j}" for j in calls], fontsize=7)
    call_axis.set_ylim(len(calls) - 0.5, -0.5)
    call_axis.set_ylabel("call")
    call_axis.grid(True, axis="x", alpha=0.3)
    call_axis.legend(
        handles=[
            Patch(color=_CHUNK, alpha=0.6, label="chunk j plays [s_j, s_j + K)"),
            Line2D([], [], marker=">", color=_VISIBLE, linestyle="-", label="input visible up to v_j (arrives + L_in)"),
            Patch(color=_ON_TIME, label="call c_j → f_j, on time"),
            Patch(color=_LATE, label="call c_j → f_j, late"),
            Line2D([], [], color="black", linewidth=1.6, label="deadline D_j = s_j − L_out"),
        ],
        fontsize=7,
        loc="upper right",
        ncols=2,
        framealpha=0.9,
    )

    # Output as heard.
    for row in range(len(calls)):
        start, end = chunk_start[row] / sr, (chunk_start[row] + size) / sr
        out_axis.axvspan(start, end, ymin=0.2, ymax=0.8, color=_ON_TIME if on_time[row] else "#fdd0a2", alpha=0.5)
        if underrun[row] > 0:
            # Truncate silences the chunk's first samples; drop silences all of it.
            out_axis.axvspan(
                start,
                start + min(int(underrun[row]), size) / sr,
                ymin=0.2,
                ymax=0.8,
                color=_LATE,
                alpha=0.75,
                hatch="//",
            )
    out_axis.set_yticks([])
    out_axis.set_ylabel("output")
    out_axis.set_xlabel("time on the model clock [s]")
    out_axis.legend(
        handles=[
            Patch(color=_ON_TIME, alpha=0.5, label="played (call on time)"),
            Patch(color="#fdd0a2", alpha=0.5, label="deadline missed"),
            Patch(color=_LATE, alpha=0.75, hatch="//", label="underrun (silence)"),
        ],
        fontsize=7,
        loc="upper right",
        ncols=3,
    )
    out_axis.set_xlim(left / sr, right / sr)

    if title is None:
        frame_ms = 1000.0 * hop / sr
        first_line, second_line = [], []
        tf = attrs.get("future_visibility")
        if tf is not None:
            first_line.append(f"t_f = {int(tf)} frames ({int(tf) * frame_ms:.4g} ms)")
        first_line.append(f"k = {int(attrs['chunk_frames'])} frames ({size * 1000.0 / sr:.4g} ms)")
        second_line.append(
            f"L_in = {input_latency * 1000.0 / sr:.3g} ms, L_out = {output_latency * 1000.0 / sr:.3g} ms"
        )
        if attrs.get("latency"):
            second_line.append(f"inference: {attrs['latency']}")
        if attrs.get("on_miss"):
            second_line.append(f"on miss: {attrs['on_miss']}")
        title = "; ".join(first_line) + "\n" + "; ".join(second_line)
    misses = int((~log["on_time"].astype(bool)).sum())
    figure.suptitle(f"{title}\n{misses} of {len(log)} calls missed their deadline", fontsize=11)
    return figure


def save_timeline(
    path: str | os.PathLike, input_audio: np.ndarray, events: pd.DataFrame, *, dpi: int = 120, **kwargs: object
) -> Path:
    """Draw the timeline and write it to ``path`` (format from the suffix: ``.png``, ``.svg``, ``.pdf``).

    Keyword arguments go to :func:`plot_timeline`.
    """
    figure = plot_timeline(input_audio, events, **kwargs)  # type: ignore[arg-type]
    return save_figure(figure, path, dpi=dpi)
