"""The ``demo-band`` set: Slakh-like multitrack band songs, generated and rendered offline with a real SoundFont.

Each song of a fixed catalogue of :data:`N_SONGS` is generated from its index
(:func:`accbench.datasets.band_score.generate_score`: style, key, tempo map, form, five parts) and rendered
with FluidSynth and a General MIDI SoundFont (Debian's ``fluid-soundfont-gm`` by default, see
:func:`accbench.datasets.soundfont.find_soundfont`):

- **input** = the lead line (voice-like or guitar-like GM program), **reference** = the band: drums, bass,
  keys and rhythm guitar, each rendered alone, levelled to its loudness target and summed
  (:mod:`accbench.datasets.band_render`). Input and reference are mono, float32, at ``level_db`` dBFS RMS.
- **Styles** (``index mod 8``): rock, pop, funk, ballad, shuffle (swung eighths), punk (4/4), waltz (3/4),
  sixeight (6/8), 60-190 BPM; syncopated bass, off-beat hi-hats, pushed chords, fills, a two-bar stop
  section; about one song in four has a gradual accelerando or ritardando.
- **Annotations** are exact, from the score and its tempo map: beats (the meter's tactus: quarter notes in
  4/4 and 3/4, dotted quarters in 6/8), downbeats, chord segments (mir_eval labels; a pushed chord starts
  at its push). The meter, style, tempo and programs are in ``Song.metadata``.
- **Split**, fixed by index and balanced over styles: ``(index // 8) mod 10`` is 0-7 train, 8 valid, 9 test
  (24 songs each in valid and test, 3 per style).
- **Stems**: ``Song.metadata["stems"]`` maps each band part to its levelled WAV (they sum to the reference),
  ``Song.metadata["midi"]`` is the whole song as a Standard MIDI File.

Audio is cached under ``$ACCBENCH_CACHE/demo-band/<id>-<key>/`` where ``<key>`` is a SHA-256 of the song's
MIDI file, the sample rate, the levels, the SoundFont's SHA-256, the FluidSynth version and options and
:data:`RENDER_VERSION`; files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from accbench.annotations import Annotations
from accbench.atomic import atomic_write_bytes
from accbench.audio import write_audio_atomic
from accbench.errors import DataError

from .band_render import BAND, STEM_LUFS, TAIL_S, mix_stems, render_stems, score_midi
from .band_score import GENERATOR_VERSION, BandScore, generate_score
from .band_styles import STYLES
from .dataset import Candidate, Dataset, build_dataset
from .demo import DEFAULT_LEVEL_DB, DEFAULT_SAMPLE_RATE, _file_sha256, cache_dir
from .song import Song
from .soundfont import FLUIDSYNTH_OPTIONS, find_soundfont, fluidsynth_version, midi_bytes

__all__ = ["N_SONGS", "RENDER_VERSION", "band_annotations", "band_catalogue", "load_band", "render_band_song"]

N_SONGS = 240
RENDER_VERSION = 1


def split_of(index: int) -> str:
    """The fixed split of catalogue position ``index``: ``(index // 8) mod 10`` 0-7 train, 8 valid, 9 test."""
    block = (int(index) // len(STYLES)) % 10
    return "train" if block < 8 else "valid" if block == 8 else "test"


def band_catalogue(split: str | None = None) -> list[int]:
    """Catalogue positions (in order), optionally of one split."""
    if split is not None and split not in ("train", "valid", "test"):
        raise DataError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    return [index for index in range(N_SONGS) if split is None or split_of(index) == split]


def band_annotations(score: BandScore) -> Annotations:
    """Beats, downbeats and chord segments (seconds) of a score, exact through its tempo map."""
    beats = score.beat_times[:-1]
    chords = np.asarray([[start, end] for start, end, _ in score.chords], dtype=np.float64)
    return Annotations(
        beats=beats,
        downbeats=beats[:: score.beats_per_bar],
        chord_intervals=score.seconds(chords.reshape(-1)).reshape(-1, 2),
        chord_labels=tuple(label for _, _, label in score.chords),
        song=score.song_id,
    )


def _render_key(midi: bytes, sample_rate: int, soundfont: Path) -> str:
    recipe = {
        "render_version": RENDER_VERSION,
        "generator_version": GENERATOR_VERSION,
        "sample_rate": int(sample_rate),
        "level_db": DEFAULT_LEVEL_DB,
        "stem_lufs": STEM_LUFS,
        "tail_s": TAIL_S,
        "midi_sha256": hashlib.sha256(midi).hexdigest(),
        "soundfont_sha256": _file_sha256(soundfont),
        "fluidsynth": fluidsynth_version(),
        "fluidsynth_options": FLUIDSYNTH_OPTIONS,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def render_band_song(score: BandScore, folder: Path, sample_rate: int, soundfont: Path) -> dict[str, Path]:
    """Render ``score`` into ``folder`` (skipped when every file is there): ``input.wav``, ``reference.wav``,
    ``stems/<part>.wav`` for the band parts and ``song.mid``. Returns the paths by name."""
    paths = {"input": folder / "input.wav", "reference": folder / "reference.wav", "midi": folder / "song.mid"}
    paths.update({name: folder / "stems" / f"{name}.wav" for name in BAND})
    if all(path.is_file() for path in paths.values()):
        return paths
    stems = render_stems(score, soundfont, sample_rate)
    lead, reference, band = mix_stems(stems, sample_rate, level_db=DEFAULT_LEVEL_DB, song=score.song_id)
    for name, audio in band.items():
        write_audio_atomic(paths[name], audio, sample_rate)
    atomic_write_bytes(paths["midi"], midi_bytes(score_midi(score)))
    write_audio_atomic(paths["input"], lead, sample_rate)
    write_audio_atomic(paths["reference"], reference, sample_rate)
    return paths


def _metadata(score: BandScore, paths: dict[str, Path], font: Path) -> dict[str, Any]:
    return {
        "dataset": "demo-band",
        "style": score.style,
        "meter": score.meter,
        "beats_per_bar": score.beats_per_bar,
        "key": score.key,
        "tempo_bpm": float(score.bpm[0]),
        "tempo_range_bpm": [float(score.bpm.min()), float(score.bpm.max())],
        "tempo_change": score.tempo_change,
        "lead": score.lead_kind,
        "programs": {name: part.program for name, part in score.parts.items() if not part.is_drum},
        "sections": [list(section) for section in score.sections],
        "stems": {name: str(paths[name]) for name in BAND},
        "midi": str(paths["midi"]),
        "renderer": f"soundfont:{font.name}",
    }


def load_band(
    songs: int | None = None,
    *,
    split: str | None = None,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    cache: str | Path | None = None,
    soundfont: str | Path | None = None,
    bars: int | None = None,
    on_error: str = "raise",
    check: str = "none",
) -> Dataset:
    """The ``demo-band`` dataset: render (or reuse from the cache) the first ``songs`` songs.

    Parameters
    ----------
    songs : int or None
        How many songs (after the split filter), in catalogue order; ``None`` for all.
    split : {"train", "valid", "test"} or None
    sample_rate : int
        Hz (default 22050; FluidSynth renders 8000-96000 Hz).
    cache : path or None
        Cache root; ``None``: ``$ACCBENCH_CACHE`` or ``~/.cache/accbench``.
    soundfont : path or None
        A General MIDI ``.sf2``; ``None``: ``$ACCBENCH_SOUNDFONT`` or Debian's ``FluidR3_GM.sf2``.
    bars : int or None
        Render only the first ``bars`` bars of each song's body (short songs, for tests).
    on_error, check
        See :func:`accbench.datasets.dataset.build_dataset`.

    Returns
    -------
    Dataset
        Named ``"demo-band"``; every song has file sources in the cache, exact annotations, its split and
        its stems in ``metadata``.
    """
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or not 8000 <= sample_rate <= 96000:
        raise DataError(f"sample_rate must be an integer within 8000-96000 Hz, got {sample_rate!r}")
    if bars is not None and (isinstance(bars, bool) or int(bars) != bars or bars < 1):
        raise DataError(f"bars must be a positive integer, got {bars!r}")
    if songs is not None and (isinstance(songs, bool) or int(songs) != songs or songs < 1):
        raise DataError(f"songs must be a positive integer, got {songs!r}")
    sample_rate = int(sample_rate)
    indices = band_catalogue(split)[: None if songs is None else int(songs)]
    root = Path(cache) if cache is not None else cache_dir()
    font = find_soundfont(soundfont)
    candidates: list[Candidate] = []
    for index in indices:

        def make(index=index) -> Song:
            score = generate_score(index, bars=bars)
            key = _render_key(midi_bytes(score_midi(score)), sample_rate, font)
            folder = root / "demo-band" / f"{score.song_id}-{key[:20]}"
            paths = render_band_song(score, folder, sample_rate, font)
            return Song(
                song_id=score.song_id,
                input=paths["input"],
                reference=paths["reference"],
                annotations=band_annotations(score),
                split=split_of(index),
                sample_rate=sample_rate,
                metadata=_metadata(score, paths, font),
            )

        candidates.append((generate_score_id(index), make))
    return build_dataset("demo-band", candidates, on_error=on_error, check=check)


def generate_score_id(index: int) -> str:
    """The song id of catalogue position ``index`` (``band-<index>-<style>``), without generating the song."""
    return f"band-{int(index):03d}-{STYLES[int(index) % len(STYLES)].name}"
