"""Optional SoundFont rendering: the MIDI writer, and the FluidSynth call (with a stand-in program)."""

from __future__ import annotations

import json
import stat
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from accbench.datasets import load_dataset
from accbench.datasets.soundfont import find_fluidsynth, render_soundfont, write_midi
from accbench.errors import DataError


def read_midi(path: Path) -> tuple[int, list[list[tuple[int, int, int, int]]]]:
    """Minimal reader for the files write_midi makes: (ppq, per track [(tick, status, data1, data2)])."""
    data = path.read_bytes()
    assert data[:4] == b"MThd"
    _, fmt, n_tracks, ppq = struct.unpack(">IHHH", data[4:14])
    assert fmt == 1
    position, tracks = 14, []
    for _ in range(n_tracks):
        assert data[position : position + 4] == b"MTrk"
        (length,) = struct.unpack(">I", data[position + 4 : position + 8])
        body, position = data[position + 8 : position + 8 + length], position + 8 + length
        index, tick, events = 0, 0, []
        while index < len(body):
            delta = 0
            while True:
                byte = body[index]
                index += 1
                delta = (delta << 7) | (byte & 0x7F)
                if byte < 0x80:
                    break
            tick += delta
            status = body[index]
            if status == 0xFF:
                size = body[index + 2]
                events.append((tick, 0xFF, body[index + 1], size))
                index += 3 + size
            elif status & 0xF0 == 0xC0:
                events.append((tick, status, body[index + 1], 0))
                index += 2
            else:
                events.append((tick, status, body[index + 1], body[index + 2]))
                index += 3
        tracks.append(events)
    return ppq, tracks


def test_write_midi_round_trip(tmp_path):
    path = tmp_path / "x.mid"
    soprano = np.array([[0.0, 0.5, 72], [0.5, 0.25, 74], [0.75, 0.25, 76]])
    bass = np.array([[0.0, 1.0, 48]])
    write_midi(path, [(68, soprano), (70, bass)])
    ppq, tracks = read_midi(path)
    assert ppq == 960 and len(tracks) == 3
    assert (0, 0xFF, 0x51, 3) in tracks[0]  # tempo: 120 quarters per minute -> 1920 ticks per second
    programs = [(e[1], e[2]) for e in tracks[1] + tracks[2] if e[1] & 0xF0 == 0xC0]
    assert programs == [(0xC0, 68), (0xC1, 70)]
    ons = [(tick, note) for tick, status, note, velocity in tracks[1] if status & 0xF0 == 0x90]
    offs = [(tick, note) for tick, status, note, _ in tracks[1] if status & 0xF0 == 0x80]
    assert ons == [(0, 72), (960, 74), (1440, 76)]
    assert offs == [(960, 72), (1440, 74), (1920, 76)]
    # At a shared tick the note-off comes before the next note-on, so repeated pitches re-strike.
    kinds = [status & 0xF0 for tick, status, _, _ in tracks[1] if tick == 960]
    assert kinds == [0x80, 0x90]
    with pytest.raises(ValueError, match="pitch"):
        write_midi(path, [(0, np.array([[0.0, 1.0, 200]]))])


def test_missing_fluidsynth_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("ACCBENCH_FLUIDSYNTH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DataError, match="needs the 'fluidsynth' program"):
        find_fluidsynth()
    font = tmp_path / "font.sf2"
    font.write_bytes(b"sf2")
    with pytest.raises(DataError, match="fluidsynth"):
        load_dataset("demo", songs=1, soundfont=font, cache=tmp_path / "cache")


FAKE = """#!{python}
# Stand-in for fluidsynth: logs its arguments, writes a stereo 0.5 s tone at the requested rate.
import json, sys
import numpy as np, soundfile
args = sys.argv[1:]
with open({log!r}, "a") as handle:
    handle.write(json.dumps(args) + "\\n")
if {fail}:
    print("fluidsynth: error: bad soundfont", file=sys.stderr)
    sys.exit(1)
rate = int(args[args.index("-r") + 1])
out = args[args.index("-F") + 1]
assert open(args[-1], "rb").read(4) == b"MThd"
t = np.arange(rate // 2) / rate
tone = 0.2 * np.sin(2 * np.pi * 440 * t)
soundfile.write(out, np.stack([tone, tone], axis=1), rate)
"""


def fake_fluidsynth(tmp_path: Path, monkeypatch, fail: bool = False) -> Path:
    log = tmp_path / "calls.jsonl"
    program = tmp_path / "fluidsynth"
    program.write_text(FAKE.format(python=sys.executable, log=str(log), fail=fail))
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("ACCBENCH_FLUIDSYNTH", str(program))
    return log


def test_render_soundfont_runs_fluidsynth_and_returns_mono(tmp_path, monkeypatch):
    log = fake_fluidsynth(tmp_path, monkeypatch)
    font = tmp_path / "font.sf2"
    font.write_bytes(b"not really a soundfont")
    audio = render_soundfont(np.array([[0.0, 0.3, 69]]), font, 16000, program=68, n_samples=10000)
    assert audio.shape == (10000,) and audio.dtype == np.float32
    assert np.all(audio[8000:] == 0) and np.max(np.abs(audio[:8000])) > 0.1
    args = json.loads(log.read_text().splitlines()[0])
    assert args[0] == "-ni"
    assert args[args.index("-r") + 1] == "16000" and args[-2] == str(font)


def test_demo_with_a_soundfont_is_cached_separately(tmp_path, monkeypatch):
    log = fake_fluidsynth(tmp_path, monkeypatch)
    font = tmp_path / "font.sf2"
    font.write_bytes(b"font one")
    cache = tmp_path / "cache"
    sf_set = load_dataset("demo", songs=1, soundfont=font, cache=cache)
    synth_set = load_dataset("demo", songs=1, cache=cache)
    assert sf_set[0].input != synth_set[0].input
    assert sf_set[0].metadata["renderer"] == "soundfont:font.sf2"
    assert len(log.read_text().splitlines()) == 4  # one call per voice
    loaded = sf_set[0].load()
    assert loaded.input.shape == loaded.reference.shape
    load_dataset("demo", songs=1, soundfont=font, cache=cache)
    assert len(log.read_text().splitlines()) == 4  # cached
    font.write_bytes(b"font two")  # another SoundFont: other audio, other cache entry
    other = load_dataset("demo", songs=1, soundfont=font, cache=cache)
    assert other[0].input != sf_set[0].input and len(log.read_text().splitlines()) == 8


def test_fluidsynth_failure_names_the_soundfont(tmp_path, monkeypatch):
    fake_fluidsynth(tmp_path, monkeypatch, fail=True)
    font = tmp_path / "broken.sf2"
    font.write_bytes(b"x")
    with pytest.raises(DataError, match="bad soundfont") as info:
        render_soundfont(np.array([[0.0, 0.3, 69]]), font, 16000)
    assert info.value.path == str(font)
