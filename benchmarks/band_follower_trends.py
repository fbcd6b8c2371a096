"""The follower's trends on the demo-band set: do its scores rise with t_f and fall as chunks grow?

Usage: ``python benchmarks/band_follower_trends.py [--songs 4] [--split test] [--tf -10 10] [--k 1 50]``

Needs ``fluidsynth`` and a GM SoundFont for the first render. Runs the built-in ``follower`` on the first
songs of the split through the single-song path (``accbench.song_run.run_song``, ``on_miss="ignore"`` so that
configs with t_f > 0 are studied offline, zero latency) and prints beat F-measure and harmony majmin for each
(t_f, k), the mean over songs, plus the same for the ``oracle`` ceiling and ``silence`` floor at one config.
The chorale demo's version of this check is ``tests/test_follower_trends.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import accbench
from accbench.datasets import load_dataset
from accbench.metrics.cache import AnalysisCache
from accbench.simulators import SimulationConfig
from accbench.song_run import run_song

METRICS = ("beat.f_measure", "harmony.majmin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=4)
    parser.add_argument("--split", default="test")
    parser.add_argument("--tf", type=int, nargs="+", default=[-10, 10], help="future visibility, frames")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 50], help="chunk sizes, frames")
    args = parser.parse_args()
    songs = [song.load() for song in load_dataset("demo-band", songs=args.songs, split=args.split)]
    cache = AnalysisCache()
    started = time.perf_counter()
    print(f"{len(songs)} demo-band {args.split} songs: {', '.join(song.song_id for song in songs)}")
    print("\n| model | t_f (frames) | k (frames) | " + " | ".join(METRICS) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in METRICS) + " |")
    model = accbench.load_model("follower")
    table = {}
    for future_visibility in args.tf:
        for chunk_frames in args.k:
            config = SimulationConfig(future_visibility, chunk_frames, on_miss="ignore")
            scores = [run_song(model, song, config, metrics=list(METRICS), cache=cache).scores for song in songs]
            table[future_visibility, chunk_frames] = np.mean([[s[m] for m in METRICS] for s in scores], axis=0)
            cells = " | ".join(f"{value:.3f}" for value in table[future_visibility, chunk_frames])
            print(f"| follower | {future_visibility} | {chunk_frames} | {cells} |", flush=True)
    model.close()
    for name in ("oracle", "silence"):
        baseline = accbench.load_model(name)
        config = SimulationConfig(args.tf[0], args.k[0], on_miss="ignore")
        scores = [run_song(baseline, song, config, metrics=list(METRICS), cache=cache).scores for song in songs]
        cells = " | ".join(f"{np.nanmean([s[m] for s in scores]):.3f}" for m in METRICS)
        print(f"| {name} | {args.tf[0]} | {args.k[0]} | {cells} |")
        baseline.close()
    low, high = min(args.tf), max(args.tf)
    small, large = min(args.k), max(args.k)
    for index, metric in enumerate(METRICS):
        rise = np.mean([table[high, k][index] - table[low, k][index] for k in args.k])
        fall = np.mean([table[t, small][index] - table[t, large][index] for t in args.tf])
        print(f"\n{metric}: t_f {low} -> {high}: {rise:+.3f} (mean over k); k {small} -> {large}: {-fall:+.3f}")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
