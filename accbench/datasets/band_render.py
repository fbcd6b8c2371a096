"""Rendering of ``demo-band`` scores: MIDI files with the tempo map (mido), stems through FluidSynth, the mix.

- :func:`score_midi`: a :class:`~accbench.datasets.band_score.BandScore` (or some of its parts) as a type-1
  :class:`mido.MidiFile`: a conductor track with the time signature and one ``set_tempo`` wherever the
  tempo changes (always on a beat), then one track per part (lead channel 1, bass 2, keys 3, guitar 4,
  drums on channel 10 with the GM kit). Positions become ticks exactly (480 ticks per quarter; the score's
  grid is 1/12 beat).
- :func:`render_stems`: each part rendered alone with the SoundFont (so every stem is clean), mono, cut to
  ``duration + TAIL_S``.
- :func:`mix_stems`: each band stem scaled to its loudness target (ITU-R BS.1770 through pyloudnorm,
  :data:`STEM_LUFS`), summed into the reference; input (the lead) and reference each normalised to
  ``level_db`` dBFS RMS like the chorale demo, and the stems by the reference's factor, so the stems add up
  to the reference.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from accbench.atomic import atomic_write_bytes
from accbench.audio import match_channels, normalize_rms
from accbench.errors import DataError

from .band_score import BandScore
from .soundfont import midi_bytes, render_midi

__all__ = ["BAND", "CHANNELS", "STEM_LUFS", "TAIL_S", "TICKS_PER_QUARTER", "mix_stems", "render_stems", "score_midi"]

TICKS_PER_QUARTER = 480
CHANNELS = {"lead": 0, "bass": 1, "keys": 2, "guitar": 3, "drums": 9}
BAND = ("drums", "bass", "keys", "guitar")
#: Integrated loudness of each band stem in the mix, LUFS (drums and bass in front, keys and guitar behind).
STEM_LUFS = {"drums": -20.0, "bass": -22.0, "keys": -26.0, "guitar": -25.0}
TAIL_S = 1.0  # seconds kept after the last beat: release tails and cymbal decay


def _ticks(score: BandScore, positions: np.ndarray) -> np.ndarray:
    ticks = np.asarray(positions, dtype=np.float64) * score.quarters_per_beat * TICKS_PER_QUARTER
    rounded = np.round(ticks)
    if np.any(np.abs(ticks - rounded) > 1e-6):
        raise ValueError(f"{score.song_id}: a note is off the tick grid")
    return rounded.astype(np.int64)


def _conductor(score: BandScore):
    import mido

    numerator, denominator = (int(x) for x in score.meter.split("/"))
    track = mido.MidiTrack([mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator, time=0)])
    now, previous = 0, None
    beat_ticks = _ticks(score, np.arange(score.n_beats))
    for tick, tempo in zip(beat_ticks, score.tempo_us, strict=True):
        if tempo != previous:
            track.append(mido.MetaMessage("set_tempo", tempo=int(tempo), time=int(tick - now)))
            now, previous = int(tick), tempo
    return track


def score_midi(score: BandScore, parts: Iterable[str] | None = None):
    """The score (or only ``parts``) as a type-1 :class:`mido.MidiFile` with its tempo map."""
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    midi.tracks.append(_conductor(score))
    for name in parts if parts is not None else score.parts:
        part = score.parts[name]
        channel = CHANNELS[name]
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        if not part.is_drum:
            track.append(mido.Message("program_change", channel=channel, program=part.program, time=0))
        notes = part.notes
        starts = _ticks(score, notes[:, 0])
        stops = np.maximum(starts + 1, _ticks(score, np.round((notes[:, 0] + notes[:, 1]) * 24) / 24))
        events = []  # (tick, order, message): note-offs before note-ons at one tick, so repeats re-strike
        for start, stop, pitch, velocity in zip(starts, stops, notes[:, 2], notes[:, 3], strict=True):
            note, vel = int(pitch), int(np.clip(round(velocity), 1, 127))
            events.append((int(start), 1, mido.Message("note_on", channel=channel, note=note, velocity=vel)))
            events.append((int(stop), 0, mido.Message("note_off", channel=channel, note=note, velocity=0)))
        events.sort(key=lambda event: (event[0], event[1], event[2].note))
        now = 0
        for tick, _, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    return midi


def render_stems(score: BandScore, soundfont: str | Path, sample_rate: int) -> dict[str, np.ndarray]:
    """Each part of ``score`` rendered alone: ``{part: float32 (n_samples,)}``, mono, all the same length
    ``round((duration_s + TAIL_S) * sample_rate)``."""
    n_samples = round((score.duration_s + TAIL_S) * sample_rate)
    stems = {}
    with tempfile.TemporaryDirectory(prefix="accbench-band-") as folder:
        for name in score.parts:
            path = Path(folder) / f"{name}.mid"
            atomic_write_bytes(path, midi_bytes(score_midi(score, [name])))
            mono = match_channels(render_midi(path, soundfont, sample_rate), 1)[0]
            mono = mono[:n_samples] if len(mono) >= n_samples else np.pad(mono, (0, n_samples - len(mono)))
            stems[name] = np.ascontiguousarray(mono, dtype=np.float32)
    return stems


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4, pyloudnorm) of mono ``(n_samples,)`` audio, LUFS; ``-inf`` if silent."""
    import pyloudnorm

    meter = pyloudnorm.Meter(int(sample_rate))
    with np.errstate(divide="ignore"):
        return float(meter.integrated_loudness(np.asarray(audio, dtype=np.float64)))


def mix_stems(
    stems: Mapping[str, np.ndarray],
    sample_rate: int,
    *,
    level_db: float = -18.0,
    song: str | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Level the band stems to :data:`STEM_LUFS`, sum them, normalise.

    Returns
    -------
    input : ndarray, float32, shape (n_samples,)
        The lead at ``level_db`` dBFS RMS.
    reference : ndarray, float32, shape (n_samples,)
        The band mix at ``level_db`` dBFS RMS.
    band : dict of str -> ndarray
        Each band stem as it is in ``reference`` (they sum to it).
    """
    band = {}
    for name in BAND:
        loudness = loudness_lufs(stems[name], sample_rate)
        if not np.isfinite(loudness):
            raise DataError(f"the {name} stem rendered silent", song=song)
        band[name] = stems[name].astype(np.float64) * 10 ** ((STEM_LUFS[name] - loudness) / 20)
    total = np.sum([band[name] for name in BAND], axis=0)
    reference, gain_db = normalize_rms(total[np.newaxis, :].astype(np.float32), level_db)
    factor = 10 ** (gain_db / 20)
    band = {name: (audio * factor).astype(np.float32) for name, audio in band.items()}
    lead, _ = normalize_rms(stems["lead"][np.newaxis, :], level_db)
    return lead[0], reference[0], band
