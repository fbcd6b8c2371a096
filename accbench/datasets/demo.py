"""The built-in demo set: four-part Bach chorales rendered offline, with exact annotations.

The note events of about 400 SATB chorales from music21's corpus ship with accbench in
``accbench/data/bach_chorales.json.gz`` (built by ``scripts/build_demo_manifest.py``; music21 is not needed
at run time). Each chorale becomes a song:

- **input** = the soprano, **reference** = alto + tenor + bass, each voice rendered by
  :func:`accbench.synth.render_notes` with its own timbre (:data:`VOICE_TIMBRES`), each accompaniment voice
  at the same RMS level, then input and reference each normalised to ``normalize_db`` dBFS RMS
  (default -18). Mono, float32.
- The score is played as written at a constant tempo (repeats not expanded, fermatas not held), so beats,
  downbeats and chord segments, computed from the same events, are exact for the audio: a beat at score
  position ``b`` beats is at ``b * 60 / tempo_bpm`` seconds, and a note starts at sample
  ``round(onset_s * sample_rate)``.
- Tempo: ``tempo_bpm`` beats per minute of the time signature's beat unit. By default (``tempo="varied"``)
  each chorale gets its own fixed tempo between 72 and 108 BPM, derived from its id (:func:`varied_tempo`),
  so that another song's accompaniment (the ``mismatch`` baseline) does not share the input's beat grid; a
  number plays every chorale at that tempo, and ``tempo="score"`` uses the chorale's metronome mark where
  the encoding has one (else :data:`DEFAULT_TEMPO_BPM`).
- Optionally a SoundFont renders the voices instead (``soundfont=`` path to an ``.sf2``; needs the
  ``fluidsynth`` program, see :mod:`accbench.datasets.soundfont`): oboe, clarinet, English horn, bassoon.
- Chord labels: one per beat, consecutive equal labels merged into one segment (how they were named: see
  ``docs/data.md`` and the builder script).
- Split: fixed per chorale id (``sha256(id) mod 10``: 0-7 train, 8 valid, 9 test), stored in the manifest.
- Songs are ordered by chorale id (BWV number, then movement).

Rendered audio is cached as float WAV under ``$ACCBENCH_CACHE/demo/<key>/`` (default
``~/.cache/accbench``) where ``<key>`` is a SHA-256 of everything the audio depends on (the chorale's
events, sample rate, tempo, timbres, level and :data:`RENDER_VERSION`); files are written atomically.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from accbench.annotations import Annotations
from accbench.audio import normalize_rms, write_audio_atomic
from accbench.digests import file_sha256
from accbench.errors import DataError
from accbench.synth import TIMBRES, render_notes

from .dataset import Candidate, Dataset, build_dataset
from .manifest import write_manifest_csv
from .song import Song
from .soundfont import FLUIDSYNTH_OPTIONS, GM_PROGRAMS, fluidsynth_version, render_soundfont

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "DEFAULT_TEMPO_BPM",
    "RENDER_VERSION",
    "VOICE_TIMBRES",
    "cache_dir",
    "chorale_annotations",
    "chorales",
    "load_demo",
    "render_chorale",
    "varied_tempo",
    "write_demo",
]

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_TEMPO_BPM = 90.0
VARIED_TEMPO_RANGE_BPM = (72, 108)
DEFAULT_LEVEL_DB = -18.0
RENDER_VERSION = 1
MANIFEST_FORMAT_VERSION = 1
VOICE_TIMBRES: Mapping[str, str] = {"soprano": "lead", "alto": "flute", "tenor": "horn", "bass": "bass"}
TAIL_S = 0.25  # silence after the last note ends: room for the release tails
ACCOMPANIMENT = ("alto", "tenor", "bass")


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, Any]:
    try:
        data = resources.files("accbench").joinpath("data/bach_chorales.json.gz").read_bytes()
        manifest = json.loads(gzip.decompress(data))
    except (OSError, ValueError) as error:
        raise DataError(
            f"cannot read the shipped chorale manifest: {error}", path="accbench/data/bach_chorales.json.gz"
        ) from None
    if manifest.get("format_version") != MANIFEST_FORMAT_VERSION:
        raise DataError(
            f"chorale manifest has format version {manifest.get('format_version')}, "
            f"this accbench reads {MANIFEST_FORMAT_VERSION}",
            path="accbench/data/bach_chorales.json.gz",
        )
    return manifest


def chorales() -> list[dict[str, Any]]:
    """The chorale entries of the shipped manifest, ordered by chorale id (read once, then cached).

    Each entry has ``id``, ``title``, ``split``, ``meter``, ``beats_per_bar``, ``beat_quarter_length``,
    ``pickup_beats``, ``end_beats``, ``score_bpm``, ``beats``, ``downbeats``, ``chords`` (``[start, label]``
    per beat) and ``parts`` (``{voice: [[onset, duration, midi], ...]}``), positions in beats.
    """
    return _manifest()["chorales"]


def cache_dir() -> Path:
    """The user cache folder: ``$ACCBENCH_CACHE`` or ``~/.cache/accbench``."""
    return Path(os.environ.get("ACCBENCH_CACHE") or Path.home() / ".cache" / "accbench")


def varied_tempo(chorale_id: str) -> float:
    """The default tempo of a chorale: a whole number of BPM in 72-108, fixed by ``sha256(id)``."""
    digest = int.from_bytes(hashlib.sha256(f"tempo:{chorale_id}".encode()).digest()[:8], "big")
    return float(VARIED_TEMPO_RANGE_BPM[0] + digest % (VARIED_TEMPO_RANGE_BPM[1] - VARIED_TEMPO_RANGE_BPM[0] + 1))


def _tempo_of(entry: Mapping[str, Any], tempo: float | str | None) -> float:
    if tempo is None or tempo == "varied":
        return varied_tempo(entry["id"])
    if tempo == "score":
        return float(entry.get("score_bpm") or DEFAULT_TEMPO_BPM)
    try:
        value = float(tempo)
    except (TypeError, ValueError):
        raise DataError(f"tempo must be a number of beats per minute, 'varied' or 'score', got {tempo!r}") from None
    if not 20 <= value <= 400:
        raise DataError(f"tempo must be within 20-400 BPM, got {value}")
    return value


def chorale_annotations(entry: Mapping[str, Any], tempo_bpm: float) -> Annotations:
    """Beats, downbeats and chord segments (seconds) of a chorale played at ``tempo_bpm``."""
    seconds_per_beat = 60.0 / tempo_bpm
    starts = np.asarray([start for start, _ in entry["chords"]], dtype=np.float64)
    labels = [label for _, label in entry["chords"]]
    ends = np.append(starts[1:], float(entry["end_beats"]))
    keep = np.ones(len(labels), dtype=bool)
    keep[1:] = [labels[i] != labels[i - 1] for i in range(1, len(labels))]  # merge equal neighbours
    first = np.flatnonzero(keep)
    last = np.append(first[1:] - 1, len(labels) - 1)
    intervals = np.stack([starts[first], ends[last]], axis=1) * seconds_per_beat
    return Annotations(
        beats=np.asarray(entry["beats"], dtype=np.float64) * seconds_per_beat,
        downbeats=np.asarray(entry["downbeats"], dtype=np.float64) * seconds_per_beat,
        chord_intervals=intervals,
        chord_labels=tuple(labels[i] for i in first),
        song=entry["id"],
    )


def render_chorale(
    entry: Mapping[str, Any],
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    tempo_bpm: float = DEFAULT_TEMPO_BPM,
    *,
    timbres: Mapping[str, str] = VOICE_TIMBRES,
    level_db: float = DEFAULT_LEVEL_DB,
    soundfont: str | Path | None = None,
) -> dict[str, np.ndarray]:
    """Render one chorale entry.

    Parameters
    ----------
    entry : mapping
        One element of :func:`chorales`.
    sample_rate : int
        Hz.
    tempo_bpm : float
        Beats per minute of the meter's beat unit.
    timbres : mapping
        Voice -> timbre preset of :data:`accbench.synth.TIMBRES`.
    level_db : float
        RMS level in dBFS of the input and of the reference.
    soundfont : path or None
        Render each voice with this ``.sf2`` through FluidSynth (programs
        :data:`accbench.datasets.soundfont.GM_PROGRAMS`) instead of :func:`accbench.synth.render_notes`.

    Returns
    -------
    stems : dict of str -> ndarray, float32, shape (n_samples,)
        ``"input"`` (soprano), ``"reference"`` (alto + tenor + bass) and each voice before levelling.
        ``n_samples = round((end_beats * 60 / tempo_bpm + 0.25) * sample_rate)``.
    """
    seconds_per_beat = 60.0 / tempo_bpm
    n_samples = round((float(entry["end_beats"]) * seconds_per_beat + TAIL_S) * sample_rate)
    voices = {}
    for voice, events in entry["parts"].items():
        array = np.asarray(events, dtype=np.float64).reshape(-1, 3)
        if soundfont is not None:
            seconds = np.column_stack([array[:, :2] * seconds_per_beat, array[:, 2]])
            voices[voice] = render_soundfont(
                seconds, soundfont, sample_rate, program=GM_PROGRAMS[voice], n_samples=n_samples
            )
            continue
        voices[voice] = render_notes(
            array[:, 0] * seconds_per_beat,
            array[:, 1] * seconds_per_beat,
            array[:, 2],
            sample_rate,
            timbre=timbres[voice],
            velocity=0.8,
            n_samples=n_samples,
        )
    accompaniment = np.zeros(n_samples, dtype=np.float64)
    for voice in ACCOMPANIMENT:
        levelled, _ = normalize_rms(voices[voice][np.newaxis, :], level_db)
        accompaniment += levelled[0]
    inp, _ = normalize_rms(voices["soprano"][np.newaxis, :], level_db)
    reference, _ = normalize_rms(accompaniment[np.newaxis, :].astype(np.float32), level_db)
    return {"input": inp[0], "reference": reference[0], **voices}


def _render_key(entry: Mapping[str, Any], sample_rate: int, tempo_bpm: float, soundfont: Path | None) -> str:
    if soundfont is None:
        renderer: Any = {voice: repr(TIMBRES[name]) for voice, name in sorted(VOICE_TIMBRES.items())}
    else:
        renderer = {
            "soundfont_sha256": _file_sha256(soundfont),
            "programs": GM_PROGRAMS,
            "fluidsynth": fluidsynth_version(),
            "fluidsynth_options": FLUIDSYNTH_OPTIONS,
        }
    recipe = {
        "render_version": RENDER_VERSION,
        "sample_rate": int(sample_rate),
        "tempo_bpm": float(tempo_bpm),
        "level_db": DEFAULT_LEVEL_DB,
        "tail_s": TAIL_S,
        "renderer": renderer,
        "parts": entry["parts"],
        "end_beats": entry["end_beats"],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    if not path.is_file():
        raise DataError("SoundFont not found", path=str(path))
    return file_sha256(path)


def _materialise(
    entry: Mapping[str, Any], sample_rate: int, tempo_bpm: float, root: Path, soundfont: Path | None = None
) -> tuple[Path, Path]:
    folder = root / "demo" / f"{entry['id']}-{_render_key(entry, sample_rate, tempo_bpm, soundfont)[:20]}"
    input_path, reference_path = folder / "input.wav", folder / "reference.wav"
    if not (input_path.is_file() and reference_path.is_file()):
        stems = render_chorale(entry, sample_rate, tempo_bpm, soundfont=soundfont)
        write_audio_atomic(input_path, stems["input"], sample_rate)
        write_audio_atomic(reference_path, stems["reference"], sample_rate)
    return input_path, reference_path


def _select(songs: int | None, split: str | None) -> list[dict[str, Any]]:
    entries = chorales()
    if split is not None:
        if split not in ("train", "valid", "test"):
            raise DataError(f"split must be 'train', 'valid' or 'test', got {split!r}")
        entries = [entry for entry in entries if entry["split"] == split]
    if songs is not None:
        if isinstance(songs, bool) or int(songs) != songs or songs < 1:
            raise DataError(f"songs must be a positive integer, got {songs!r}")
        entries = entries[: int(songs)]
    return entries


def load_demo(
    songs: int | None = None,
    *,
    tempo: float | str | None = None,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    split: str | None = None,
    cache: str | Path | None = None,
    on_error: str = "raise",
    check: str = "none",
    soundfont: str | Path | None = None,
) -> Dataset:
    """The demo dataset: render (or reuse from the cache) the first ``songs`` chorales.

    Parameters
    ----------
    songs : int or None
        How many chorales (after the split filter), in chorale-id order; ``None`` for all.
    tempo : float, "varied", "score" or None
        BPM of the beat unit; ``None`` or ``"varied"``: each chorale's own tempo in 72-108 BPM
        (:func:`varied_tempo`); ``"score"``: the score's mark if any.
    sample_rate : int
        Hz (default 22050).
    split : {"train", "valid", "test"} or None
    cache : path or None
        Cache root; ``None``: :func:`cache_dir`.
    on_error, check
        See :func:`accbench.datasets.dataset.build_dataset` (rendered files are trusted: ``check="none"``).
    soundfont : path or None
        Render with this SoundFont through FluidSynth instead of the built-in synthesiser.

    Returns
    -------
    Dataset
        Named ``"demo"``; every song has file sources in the cache, exact annotations and its split.
    """
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or not 4000 <= sample_rate <= 192000:
        raise DataError(f"sample_rate must be an integer within 4000-192000 Hz, got {sample_rate!r}")
    sample_rate = int(sample_rate)
    root = Path(cache) if cache is not None else cache_dir()
    entries = _select(songs, split)
    font = None if soundfont is None else Path(soundfont)
    tempos = [_tempo_of(entry, tempo) for entry in entries]
    candidates: list[Candidate] = []
    for entry, bpm in zip(entries, tempos, strict=True):

        def make(entry=entry, bpm=bpm) -> Song:
            input_path, reference_path = _materialise(entry, sample_rate, bpm, root, font)
            return Song(
                song_id=entry["id"],
                input=input_path,
                reference=reference_path,
                annotations=chorale_annotations(entry, bpm),
                split=entry["split"],
                sample_rate=sample_rate,
                metadata={
                    "dataset": "demo",
                    "title": entry.get("title"),
                    "meter": entry["meter"],
                    "tempo_bpm": bpm,
                    "source": entry["source"],
                    "renderer": "synth" if font is None else f"soundfont:{font.name}",
                },
            )

        candidates.append((entry["id"], make))
    return build_dataset("demo", candidates, on_error=on_error, check=check)


def write_demo(
    out: str | Path,
    songs: int | None = None,
    *,
    tempo: float | str | None = None,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    split: str | None = None,
    cache: str | Path | None = None,
    soundfont: str | Path | None = None,
) -> Path:
    """Write the demo set as a folder layout plus ``manifest.csv`` under ``out``; returns the manifest path.

    Each song gets ``<out>/<id>/input.wav``, ``reference.wav``, ``beats.txt``, ``downbeats.txt``,
    ``chords.lab`` and ``split.txt``; ``manifest.csv`` lists them with their split, so ``folder:<out>`` and
    ``manifest:<out>/manifest.csv`` both read the set back.
    Audio is copied from the cache (rendered first when missing); every file is written atomically.
    """
    from accbench.atomic import atomic_write_bytes, atomic_write_text

    out = Path(out)
    dataset = load_demo(songs, tempo=tempo, sample_rate=sample_rate, split=split, cache=cache, soundfont=soundfont)
    rows = []
    for song in dataset:
        folder = out / song.song_id
        for name, source in (("input.wav", song.input), ("reference.wav", song.reference)):
            atomic_write_bytes(folder / name, Path(source).read_bytes())
        annotations = song.annotations
        atomic_write_text(folder / "beats.txt", "".join(f"{t:.9f}\n" for t in annotations.beats))
        atomic_write_text(folder / "downbeats.txt", "".join(f"{t:.9f}\n" for t in annotations.downbeats))
        atomic_write_text(
            folder / "chords.lab",
            "".join(
                f"{start:.9f}\t{end:.9f}\t{label}\n"
                for (start, end), label in zip(annotations.chord_intervals, annotations.chord_labels, strict=True)
            ),
        )
        atomic_write_text(folder / "split.txt", f"{song.split}\n")
        rows.append(
            {
                "song_id": song.song_id,
                "input": f"{song.song_id}/input.wav",
                "reference": f"{song.song_id}/reference.wav",
                "beats": f"{song.song_id}/beats.txt",
                "downbeats": f"{song.song_id}/downbeats.txt",
                "chords": f"{song.song_id}/chords.lab",
                "split": song.split,
                "sample_rate": str(sample_rate),
                "tempo_bpm": f"{song.metadata['tempo_bpm']:g}",
            }
        )
    manifest = out / "manifest.csv"
    write_manifest_csv(manifest, rows)
    return manifest
