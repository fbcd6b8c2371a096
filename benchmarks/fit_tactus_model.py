"""Fit the tactus model (:data:`accbench.metrics.metrical.TACTUS_WEIGHTS`) on the demo-band train split.

Usage: ``python benchmarks/fit_tactus_model.py [--l2 0.1] [--chorales 96]``

The examples: every ``demo-band`` train song's mix (lead + band), and the mix and the accompaniment alone of the
first ``--chorales`` train songs of the chorale ``demo`` set (music without drums, whose accompaniment alone the
metrics analyse too; without them the fitted prior took double tempo on 72-77 BPM chorales). For each example
the default tracker's candidate levels (:func:`~accbench.metrics.metrical.level_candidates`
of the autocorrelation tempo) are tracked and measured (:func:`~accbench.metrics.metrical.level_features`); a
candidate is *right* when its tempo is within 8 % of the annotated median tempo. The weights maximise the
conditional-logit likelihood of the right candidates (softmax over each song's candidates) with an L2 penalty,
by L-BFGS from zero. Printed: the weights, the share of examples whose chosen level is right on the train
examples (fit on all of them), in random 4-fold cross-validation, when each style (the chorales are one) is
held out of the fit in turn, and on the valid songs of both sets; and the same shares for the
autocorrelation tempo alone. No test song is ever read.

Needs ``fluidsynth`` and a GM SoundFont the first time (the songs are rendered and cached). Takes 2-4 minutes.
Paste the printed weights into ``metrics/metrical.py`` and bump ``beats`` in ``ANALYZER_VERSIONS``.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from accbench.datasets import load_dataset
from accbench.metrics import analysis, metrical
from accbench.metrics.cache import AnalysisCache

SR = analysis.ANALYSIS_SAMPLE_RATE
TOLERANCE = 0.08


@dataclass
class SongLevels:
    song_id: str
    style: str
    true_bpm: float
    acf_bpm: float
    tempi: np.ndarray  # (n_candidates,)
    features: np.ndarray  # (n_candidates, n_features)

    @property
    def right(self) -> np.ndarray:
        return np.abs(self.tempi / self.true_bpm - 1) <= TOLERANCE


def measure(song_id: str, style: str, signal: np.ndarray, beats: np.ndarray, cache: AnalysisCache) -> SongLevels:
    """The candidate levels of one signal (mono, :data:`SR`) and their features; ``beats``: annotated, s."""
    onset = analysis.onset_envelope(signal, SR, cache=cache)
    envelope, bands, frame_rate = onset["envelope"], onset["bands"], onset["frame_rate"]
    acf_bpm = analysis.estimate_tempo(envelope, frame_rate)
    choice = metrical.choose_tactus(
        envelope,
        bands,
        frame_rate,
        acf_bpm,
        lambda level: analysis.track_beats(envelope, frame_rate, level, correct_phase=False),
    )
    true_bpm = 60.0 / float(np.median(np.diff(beats)))
    return SongLevels(song_id, style, true_bpm, acf_bpm, np.asarray(choice.candidates), choice.features)


def examples(split: str, chorales: int, cache: AnalysisCache) -> list[SongLevels]:
    """Band mixes of ``split``, and mixes and accompaniments of its first ``chorales`` chorales."""
    found = []
    for song in load_dataset("demo-band", split=split):
        loaded = song.load(sample_rate=SR)
        mix = loaded.input.mean(axis=0) + loaded.reference.mean(axis=0)
        found.append(measure(song.song_id, song.metadata["style"], mix, loaded.annotations.beats, cache))
    for song in load_dataset("demo", split=split, songs=chorales) if chorales else []:
        loaded = song.load(sample_rate=SR)
        accompaniment = loaded.reference.mean(axis=0)
        for name, signal in (("mix", loaded.input.mean(axis=0) + accompaniment), ("accompaniment", accompaniment)):
            found.append(measure(f"{song.song_id} {name}", "chorale", signal, loaded.annotations.beats, cache))
    return found


def negative_log_likelihood(weights: np.ndarray, songs: list[SongLevels], l2: float) -> float:
    total = 0.0
    for song in songs:
        if not song.right.any():
            continue
        scores = song.features @ weights
        scores = scores - scores.max()
        probabilities = np.exp(scores) / np.exp(scores).sum()
        total -= math.log(max(float(probabilities[song.right].sum()), 1e-12))
    return total + l2 * float(weights @ weights)


def fit(songs: list[SongLevels], l2: float) -> np.ndarray:
    start = np.zeros(len(metrical.LEVEL_FEATURES))
    return scipy.optimize.minimize(negative_log_likelihood, start, args=(songs, l2), method="L-BFGS-B").x


def accuracy(weights: np.ndarray, songs: list[SongLevels]) -> float:
    hits = [song.right[int(np.argmax(song.features @ weights))] for song in songs if len(song.tempi)]
    return float(np.sum(hits)) / len(songs)


def acf_accuracy(songs: list[SongLevels]) -> float:
    return float(np.mean([abs(song.acf_bpm / song.true_bpm - 1) <= TOLERANCE for song in songs]))


def random_cv(songs: list[SongLevels], l2: float, folds: int = 4) -> float:
    fold_of = np.random.default_rng(0).integers(0, folds, len(songs))
    hits = 0.0
    for fold in range(folds):
        held = [song for song, f in zip(songs, fold_of, strict=True) if f == fold]
        weights = fit([song for song, f in zip(songs, fold_of, strict=True) if f != fold], l2)
        hits += accuracy(weights, held) * len(held)
    return hits / len(songs)


def style_held_out(songs: list[SongLevels], l2: float) -> dict[str, float]:
    shares = {}
    for style in sorted({song.style for song in songs}):
        weights = fit([song for song in songs if song.style != style], l2)
        shares[style] = accuracy(weights, [song for song in songs if song.style == style])
    return shares


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--l2", type=float, default=0.1, help="L2 penalty on the weights (default 0.1)")
    parser.add_argument("--chorales", type=int, default=96, help="train chorales to add (default 96; valid: 24)")
    args = parser.parse_args(argv)
    cache, started = AnalysisCache(), time.perf_counter()
    train = examples("train", args.chorales, cache)
    valid = examples("valid", min(args.chorales, 24), cache)
    print(f"measured {len(train)} train and {len(valid)} valid examples in {time.perf_counter() - started:.0f} s")
    weights = fit(train, args.l2)
    print("weights: np.array([" + ", ".join(f"{w:.2f}" for w in weights) + "])")
    for name, weight in zip(metrical.LEVEL_FEATURES, weights, strict=True):
        print(f"  {name:30s} {weight:+.2f}")
    held = style_held_out(train, args.l2)
    print(f"right level, train (fit on all):        {accuracy(weights, train):.3f}")
    print(f"right level, train random 4-fold CV:    {random_cv(train, args.l2):.3f}")
    print(
        f"right level, train style held out:      {np.mean(list(held.values())):.3f}  "
        + " ".join(f"{style} {share:.2f}" for style, share in held.items())
    )
    print(f"right level, valid:                     {accuracy(weights, valid):.3f}")
    for style in sorted({song.style for song in valid}):
        of_style = [song for song in valid if song.style == style]
        print(f"  valid {style:10s} {accuracy(weights, of_style):.3f} ({len(of_style)})")
    print(f"autocorrelation tempo alone, train {acf_accuracy(train):.3f}, valid {acf_accuracy(valid):.3f}")
    print(
        f"stored TACTUS_WEIGHTS, train {accuracy(metrical.TACTUS_WEIGHTS, train):.3f}, "
        f"valid {accuracy(metrical.TACTUS_WEIGHTS, valid):.3f}"
    )


if __name__ == "__main__":
    main()
