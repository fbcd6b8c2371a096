"""Synthetic test signals for the metrics tests (no tests here): clicks and harmonic chord progressions."""

from __future__ import annotations

import functools

import numpy as np

from accbench.annotations import Annotations

SR = 22050
PITCH = {"C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "G#": 8, "A": 9, "A#": 10, "B": 11}
QUALITY = {"maj": (0, 4, 7), "min": (0, 3, 7)}
PROGRESSION = ("C:maj", "A:min", "F:maj", "G:maj", "E:min", "D:min", "G:maj", "C:maj")


def tone(midi: int, n_samples: int, sr: int = SR) -> np.ndarray:
    """A decaying harmonic tone (5 partials, 10 ms attack), float64 ``(n_samples,)``."""
    t = np.arange(n_samples) / sr
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    wave = sum(0.6 ** (h - 1) * np.sin(2 * np.pi * f0 * h * t) for h in range(1, 6) if f0 * h < sr / 2)
    return wave * np.minimum(1.0, t / 0.01) * np.exp(-1.5 * t)


def clicks(bpm: float, duration_s: float, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """A click track and its beat times (seconds)."""
    audio = np.zeros(int(duration_s * sr), dtype=np.float32)
    times = np.arange(0.0, duration_s - 0.05, 60.0 / bpm)
    burst = (np.hanning(400)[200:] * np.sin(np.arange(200) * 0.9)).astype(np.float32)
    for time in times:
        start = int(round(time * sr))
        audio[start : start + 200] += burst[: len(audio[start : start + 200])]
    return audio, times


@functools.cache
def chord_song(progression=PROGRESSION, bpm: float = 100.0, beats_per_chord: int = 4, repeats: int = 1, sr: int = SR):
    """Accompaniment (chords struck on every beat, bass an octave below), a melody input and exact annotations.

    Returns
    -------
    reference, melody : ndarray, float32 (n,)
    annotations : Annotations
    """
    labels = list(progression) * repeats
    beat = 60.0 / bpm
    n_beats = len(labels) * beats_per_chord
    n = int(round(n_beats * beat * sr))
    reference = np.zeros(n)
    melody = np.zeros(n)
    for index in range(n_beats):
        root_name, quality = labels[index // beats_per_chord].split(":")
        root = PITCH[root_name]
        start = int(round(index * beat * sr))
        length = min(n - start, int(3 * beat * sr))
        for interval in QUALITY[quality]:
            reference[start : start + length] += 0.12 * tone(60 + root + interval, length, sr)
        reference[start : start + length] += 0.2 * tone(36 + root, length, sr)
        note = 72 + root + QUALITY[quality][index % 3]
        length = int(beat * sr)
        melody[start : start + length] += 0.25 * tone(note, length, sr)[: len(melody[start : start + length])]
    segment = beat * beats_per_chord
    intervals = np.array([[i * segment, (i + 1) * segment] for i in range(len(labels))])
    annotations = Annotations(beats=np.arange(n_beats) * beat, chord_intervals=intervals, chord_labels=tuple(labels))
    return reference.astype(np.float32), melody.astype(np.float32), annotations
