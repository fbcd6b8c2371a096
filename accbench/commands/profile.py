"""``accbench profile``: time a model's calls and write a latency trace that later runs replay exactly.

The model is reset for one song and called like the simulator calls it (the newly visible input of each
chunk, same visibility rule), ``--warmup`` untimed calls first, then ``--calls`` timed ones (wall clock,
``time.perf_counter``). The trace is a CSV with a header and one row per timed call::

    index,chunk_frames,inference_time_s
    0,10,0.00123456
    ...

which ``--latency trace:FILE`` (:mod:`accbench.simulators.latency`) replays deterministically, cycling when
a song has more calls. A summary (mean, p50/p95/p99, max per call, and the real-time factor: mean call time
over the chunk's duration) is printed and optionally written as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accbench.atomic import atomic_write_text
from accbench.commands.common import add_command, add_model_arguments
from accbench.commands.options import parse_model_options
from accbench.errors import ConfigError, ModelError
from accbench.models import load_model
from accbench.protocol import ModelInfo, Session, StepContext, StreamingModel

__all__ = ["ProfileResult", "profile_model", "register", "write_trace"]


@dataclass(frozen=True)
class ProfileResult:
    """Per-call wall-clock times of a profiled model.

    Attributes
    ----------
    times_s : ndarray, float64, shape (calls,)
        Seconds per timed call (wall clock).
    model : str
        The model's declared name.
    chunk_frames, future_visibility : int
        ``k`` and ``t_f`` of the calls, in frames.
    sample_rate, hop : int
        The model's rate in Hz and its samples per frame.
    """

    model: str
    chunk_frames: int
    future_visibility: int
    sample_rate: int
    hop: int
    times_s: np.ndarray

    @property
    def chunk_s(self) -> float:
        """Duration of one chunk, in seconds."""
        return self.chunk_frames * self.hop / self.sample_rate

    def summary(self) -> dict[str, Any]:
        """Mean, percentiles and max per call (seconds) and the real-time factor (mean / chunk duration)."""
        times = self.times_s
        mean = float(times.mean())
        return {
            "model": self.model,
            "chunk_frames": self.chunk_frames,
            "future_visibility": self.future_visibility,
            "calls": int(times.size),
            "chunk_s": self.chunk_s,
            "mean_s": mean,
            "p50_s": float(np.percentile(times, 50)),
            "p95_s": float(np.percentile(times, 95)),
            "p99_s": float(np.percentile(times, 99)),
            "max_s": float(times.max()),
            "real_time_factor": mean / self.chunk_s,
            "x_real_time": self.chunk_s / mean if mean > 0 else float("inf"),
        }


def _default_input(n_samples: int, sample_rate: int, channels: int, seed: int) -> np.ndarray:
    """A deterministic melody-like test input: a tone changing pitch every 0.3 s, with a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / sample_rate
    notes = 220.0 * 2.0 ** (rng.integers(0, 24, size=int(t[-1] / 0.3) + 2 if n_samples else 1) / 12.0)
    frequency = notes[(t / 0.3).astype(int)]
    phase = 2 * np.pi * np.cumsum(frequency) / sample_rate
    audio = 0.3 * np.sin(phase) + 0.01 * rng.standard_normal(n_samples)
    return np.repeat(audio[np.newaxis, :].astype(np.float32), channels, axis=0)


def profile_model(
    model: StreamingModel,
    *,
    chunk_frames: int,
    calls: int = 200,
    warmup_calls: int = 5,
    future_visibility: int = 0,
    input_audio: np.ndarray | None = None,
    seed: int = 0,
) -> ProfileResult:
    """Time ``calls`` calls of ``model`` after ``warmup_calls`` untimed ones.

    Parameters
    ----------
    model : StreamingModel
        Loaded; it is reset here and not closed.
    chunk_frames : int
        ``k``, frames per call.
    calls, warmup_calls : int
        Timed and untimed calls.
    future_visibility : int
        ``t_f`` in frames, for how much input each call receives.
    input_audio : ndarray, optional
        ``(channels, n)`` float32 at the model's rate and channel count; repeated when shorter than the run.
        Default: a deterministic synthetic melody.
    seed : int
        Passed to ``reset`` (and seeds the synthetic input).

    Returns
    -------
    ProfileResult
    """
    if chunk_frames < 1 or calls < 1 or warmup_calls < 0:
        raise ConfigError(
            f"need chunk_frames >= 1, calls >= 1, warmup_calls >= 0; got {chunk_frames}, {calls}, {warmup_calls}"
        )
    info = model.info
    hop = int(info.hop)
    chunk = chunk_frames * hop
    total_calls = calls + warmup_calls
    n_samples = total_calls * chunk
    x = _profile_input(info, input_audio, n_samples, seed)
    session = Session("profile", info.sample_rate, hop, future_visibility, chunk_frames, n_samples, seed)
    model.reset(session)
    times = np.zeros(calls)
    previous = 0
    clock = time.perf_counter
    for index in range(total_calls):
        start = index * chunk
        end = min(max(start + future_visibility * hop, 0), n_samples)
        new_input = x[:, previous:end].copy()
        new_input.flags.writeable = False
        ctx = StepContext(index, start, end, chunk_frames, hop, True, n_samples - start)
        began = clock()
        out = model.step(new_input, ctx)
        elapsed = clock() - began
        if getattr(out, "shape", None) != (info.out_channels, chunk):
            raise ModelError(
                f"step returned shape {getattr(out, 'shape', type(out).__name__)}, expected "
                f"{(info.out_channels, chunk)}",
                model=info.name,
                call=index,
            )
        if index >= warmup_calls:
            times[index - warmup_calls] = elapsed
        previous = end
    return ProfileResult(info.name, chunk_frames, future_visibility, info.sample_rate, hop, times)


def _profile_input(info: ModelInfo, input_audio: np.ndarray | None, n_samples: int, seed: int) -> np.ndarray:
    """``(channels, n_samples)`` float32: ``input_audio`` repeated to length, or the synthetic melody."""
    if input_audio is None:
        return _default_input(n_samples, info.sample_rate, info.channels, seed)
    x = np.asarray(input_audio, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != info.channels or x.shape[1] == 0:
        raise ConfigError(f"input must be ({info.channels}, n > 0) float32 for model {info.name!r}")
    return np.tile(x, (1, -(-n_samples // x.shape[1])))[:, :n_samples]


def write_trace(path: str | Path, result: ProfileResult) -> None:
    """Write the latency trace CSV (``index,chunk_frames,inference_time_s``) atomically."""
    lines = ["index,chunk_frames,inference_time_s"]
    lines += [f"{index},{result.chunk_frames},{seconds:.9f}" for index, seconds in enumerate(result.times_s)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``profile`` to the CLI."""
    parser = add_command(
        subparsers, "profile", run, help="time a model's calls and write a latency trace for --latency trace:FILE"
    )
    add_model_arguments(parser)
    parser.add_argument("--chunk-frames", type=int, required=True, help="k, frames per call")
    parser.add_argument("--future-visibility", type=int, default=0, help="t_f in frames (default 0)")
    parser.add_argument("--calls", type=int, default=200, help="timed calls (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before them (default 5)")
    parser.add_argument("--input", type=Path, help="input audio (default: a synthetic melody)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="latency trace CSV to write")
    parser.add_argument("--summary-json", type=Path, help="summary JSON to write")


def run(args: argparse.Namespace) -> int:
    """Call a model chunk by chunk with real timing; write one row per call (inference_time_s) and a p50/p95/p99
    summary. The trace makes later simulations deterministic.
    """
    model = load_model(args.model, **parse_model_options(args.model_option))
    try:
        audio = None
        if args.input is not None:
            from accbench.api import prepare_audio

            audio = prepare_audio(
                args.input, None, model.info, name="input", song=args.input.stem, channels=model.info.channels
            )
        result = profile_model(
            model,
            chunk_frames=args.chunk_frames,
            calls=args.calls,
            warmup_calls=args.warmup,
            future_visibility=args.future_visibility,
            input_audio=audio,
            seed=args.seed,
        )
    finally:
        model.close()
    summary = result.summary()
    if args.out is not None:
        write_trace(args.out, result)
        summary["trace"] = str(args.out)
    if args.summary_json is not None:
        atomic_write_text(args.summary_json, json.dumps(summary, indent=2) + "\n")
    print(
        f"{summary['model']}: {summary['calls']} calls of {args.chunk_frames} frames "
        f"({summary['chunk_s'] * 1000:g} ms): "
        f"mean {summary['mean_s'] * 1000:.3f} ms, p50 {summary['p50_s'] * 1000:.3f} ms, "
        f"p95 {summary['p95_s'] * 1000:.3f} ms, p99 {summary['p99_s'] * 1000:.3f} ms, "
        f"max {summary['max_s'] * 1000:.3f} ms; {summary['x_real_time']:.1f}x real time"
    )
    if args.out is not None:
        print(f"trace written to {args.out}; replay it with --latency trace:{args.out}")
    return 0
