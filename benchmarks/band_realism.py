"""Realism checks of the demo-band set: do the rendered stems play the score, on time, at their levels?

Usage: ``python benchmarks/band_realism.py [--songs 8] [--split test] [--figure docs/images/demo_band_song.png]``

Needs ``fluidsynth`` and a General MIDI SoundFont (``apt-get install fluidsynth fluid-soundfont-gm``).
For each song it renders (or reads from the cache) the stems and compares librosa's onsets on each stem
(:func:`accbench.datasets.band_checks.onset_errors`: mel flux with a 23 ms window, backtracked to the start
of the attack) with the score's onsets: recall within 50 ms, median and maximum absolute error and the signed
median; and measures each stem's integrated loudness (pyloudnorm). Prints a Markdown table per stem (means
over songs, max of maxima). ``--figure`` draws one song's stems with the score's onsets, beats, downbeats,
sections and chords.
"""

from __future__ import annotations

import argparse

import numpy as np

from accbench.audio import load_audio
from accbench.datasets import load_dataset
from accbench.datasets.band import band_catalogue
from accbench.datasets.band_checks import onset_errors, score_onsets, stem_loudness
from accbench.datasets.band_score import generate_score

STEMS = ("lead", "drums", "bass", "keys", "guitar")


def song_stems(song) -> dict[str, np.ndarray]:
    stems = {"lead": load_audio(song.input)[0][0]}
    stems.update({name: load_audio(path)[0][0] for name, path in song.metadata["stems"].items()})
    return stems


def figure(song, score, path: str, seconds: float = 14.0) -> None:
    import matplotlib.pyplot as plt

    sample_rate = song.sample_rate
    stems = song_stems(song)
    start_bar = next(start for start, _, name in score.sections if name == "verse") - 1
    t0 = float(score.beat_times[start_bar * score.beats_per_bar])
    t1 = t0 + seconds
    fig, axes = plt.subplots(len(STEMS) + 1, 1, figsize=(12, 8.5), sharex=True, gridspec_kw={"hspace": 0.08})
    annotations = song.annotations
    chords = axes[0]
    for (begin, end), label in zip(annotations.chord_intervals, annotations.chord_labels, strict=True):
        if end > t0 and begin < t1:
            chords.axvspan(max(begin, t0), min(end, t1), color="#eeeeee", ec="#999999")
            chords.text((max(begin, t0) + min(end, t1)) / 2, 0.5, label, ha="center", va="center", fontsize=9)
    for start, _, name in score.sections:
        at = float(score.beat_times[start * score.beats_per_bar])
        if t0 <= at < t1:
            chords.text(at, 0.95, f" {name}", va="top", fontsize=9, color="#0072B2")
    chords.set_yticks([])
    chords.set_ylabel("chords", rotation=0, ha="right", va="center")
    colors = {"lead": "#D55E00", "drums": "#000000", "bass": "#0072B2", "keys": "#009E73", "guitar": "#CC79A7"}
    for axis, name in zip(axes[1:], STEMS, strict=True):
        audio = stems[name][round(t0 * sample_rate) : round(t1 * sample_rate)]
        time = t0 + np.arange(len(audio)) / sample_rate
        axis.plot(time, audio, color=colors[name], linewidth=0.3)
        onsets = score_onsets(score, name)
        onsets = onsets[(onsets >= t0) & (onsets < t1)]
        peak = max(np.max(np.abs(audio)), 1e-6)
        axis.plot(onsets, np.full(len(onsets), 1.1 * peak), "v", color="#E69F00", markersize=3.5)
        axis.set_ylim(-1.25 * peak, 1.25 * peak)
        axis.set_yticks([])
        axis.set_ylabel(name, rotation=0, ha="right", va="center")
    for axis in axes:
        for beat in annotations.beats[(annotations.beats >= t0) & (annotations.beats < t1)]:
            axis.axvline(beat, color="#bbbbbb", linewidth=0.5, zorder=0)
        for beat in annotations.downbeats[(annotations.downbeats >= t0) & (annotations.downbeats < t1)]:
            axis.axvline(beat, color="#555555", linewidth=1.0, zorder=0)
    axes[-1].set_xlim(t0, t1)
    axes[-1].set_xlabel("time (s)")
    meta = song.metadata
    fig.suptitle(
        f"{song.song_id}: {meta['style']}, {meta['meter']}, {meta['tempo_bpm']:.0f} BPM, key {meta['key']} "
        f"(grey: beats, dark: downbeats, orange marks: score onsets)",
        fontsize=10,
        y=0.93,
    )
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--split", default="test")
    parser.add_argument("--figure", default=None, help="write a figure of the first song here (PNG)")
    args = parser.parse_args()
    dataset = load_dataset("demo-band", songs=args.songs, split=args.split)
    indices = band_catalogue(args.split)[: args.songs]
    rows = {name: [] for name in STEMS}
    for song, index in zip(dataset, indices, strict=True):
        score = generate_score(index)
        stems = song_stems(song)
        loudness = stem_loudness(stems, song.sample_rate)
        for name in STEMS:
            check = onset_errors(stems[name], song.sample_rate, score_onsets(score, name))
            rows[name].append((check, loudness[name]))
        print(
            f"{song.song_id}: "
            + ", ".join(
                f"{n} rec {rows[n][-1][0].recall:.2f} med {1e3 * rows[n][-1][0].median_abs_error_s:.1f} ms"
                for n in STEMS
            ),
            flush=True,
        )
    print(f"\n{len(dataset)} {args.split} songs; onsets: librosa (mel flux, n_fft 512, hop 64, backtrack) vs score")
    print(
        "| stem | score onsets | recall (50 ms) | median abs err (ms) | max abs err (ms) | signed median (ms) | LUFS |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in STEMS:
        checks = [check for check, _ in rows[name]]
        print(
            f"| {name} | {sum(c.n_score for c in checks)} | {np.mean([c.recall for c in checks]):.2f} | "
            f"{1e3 * np.nanmean([c.median_abs_error_s for c in checks]):.1f} | "
            f"{1e3 * np.nanmax([c.max_abs_error_s for c in checks]):.1f} | "
            f"{1e3 * np.nanmean([c.median_error_s for c in checks]):.1f} | "
            f"{np.mean([lufs for _, lufs in rows[name]]):.1f} |"
        )
    if args.figure:
        figure(dataset[0], generate_score(indices[0]), args.figure)
        print(f"figure -> {args.figure}")


if __name__ == "__main__":
    main()
