"""``accbench train-reference``: train the reference Transformer for one (future visibility, chunk size) point.

The options given become the fields of :class:`accbench.models.reference_training.TrainingConfig` of the same name
(``--batch-size`` -> ``batch_size``); the others keep that dataclass's defaults (named in the help).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from accbench.commands.common import add_command, option_fields, positive_int

__all__ = ["register", "run"]

#: The one-line help; :func:`run`'s docstring is the description.
HELP = "train the reference Transformer accompanist for one (t_f, k) point on the demo train split"

#: ``(flag, type, help)`` of the options that set a TrainingConfig field; not given, the field keeps its default.
TRAINING_OPTIONS: tuple[tuple[str, Callable[[str], Any], str], ...] = (
    ("--epochs", int, "passes over the training frames (default 4)"),
    ("--songs", int, "first N songs of the train split (default: all)"),
    ("--valid-songs", int, "valid-split songs for the epoch loss (default 8)"),
    ("--batch-size", int, "crops per step (default 16)"),
    ("--crop-frames", int, "output frames per crop (default 128)"),
    ("--learning-rate", float, "peak AdamW learning rate (default 0.003)"),
    (
        "--anticipation-weight",
        float,
        "weight of the auxiliary objective predicting the input of the frame being played (default 0: off)",
    ),
    ("--max-steps", int, "stop after this many steps (smoke runs)"),
    ("--seed", int, "seed of the weights and the crops (default 0)"),
    ("--device", str, "auto (default: cuda when available, else cpu), cpu or cuda"),
    ("--threads", positive_int, "torch intra-op threads (default 1)"),
    ("--cache", Path, "feature cache folder (default $ACCBENCH_CACHE/reference)"),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train-reference`` to the CLI."""
    parser = add_command(subparsers, "train-reference", run, help=HELP)
    parser.add_argument("--future-visibility", type=int, required=True, help="t_f in frames (may be negative)")
    parser.add_argument("--chunk-frames", type=int, required=True, help="k, frames per call (>= 1)")
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    for flag, kind, text in TRAINING_OPTIONS:
        parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=text)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    """Train the small causal Transformer of accbench.models.reference_model with the simulator's visibility rule
    applied in training, and save OUT/tf<F>_k<K>.pt (atomically) plus a JSON summary. Evaluate it with the model
    'reference-transformer' (option checkpoint=OUT or the file).
    """
    from accbench.models.reference_training import TrainingConfig, train_reference

    config = TrainingConfig(**option_fields(TrainingConfig, args))

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = train_reference(
        args.future_visibility, args.chunk_frames, args.out, config=config, progress=None if args.quiet else progress
    )
    print(result.path)
    return 0
