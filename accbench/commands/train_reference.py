"""``accbench train-reference``: train the reference Transformer for one (future visibility, chunk size) point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accbench.errors import ConfigError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train-reference`` to the CLI."""
    parser = subparsers.add_parser(
        "train-reference",
        help="train the reference Transformer accompanist for one (t_f, k) point on the demo train split",
        description="Train the small causal Transformer of accbench.reference_model with the simulator's visibility "
        "rule applied in training, and save OUT/tf<F>_k<K>.pt (atomically) plus a JSON summary. Evaluate it with "
        "the model 'reference-transformer' (option checkpoint=OUT or the file).",
    )
    parser.add_argument("--future-visibility", type=int, required=True, help="t_f in frames (may be negative)")
    parser.add_argument("--chunk-frames", type=int, required=True, help="k, frames per call (>= 1)")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    parser.add_argument("--epochs", type=int, default=4, help="passes over the training frames (default 4)")
    parser.add_argument("--songs", type=int, help="first N songs of the train split (default: all)")
    parser.add_argument("--valid-songs", type=int, default=8, help="valid-split songs for the epoch loss (default 8)")
    parser.add_argument("--batch-size", type=int, default=16, help="crops per step (default 16)")
    parser.add_argument("--crop-frames", type=int, default=128, help="output frames per crop (default 128)")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="peak AdamW learning rate (default 3e-3)")
    parser.add_argument(
        "--anticipation-weight",
        type=float,
        default=0.0,
        help="weight of the auxiliary objective predicting the input of the frame being played (default 0: off)",
    )
    parser.add_argument("--max-steps", type=int, help="stop after this many steps (smoke runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (default: cuda when available, else cpu), cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--cache", type=Path, help="feature cache folder (default $ACCBENCH_CACHE/reference)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train and save; returns 0."""
    from accbench.reference_training import train_reference

    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {args.threads}")

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = train_reference(
        args.future_visibility,
        args.chunk_frames,
        args.out,
        epochs=args.epochs,
        songs=args.songs,
        valid_songs=args.valid_songs,
        batch_size=args.batch_size,
        crop_frames=args.crop_frames,
        learning_rate=args.learning_rate,
        anticipation_weight=args.anticipation_weight,
        max_steps=args.max_steps,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        cache=args.cache,
        progress=None if args.quiet else progress,
    )
    print(result.path)
    return 0
