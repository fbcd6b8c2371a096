"""``accbench simulate``: run one model on one song and write the output audio and event log."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from accbench.api import simulate
from accbench.atomic import atomic_write_text
from accbench.audio import write_audio_atomic
from accbench.commands.common import add_model_arguments
from accbench.commands.options import parse_model_options
from accbench.errors import ConfigError
from accbench.eventlog import write_events


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate one model on one song under a delay config",
        description="Stream an input through a model chunk by chunk on a virtual clock and write what was heard.",
    )
    add_model_arguments(parser)
    parser.add_argument("--input", required=True, type=Path, help="input audio file (the live part)")
    parser.add_argument("--reference", type=Path, help="reference accompaniment (needed by the oracle baselines)")
    parser.add_argument("--song-id", help="song id used in messages (default: the input file's stem)")
    visibility = parser.add_mutually_exclusive_group(required=True)
    visibility.add_argument("--future-visibility", help="t_f in frames, or with a unit: -10, -200ms, 0.1s")
    visibility.add_argument("--future-visibility-ms", help="t_f in milliseconds (must be whole frames)")
    chunk = parser.add_mutually_exclusive_group(required=True)
    chunk.add_argument("--chunk-frames", help="k, frames per call (or with a unit: 80ms)")
    chunk.add_argument("--chunk-ms", help="k in milliseconds (must be whole frames)")
    parser.add_argument(
        "--latency",
        help="inference-time model: zero, fixed:30ms, linear:20ms,2ms/frame, trace:FILE, "
        "measured; optionally ',jitter=5ms' (default: the model's declared latency, else zero)",
    )
    parser.add_argument("--input-latency-ms", type=float, default=0.0, help="L_in (default 0)")
    parser.add_argument("--output-latency-ms", type=float, default=0.0, help="L_out (default 0)")
    parser.add_argument("--on-miss", choices=["truncate", "drop", "ignore"], default="truncate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lenient", action="store_true", help="repair bad chunks (recorded) instead of failing")
    parser.add_argument("--out", type=Path, help="write the output audio here (float32 WAV or FLAC)")
    parser.add_argument("--events", type=Path, help="write the per-call event log here (CSV)")
    parser.add_argument("--summary-json", type=Path, help="write the timing summary here (JSON)")
    parser.add_argument("--plot", type=Path, help="write the timeline figure here (.png/.svg/.pdf)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    future_visibility = (
        args.future_visibility if args.future_visibility is not None else f"{args.future_visibility_ms}ms"
    )
    chunk_frames = args.chunk_frames if args.chunk_frames is not None else f"{args.chunk_ms}ms"
    future_visibility = _int_or_text(future_visibility)
    chunk_frames = _int_or_text(chunk_frames)
    song_id = args.song_id or args.input.stem
    result = simulate(
        args.model,
        args.input,
        reference=args.reference,
        future_visibility=future_visibility,
        chunk_frames=chunk_frames,
        latency=args.latency,
        input_latency_ms=args.input_latency_ms,
        output_latency_ms=args.output_latency_ms,
        on_miss=args.on_miss,
        seed=args.seed,
        lenient=args.lenient,
        song_id=song_id,
        model_options=parse_model_options(args.model_option),
    )
    if args.out is not None:
        write_audio_atomic(args.out, result.output, result.sample_rate)
    if args.events is not None:
        write_events(args.events, result.events)
    if args.plot is not None:
        from accbench.reports.timeline import save_timeline

        save_timeline(args.plot, result.input, result.events)
    summary = result.summary.to_dict()
    if args.summary_json is not None:
        atomic_write_text(args.summary_json, json.dumps(summary, indent=2) + "\n")
    print(
        f"model {result.model.name} ({'causal' if result.model.causal else 'NON-CAUSAL'}), song {song_id}: "
        f"{result.config.describe(result.model)}"
    )
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        print(f"  {key:<{width}}  {value:.6g}" if isinstance(value, float) else f"  {key:<{width}}  {value}")
    return 0


def _int_or_text(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        if not isinstance(value, str):
            raise ConfigError(f"not a frame count or duration: {value!r}") from None
        return value
