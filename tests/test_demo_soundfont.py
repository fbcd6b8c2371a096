"""SoundFont rendering with the real FluidSynth: the MIDI writer (mido), the chorale demo's soundfont= path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from accbench.datasets import load_dataset
from accbench.datasets.soundfont import SOUNDFONT_PATHS, find_fluidsynth, find_soundfont, render_soundfont, write_midi
from accbench.errors import DataError

FONT = next((Path(p) for p in SOUNDFONT_PATHS if Path(p).is_file()), None)
needs_renderer = pytest.mark.skipif(
    (FONT is None or shutil.which("fluidsynth") is None) and not os.environ.get("CI"),
    reason="needs fluidsynth and fluid-soundfont-gm (CI installs both)",
)


def test_write_midi_round_trip(tmp_path):
    path = tmp_path / "x.mid"
    soprano = np.array([[0.0, 0.5, 72], [0.5, 0.25, 74], [0.75, 0.25, 76]])
    bass = np.array([[0.0, 1.0, 48]])
    write_midi(path, [(68, soprano), (70, bass)])
    midi = mido.MidiFile(path)
    assert midi.type == 1 and midi.ticks_per_beat == 960 and len(midi.tracks) == 3
    tempos = [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"]
    assert tempos == [500_000]  # 120 quarters per minute -> 1920 ticks per second

    def absolute(track):
        tick, out = 0, []
        for message in track:
            tick += message.time
            out.append((tick, message))
        return out

    programs = [(m.channel, m.program) for t in midi.tracks[1:] for _, m in absolute(t) if m.type == "program_change"]
    assert programs == [(0, 68), (1, 70)]
    events = absolute(midi.tracks[1])
    assert [(t, m.note) for t, m in events if m.type == "note_on"] == [(0, 72), (960, 74), (1440, 76)]
    assert [(t, m.note) for t, m in events if m.type == "note_off"] == [(960, 72), (1440, 74), (1920, 76)]
    # At a shared tick the note-off comes before the next note-on, so repeated pitches re-strike.
    assert [m.type for t, m in events if t == 960] == ["note_off", "note_on"]
    # Seconds survive the round trip through mido's tempo map.
    onsets = [time for time, m in zip(np.cumsum([m.time for m in midi]), midi, strict=True) if m.type == "note_on"]
    assert np.allclose(sorted(onsets), [0.0, 0.0, 0.5, 0.75])
    with pytest.raises(ValueError, match="pitch"):
        write_midi(path, [(0, np.array([[0.0, 1.0, 200]]))])


def test_missing_fluidsynth_or_soundfont_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("ACCBENCH_FLUIDSYNTH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DataError, match="needs the 'fluidsynth' program"):
        find_fluidsynth()
    font = tmp_path / "font.sf2"
    font.write_bytes(b"sf2")
    with pytest.raises(DataError, match="fluidsynth"):
        load_dataset("demo", songs=1, soundfont=font, cache=tmp_path / "cache")
    monkeypatch.setenv("ACCBENCH_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(DataError, match="SoundFont not found"):
        find_soundfont()


@needs_renderer
def test_render_soundfont_is_real_deterministic_and_on_time():
    events = np.array([[0.1, 0.3, 69], [0.6, 0.3, 72]])
    audio = render_soundfont(events, FONT, 16000, program=68, n_samples=16000)
    again = render_soundfont(events, FONT, 16000, program=68, n_samples=16000)
    assert audio.shape == (16000,) and audio.dtype == np.float32
    assert audio.tobytes() == again.tobytes()
    assert np.max(np.abs(audio[:1500])) < 1e-4  # silent before the first note at 0.1 s
    assert np.max(np.abs(audio[1700:4000])) > 0.01
    # The oboe plays A4 (440 Hz) first: the spectrum of the first note peaks on one of its harmonics.
    spectrum = np.abs(np.fft.rfft(audio[2000:6000] * np.hanning(4000)))
    harmonic = np.argmax(spectrum) * 16000 / 4000 / 440
    assert round(harmonic) >= 1 and abs(harmonic - round(harmonic)) < 0.03


@needs_renderer
def test_demo_with_a_soundfont_is_cached_separately(tmp_path):
    cache = tmp_path / "cache"
    sf_set = load_dataset("demo", songs=1, soundfont=FONT, cache=cache, tempo=240)
    synth_set = load_dataset("demo", songs=1, cache=cache, tempo=240)
    assert sf_set[0].input != synth_set[0].input
    assert sf_set[0].metadata["renderer"] == f"soundfont:{FONT.name}"
    loaded = sf_set[0].load()
    assert loaded.input.shape == loaded.reference.shape
    assert np.sqrt(np.mean(loaded.input**2)) > 0.05  # levelled to -18 dBFS RMS: real sound
    written = sorted(p.stat().st_mtime_ns for p in cache.rglob("*.wav"))
    load_dataset("demo", songs=1, soundfont=FONT, cache=cache, tempo=240)
    assert sorted(p.stat().st_mtime_ns for p in cache.rglob("*.wav")) == written  # cached


@needs_renderer
def test_an_unreadable_soundfont_names_the_file(tmp_path):
    font = tmp_path / "broken.sf2"
    font.write_bytes(b"not a soundfont")
    with pytest.raises(DataError, match="SoundFont") as info:
        render_soundfont(np.array([[0.0, 0.3, 69]]), font, 16000)
    assert info.value.path == str(font)
