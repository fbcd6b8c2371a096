"""``accbench data``: materialise the demo set and check datasets.

- ``accbench data demo [--songs N] [--tempo BPM|varied|score] [--sr HZ] [--split S] [--out DIR]`` renders
  the Bach chorale demo set (cached by content under ``$ACCBENCH_CACHE``) and, with ``--out``, writes it as a folder
  layout with ``manifest.csv``.
- ``accbench data demo-band [--songs N] [--split S] [--sr HZ] [--bars N] [--soundfont SF2]`` renders the band set
  (FluidSynth and a General MIDI SoundFont; cached by content under ``$ACCBENCH_CACHE``).
- ``accbench data check SPEC [--check header|full] [--on-error skip|raise]`` lists the songs found and the
  songs skipped, with the reason, for any dataset spec (``demo``, ``manifest:PATH``, ``folder:PATH``,
  ``slakh:ROOT``, ``musdb:ROOT``, ``moisesdb:ROOT``).
"""

from __future__ import annotations

import argparse
import sys
import time

from accbench.commands.common import add_command, add_group, positive_int
from accbench.datasets import load_dataset, write_demo
from accbench.datasets.demo import DEFAULT_SAMPLE_RATE, DEFAULT_TEMPO_BPM, VARIED_TEMPO_RANGE_BPM, cache_dir

__all__ = ["register"]


def _tempo(text: str) -> float | str:
    """argparse type of ``--tempo``: beats per minute (a number), ``'varied'`` or ``'score'``."""
    if text in ("varied", "score"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"tempo must be beats per minute, 'varied' or 'score', got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` subcommand (with ``demo`` and ``check``) to the CLI's subparsers."""
    actions = add_group(
        subparsers,
        "data",
        help="materialise the demo set, check datasets",
        dest="data_command",
        description=__doc__.split("\n\n")[0],
    )
    demo = add_command(
        actions,
        "demo",
        _run_demo,
        help="render the Bach chorale demo set",
        description="Render the demo set (soprano = input, alto + tenor + bass = reference) with exact "
        "beat, downbeat and chord annotations. Audio is cached under $ACCBENCH_CACHE (default "
        "~/.cache/accbench); --out also writes a folder layout with manifest.csv.",
    )
    demo.add_argument("--songs", type=positive_int, default=None, help="first N chorales (default: all)")
    low, high = VARIED_TEMPO_RANGE_BPM
    demo.add_argument(
        "--tempo",
        type=_tempo,
        default=None,
        help=f"BPM for every song; 'score': the chorale's metronome mark (else {DEFAULT_TEMPO_BPM:g}); "
        f"'varied' (default): each chorale its own fixed tempo, {low}-{high} BPM derived from its id",
    )
    demo.add_argument(
        "--sr",
        type=positive_int,
        default=DEFAULT_SAMPLE_RATE,
        help=f"sample rate, Hz (default {DEFAULT_SAMPLE_RATE})",
    )
    demo.add_argument("--split", choices=("train", "valid", "test"), default=None, help="only this split")
    demo.add_argument("--out", default=None, help="write the folder layout and manifest.csv here")
    demo.add_argument("--cache", default=None, help="cache folder (default: $ACCBENCH_CACHE or ~/.cache/accbench)")
    demo.add_argument(
        "--soundfont", default=None, help="render with this .sf2 through the fluidsynth program (optional)"
    )

    band = add_command(
        actions,
        "demo-band",
        _run_band,
        help="render the demo-band set (drums, bass, keys, guitar + a lead) with FluidSynth",
        description="Render the demo-band set (lead = input; drums, bass, keys, rhythm guitar = reference) with "
        "FluidSynth and a General MIDI SoundFont, with exact beat, downbeat, meter and chord annotations and one "
        "WAV per stem. Audio is cached under $ACCBENCH_CACHE (default ~/.cache/accbench).",
    )
    band.add_argument("--songs", type=positive_int, default=None, help="first N songs (default: all 240)")
    band.add_argument("--split", choices=("train", "valid", "test"), default=None, help="only this split")
    band.add_argument(
        "--sr", type=positive_int, default=DEFAULT_SAMPLE_RATE, help=f"sample rate, Hz (default {DEFAULT_SAMPLE_RATE})"
    )
    band.add_argument("--bars", type=positive_int, default=None, help="only the first N bars of each song")
    band.add_argument("--cache", default=None, help="cache folder (default: $ACCBENCH_CACHE or ~/.cache/accbench)")
    band.add_argument(
        "--soundfont", default=None, help="a GM .sf2 (default: $ACCBENCH_SOUNDFONT or Debian's FluidR3_GM.sf2)"
    )

    check = add_command(
        actions,
        "check",
        _run_check,
        help="list the songs of a dataset and the ones skipped",
        description="Load a dataset spec and print each song found and each song skipped with the reason.",
    )
    check.add_argument(
        "spec", help="demo, demo-band, manifest:PATH, folder:PATH, slakh:ROOT, musdb:ROOT or moisesdb:ROOT"
    )
    check.add_argument(
        "--check",
        dest="check_level",
        choices=("none", "header", "full"),
        default="header",
        help="header: open file headers (default); full: load every song",
    )
    check.add_argument("--on-error", choices=("skip", "raise"), default="skip", help="skip bad songs (default) or stop")
    check.add_argument("--split", default=None, help="only this split")
    check.add_argument("--songs", type=positive_int, default=None, help="first N songs")


def _run_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    options = {
        "tempo": args.tempo,
        "sample_rate": args.sr,
        "split": args.split,
        "cache": args.cache,
        "soundfont": args.soundfont,
    }
    if args.out:
        manifest = write_demo(args.out, args.songs, **options)
        dataset = load_dataset(f"manifest:{manifest}")
        where = f"{args.out} (manifest {manifest})"
    else:
        dataset = load_dataset("demo", songs=args.songs, **options)
        where = str(args.cache or cache_dir())
    seconds = time.perf_counter() - started
    splits = {}
    for song in dataset:
        splits[song.split] = splits.get(song.split, 0) + 1
    summary = ", ".join(f"{count} {split}" for split, count in sorted(splits.items()))
    print(f"demo: {len(dataset)} songs ({summary}) at {args.sr} Hz in {seconds:.1f} s -> {where}")
    return 0


def _run_band(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    options = {"split": args.split, "sample_rate": args.sr, "bars": args.bars, "cache": args.cache}
    dataset = load_dataset("demo-band", songs=args.songs, soundfont=args.soundfont, **options)
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    for song in dataset:
        key = f"{song.split} {song.metadata['style']}"
        counts[key] = counts.get(key, 0) + 1
    audio_s = sum(song.annotations.beats[-1] for song in dataset)
    print(
        f"demo-band: {len(dataset)} songs ({audio_s / 60:.1f} min of music) at {args.sr} Hz in {seconds:.1f} s -> "
        f"{args.cache or cache_dir()}/demo-band"
    )
    print("  " + ", ".join(f"{count} {key}" for key, count in sorted(counts.items())))
    return 0


def _run_check(args: argparse.Namespace) -> int:
    options = {"on_error": args.on_error, "check": args.check_level, "split": args.split, "songs": args.songs}
    dataset = load_dataset(args.spec, **options)
    for song in dataset:
        parts = [song.song_id]
        if song.split:
            parts.append(f"split={song.split}")
        parts.append(f"files={len(song.files)}")
        parts.append("reference" if song.reference is not None else "no reference")
        if song.annotations is not None:
            found = [
                name
                for name, present in (
                    ("beats", song.annotations.has_beats),
                    ("downbeats", song.annotations.downbeats is not None),
                    ("chords", song.annotations.has_chords),
                )
                if present
            ]
            parts.append("annotations=" + "+".join(found))
        print("ok      " + "  ".join(parts))
    for song_id, reason in dataset.skipped:
        print(f"skipped {song_id}: {reason}")
    print(f"{dataset.name}: {len(dataset)} songs, {len(dataset.skipped)} skipped", file=sys.stderr)
    return 0 if len(dataset) else 1
