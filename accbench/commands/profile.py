"""``accbench profile``: time a model's calls and write a latency trace that later runs replay exactly.

The model is reset for one song and called like the simulator calls it (the newly visible input of each
chunk, same visibility rule), ``--warmup`` untimed calls first, then ``--calls`` timed ones (wall clock,
``time.perf_counter``). The trace is a CSV with a header and one row per timed call::

    index,chunk_frames,inference_time_s
    0,10,0.00123456
    ...

which ``--latency trace:FILE`` (:mod:`accbench.simulators.latency`) replays deterministically, cycling when
a song has more calls. A summary is printed and optionally written as JSON: mean, p50/p95/p99 and max per
call, the real-time factor (mean call time over the chunk's duration) and the verdict against the call's
time budget, ``k * hop / sample_rate - L_in - L_out`` (the time a call has when it is handed the input one
chunk ahead, ``t_f = -k``, with the configured ``--input-latency-ms`` and ``--output-latency-ms``): "within
budget" when the p99 call time fits (:data:`VERDICT_PERCENTILE`), else "over budget", with the number of
calls over it and the largest ``t_f`` that runs without a missed deadline at that call time.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from accbench.atomic import atomic_write_text
from accbench.commands.common import add_command, add_delay_arguments, add_model_arguments, positive_int
from accbench.commands.options import parse_model_options
from accbench.errors import ConfigError, ModelError
from accbench.models import load_model
from accbench.protocol import ModelInfo, Session, StepContext, StreamingModel
from accbench.simulators.schedule import delay_samples, feasible_future_visibility

__all__ = [
    "VERDICT_PERCENTILE",
    "ProfileResult",
    "format_summary",
    "profile_model",
    "register",
    "replayed_samples",
    "write_trace",
]

#: The per-call percentile the budget verdict is taken at ("within budget" when it fits).
VERDICT_PERCENTILE = 99


def _trace_text(seconds: float) -> str:
    """A call time as the trace writes it: seconds with nine decimals."""
    return f"{seconds:.9f}"


def replayed_samples(seconds: float, sample_rate: int) -> int:
    """The whole samples ``--latency trace:FILE`` replays for a call of ``seconds``: the written value, rounded up.

    Comparing these with the budget in samples decides as the simulator would (no float noise at the edge).
    """
    return math.ceil(Fraction(_trace_text(seconds)) * sample_rate)


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
    input_latency_ms, output_latency_ms : float
        ``L_in`` and ``L_out`` in ms, taken from the time budget (:attr:`budget_s`); they do not change the calls.
    """

    model: str
    chunk_frames: int
    future_visibility: int
    sample_rate: int
    hop: int
    times_s: np.ndarray
    input_latency_ms: float = 0.0
    output_latency_ms: float = 0.0

    @property
    def chunk_s(self) -> float:
        """Duration of one chunk, in seconds."""
        return self.chunk_frames * self.hop / self.sample_rate

    def _delays_samples(self) -> tuple[int, int]:
        """``L_in`` and ``L_out`` in whole samples, rounded up as the simulator rounds them."""
        return (
            delay_samples(self.input_latency_ms, self.sample_rate),
            delay_samples(self.output_latency_ms, self.sample_rate),
        )

    @property
    def budget_samples(self) -> int:
        """Time one call has, in samples: the chunk ``k * hop`` less ``L_in`` and ``L_out`` (may be <= 0)."""
        input_latency, output_latency = self._delays_samples()
        return self.chunk_frames * self.hop - input_latency - output_latency

    @property
    def budget_s(self) -> float:
        """:attr:`budget_samples` in seconds."""
        return self.budget_samples / self.sample_rate

    def summary(self) -> dict[str, Any]:
        """Mean, percentiles and max per call (seconds), the real-time factor (mean / chunk duration) and the
        verdict against :attr:`budget_samples` at the :data:`VERDICT_PERCENTILE` call time (call times in the
        whole samples a trace replay uses, :func:`replayed_samples`).

        ``feasible_future_visibility`` is the largest ``t_f`` (frames) with no missed deadline for a constant
        inference time equal to that percentile, ``None`` when it exceeds the chunk's duration (slower than
        real time at any ``t_f``).
        """
        times = self.times_s
        mean = float(times.mean())
        budget = self.budget_samples
        verdict_s = float(np.percentile(times, VERDICT_PERCENTILE))
        inference_samples = replayed_samples(verdict_s, self.sample_rate)
        input_latency, output_latency = self._delays_samples()
        over = sum(replayed_samples(float(seconds), self.sample_rate) > budget for seconds in times)
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
            "input_latency_ms": float(self.input_latency_ms),
            "output_latency_ms": float(self.output_latency_ms),
            "budget_s": self.budget_s,
            "verdict_percentile": VERDICT_PERCENTILE,
            "calls_over_budget": int(over),
            "within_budget": inference_samples <= budget,
            "verdict": "within budget" if inference_samples <= budget else "over budget",
            "feasible_future_visibility": feasible_future_visibility(
                inference_samples, self.chunk_frames, self.hop, input_latency, output_latency
            ),
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


def _check_arguments(
    chunk_frames: int, calls: int, warmup_calls: int, input_latency_ms: float, output_latency_ms: float
) -> None:
    """A :class:`ConfigError` unless ``k >= 1``, ``calls >= 1``, ``warmup_calls >= 0`` and both delays (ms) >= 0."""
    if chunk_frames < 1 or calls < 1 or warmup_calls < 0:
        raise ConfigError(
            f"need chunk_frames >= 1, calls >= 1, warmup_calls >= 0; got {chunk_frames}, {calls}, {warmup_calls}"
        )
    for name, value in (("input_latency_ms", input_latency_ms), ("output_latency_ms", output_latency_ms)):
        if not np.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")


def profile_model(
    model: StreamingModel,
    *,
    chunk_frames: int,
    calls: int = 200,
    warmup_calls: int = 5,
    future_visibility: int = 0,
    input_audio: np.ndarray | None = None,
    seed: int = 0,
    input_latency_ms: float = 0.0,
    output_latency_ms: float = 0.0,
    clock: Callable[[], float] = time.perf_counter,
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
    input_latency_ms, output_latency_ms : float
        ``L_in`` and ``L_out`` in ms (>= 0), for the time budget only (see :attr:`ProfileResult.budget_s`).
    clock : callable
        Seconds now (default ``time.perf_counter``); read right before and after each call.

    Returns
    -------
    ProfileResult
    """
    _check_arguments(chunk_frames, calls, warmup_calls, input_latency_ms, output_latency_ms)
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
    return ProfileResult(
        info.name,
        chunk_frames,
        future_visibility,
        info.sample_rate,
        hop,
        times,
        input_latency_ms=float(input_latency_ms),
        output_latency_ms=float(output_latency_ms),
    )


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
    lines += [f"{index},{result.chunk_frames},{_trace_text(seconds)}" for index, seconds in enumerate(result.times_s)]
    atomic_write_text(path, "\n".join(lines) + "\n")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``profile`` to the CLI."""
    parser = add_command(
        subparsers, "profile", run, help="time a model's calls and write a latency trace for --latency trace:FILE"
    )
    add_model_arguments(parser)
    parser.add_argument("--chunk-frames", type=positive_int, required=True, help="k, frames per call")
    parser.add_argument("--future-visibility", type=int, default=0, help="t_f in frames (default 0)")
    parser.add_argument("--calls", type=positive_int, default=200, help="timed calls (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before them (default 5)")
    add_delay_arguments(parser)
    parser.add_argument("--input", type=Path, help="input audio (default: a synthetic melody)")
    parser.add_argument("--seed", type=int, default=0, help="seed of reset and of the synthetic input (default 0)")
    parser.add_argument("--out", type=Path, help="latency trace CSV to write (default: none)")
    parser.add_argument("--summary-json", type=Path, help="summary JSON to write (default: none)")


def _ms(seconds: float) -> str:
    """``seconds`` as milliseconds with three decimals (``"1.234 ms"``)."""
    return f"{seconds * 1000:.3f} ms"


def format_summary(summary: dict[str, Any]) -> list[str]:
    """The printed lines of a :meth:`ProfileResult.summary`: per-call times, then the budget verdict."""
    percentile = summary["verdict_percentile"]
    at = summary[f"p{percentile}_s"]
    bound = summary["feasible_future_visibility"]
    feasible = (
        f"t_f <= {bound} frames runs without a missed deadline at that call time"
        if bound is not None
        else "slower than real time at any t_f"
    )
    return [
        f"{summary['model']}: {summary['calls']} calls of {summary['chunk_frames']} frames "
        f"({summary['chunk_s'] * 1000:g} ms): mean {_ms(summary['mean_s'])}, p50 {_ms(summary['p50_s'])}, "
        f"p95 {_ms(summary['p95_s'])}, p99 {_ms(summary['p99_s'])}, max {_ms(summary['max_s'])}; "
        f"{summary['x_real_time']:.1f}x real time",
        f"budget {_ms(summary['budget_s'])} per call (chunk {summary['chunk_s'] * 1000:g} ms - L_in "
        f"{summary['input_latency_ms']:g} ms - L_out {summary['output_latency_ms']:g} ms): {summary['verdict']} "
        f"(p{percentile} {_ms(at)}; {summary['calls_over_budget']} of {summary['calls']} calls over); {feasible}",
    ]


def run(args: argparse.Namespace) -> int:
    """Call a model chunk by chunk with real timing; write one row per call (inference_time_s) and print the
    p50/p95/p99/max call times against the call's budget (chunk duration less L_in and L_out) with a verdict,
    within or over budget. The trace makes later simulations deterministic.
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
            input_latency_ms=args.input_latency_ms,
            output_latency_ms=args.output_latency_ms,
        )
    finally:
        model.close()
    summary = result.summary()
    if args.out is not None:
        write_trace(args.out, result)
        summary["trace"] = str(args.out)
    if args.summary_json is not None:
        atomic_write_text(args.summary_json, json.dumps(summary, indent=2) + "\n")
    for line in format_summary(summary):
        print(line)
    if args.out is not None:
        print(f"trace written to {args.out}; replay it with --latency trace:{args.out}")
    return 0
