"""``accbench simulate``: run one model on one song and write the output audio and event log."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from accbench.api import simulate
from accbench.atomic import atomic_write_text
from accbench.audio import write_audio_atomic
from accbench.commands.common import add_command, add_delay_arguments, add_model_arguments, option_fields
from accbench.commands.options import parse_model_options
from accbench.eventlog import write_events
from accbench.simulators import SimulationConfig

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``simulate`` to the CLI."""
    parser = add_command(subparsers, "simulate", run, help="simulate one model on one song under a delay config")
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
    add_delay_arguments(parser)
    parser.add_argument("--on-miss", choices=["truncate", "drop", "ignore"], default="truncate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lenient", action="store_true", help="repair bad chunks (recorded) instead of failing")
    parser.add_argument("--out", type=Path, help="write the output audio here (float32 WAV or FLAC)")
    parser.add_argument("--events", type=Path, help="write the per-call event log here (CSV)")
    parser.add_argument("--summary-json", type=Path, help="write the timing summary here (JSON)")
    parser.add_argument("--plot", type=Path, help="write the timeline figure here (.png/.svg/.pdf)")


def run(args: argparse.Namespace) -> int:
    """Stream an input through a model chunk by chunk on a virtual clock and write what was heard."""
    song_id = args.song_id or args.input.stem
    # The delay options are SimulationConfig's fields, which simulate() takes under the same names.
    options = option_fields(SimulationConfig, args)
    options["future_visibility"] = _frames(args.future_visibility, args.future_visibility_ms)
    options["chunk_frames"] = _frames(args.chunk_frames, args.chunk_ms)
    model_options = parse_model_options(args.model_option)
    result = simulate(
        args.model, args.input, reference=args.reference, song_id=song_id, model_options=model_options, **options
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


def _frames(value: str | None, milliseconds: str | None) -> int | str:
    """A frame count (``"-10"``), or the duration text for :func:`accbench.api.to_frames` (``"-200ms"``)."""
    text = value if value is not None else f"{milliseconds}ms"
    try:
        return int(text)
    except ValueError:
        return text
