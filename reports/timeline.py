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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from accbench.errors import DataError
from accbench.reports.plot_style import save_figure
from accbench.simulators import EVENT_COLUMNS

__all__ = ["EVENT_COLUMNS", "plot_timeline", "save_timeline"]

#: The event-log columns the figure draws (all of :data:`EVENT_COLUMNS` but ``lateness_s`` and ``repairs``).
_DRAWN_COLUMNS = tuple(c for c in EVENT_COLUMNS if c not in ("lateness_s", "repairs"))

_ON_TIME = "#2ca02c"
_LATE = "#d62728"
_CHUNK = "#9ecae1"
_VISIBLE = "#ff7f0e"


def _validate(audio: np.ndarray, events: pd.DataFrame) -> tuple[np.ndarray, int, int]:
    missing = [c for c in _DRAWN_COLUMNS if c not in events.columns]
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


@dataclass(frozen=True)
class _Calls:
    """The shown calls' event-log columns as arrays (integer samples on the model clock)."""

    index: np.ndarray
    chunk_start: np.ndarray
    visible: np.ndarray
    call_start: np.ndarray
    call_finish: np.ndarray
    deadline: np.ndarray
    on_time: np.ndarray
    underrun: np.ndarray

    @classmethod
    def of(cls, shown: pd.DataFrame) -> _Calls:
        def ints(column: str) -> np.ndarray:
            return shown[column].to_numpy(dtype=np.int64)

        return cls(
            index=ints("index"),
            chunk_start=ints("chunk_start"),
            visible=ints("visible_end"),
            call_start=ints("call_start"),
            call_finish=ints("call_finish"),
            deadline=ints("deadline"),
            on_time=shown["on_time"].astype(bool).to_numpy(),
            underrun=ints("underrun_samples"),
        )

    def span(self, size: int, output_latency: int) -> tuple[int, int]:
        """The shown interval (samples), padded by 2% on each side."""
        left = int(min(self.chunk_start.min(), self.deadline.min(), self.visible.min(), self.call_start.min()))
        right = int(max((self.chunk_start + size).max(), self.call_finish.max() + output_latency, self.visible.max()))
        pad = max(1, (right - left) // 50)
        return left - pad, right + pad


@dataclass(frozen=True)
class _Clock:
    """The timing attrs of the event log the figure needs: ``sr`` in Hz, the rest in samples."""

    sr: int
    hop: int
    size: int
    input_latency: int
    output_latency: int

    @classmethod
    def of(cls, attrs: dict, sr: int, size: int) -> _Clock:
        return cls(
            sr=sr,
            hop=int(attrs["hop"]),
            size=size,
            input_latency=int(attrs.get("input_latency_samples", 0) or 0),
            output_latency=int(attrs.get("output_latency_samples", 0) or 0),
        )


def _draw_input(wave_axis, out_axis, audio: np.ndarray, calls: _Calls, clock: _Clock, left: int, right: int) -> None:
    """Top panel: the input waveform with chunk boundaries (also on the output panel) and visible-input ends."""
    sr = clock.sr
    mono = audio.mean(axis=0)
    positions, low, high = _envelope(mono, left, right)
    if positions.size:
        wave_axis.fill_between(positions / sr, low, high, color="0.35", linewidth=0.4, step="mid")
    for start in calls.chunk_start:
        for axis in (wave_axis, out_axis):
            axis.axvline(start / sr, color="0.6", linestyle=":", linewidth=0.8)
    wave_axis.vlines(calls.visible / sr, -1.05, 1.05, color=_VISIBLE, linewidth=1.2, alpha=0.8)
    wave_axis.set_ylim(-1.05, 1.05)
    peak = float(np.max(np.abs(mono[max(0, left) : max(0, right)]))) if right > 0 and mono.size else 0.0
    if 0 < peak < 0.5:
        wave_axis.set_ylim(-1.15 * peak, 1.15 * peak)
    wave_axis.set_ylabel("input")
    wave_axis.set_title(
        "Input as performed: chunk boundaries s_j (dotted) and visible-input ends v_j (orange)", fontsize=9
    )


def _draw_call_rows(call_axis, calls: _Calls, clock: _Clock) -> None:
    """Middle panel: per call its chunk span, input arrival, the call itself and its deadline."""
    sr, size, input_latency = clock.sr, clock.size, clock.input_latency
    for y in range(len(calls.index)):
        call_axis.broken_barh([(calls.chunk_start[y] / sr, size / sr)], (y - 0.38, 0.76), color=_CHUNK, alpha=0.6)
        arrival = (calls.visible[y] + input_latency) / sr
        call_axis.plot([calls.visible[y] / sr], [y], marker=">", color=_VISIBLE, markersize=7, linestyle="")
        if input_latency:
            call_axis.plot([calls.visible[y] / sr, arrival], [y, y], color=_VISIBLE, linewidth=1.0)
        color = _ON_TIME if calls.on_time[y] else _LATE
        duration = max(calls.call_finish[y] - calls.call_start[y], 0)
        call_axis.broken_barh([(calls.call_start[y] / sr, max(duration, 1) / sr)], (y - 0.2, 0.4), color=color)
        call_axis.plot([calls.deadline[y] / sr] * 2, [y - 0.42, y + 0.42], color="black", linewidth=1.6)
        if not calls.on_time[y]:
            call_axis.annotate(
                "late",
                (calls.call_finish[y] / sr, y),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=7,
                color=_LATE,
                va="center",
            )


def _annotate_visibility(call_axis, calls: _Calls, clock: _Clock, tf: object) -> None:
    """Show ``t_f`` once, on the first call whose visible end is not clamped at the song's start."""
    visible, chunk_start, sr = calls.visible, calls.chunk_start, clock.sr
    unclamped = [row for row in range(len(calls.index)) if visible[row] > 0 and visible[row] != chunk_start[row]]
    if tf is None or not unclamped:
        return
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
        f"t_f = {int(tf) * 1000.0 * clock.hop / sr:g} ms",
        ha="center",
        va="top",
        fontsize=7,
        color=_VISIBLE,
    )


def _finish_call_axis(call_axis, calls: _Calls) -> None:
    """Middle panel: call labels, limits and legend."""
    n = len(calls.index)
    call_axis.set_yticks(range(n), [f"j={j}" for j in calls.index], fontsize=7)
    call_axis.set_ylim(n - 0.5, -0.5)
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


def _draw_output(out_axis, calls: _Calls, clock: _Clock, left: int, right: int) -> None:
    """Bottom panel: the output as heard, chunk by chunk, misses and underruns shaded."""
    sr, size = clock.sr, clock.size
    for row in range(len(calls.index)):
        start, end = calls.chunk_start[row] / sr, (calls.chunk_start[row] + size) / sr
        played = _ON_TIME if calls.on_time[row] else "#fdd0a2"
        out_axis.axvspan(start, end, ymin=0.2, ymax=0.8, color=played, alpha=0.5)
        if calls.underrun[row] > 0:
            # Truncate silences the chunk's first samples; drop silences all of it.
            out_axis.axvspan(
                start,
                start + min(int(calls.underrun[row]), size) / sr,
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


def _default_title(attrs: dict, clock: _Clock) -> str:
    """Two lines: ``t_f`` and ``k``; the delays, latency model and miss policy."""
    sr = clock.sr
    frame_ms = 1000.0 * clock.hop / sr
    first_line, second_line = [], []
    tf = attrs.get("future_visibility")
    if tf is not None:
        first_line.append(f"t_f = {int(tf)} frames ({int(tf) * frame_ms:.4g} ms)")
    first_line.append(f"k = {int(attrs['chunk_frames'])} frames ({clock.size * 1000.0 / sr:.4g} ms)")
    second_line.append(
        f"L_in = {clock.input_latency * 1000.0 / sr:.3g} ms, L_out = {clock.output_latency * 1000.0 / sr:.3g} ms"
    )
    if attrs.get("latency"):
        second_line.append(f"inference: {attrs['latency']}")
    if attrs.get("on_miss"):
        second_line.append(f"on miss: {attrs['on_miss']}")
    return "; ".join(first_line) + "\n" + "; ".join(second_line)


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
    if shown.empty:
        for axis in (wave_axis, call_axis, out_axis):
            axis.text(0.5, 0.5, "no calls", transform=axis.transAxes, ha="center", va="center")
        return figure
    clock = _Clock.of(attrs, sr, size)
    calls = _Calls.of(shown)
    left, right = calls.span(size, clock.output_latency)
    _draw_input(wave_axis, out_axis, audio, calls, clock, left, right)
    _draw_call_rows(call_axis, calls, clock)
    _annotate_visibility(call_axis, calls, clock, attrs.get("future_visibility"))
    _finish_call_axis(call_axis, calls)
    _draw_output(out_axis, calls, clock, left, right)
    if title is None:
        title = _default_title(attrs, clock)
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
