"""Optional SoundFont rendering of note events with the ``fluidsynth`` program, for users who have one.

accbench's own synthesiser (:mod:`accbench.synth`) is the default: deterministic, dependency-free, fast.
A SoundFont (``.sf2``) gives more realistic instruments. This module writes the notes to a Standard MIDI
File (its own small writer, no MIDI library needed) and runs the FluidSynth command-line program
(``fluidsynth``, installed by the user's package manager) to render it offline. The result depends on the
SoundFont and the FluidSynth version, so it is not bit-reproducible across machines the way
:mod:`accbench.synth` is; the demo cache keys it by the SoundFont's SHA-256.

Functions
---------
- :func:`write_midi`: notes of one or more tracks to a type-1 MIDI file.
- :func:`render_soundfont`: notes of one instrument to mono float32 audio through FluidSynth.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from accbench.atomic import atomic_write_bytes
from accbench.audio import load_audio, match_channels
from accbench.errors import DataError

__all__ = ["GM_PROGRAMS", "find_fluidsynth", "render_soundfont", "write_midi"]

# General MIDI programs (0-based) the demo uses for its voices: a woodwind quartet.
GM_PROGRAMS = {"soprano": 68, "alto": 71, "tenor": 69, "bass": 70}  # oboe, clarinet, English horn, bassoon
PPQ = 960  # ticks per quarter note
_SECONDS_TEMPO_US = 500_000  # MIDI tempo of 120 quarters per minute: one tick is 1/1920 s


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def write_midi(
    path: str | os.PathLike,
    tracks: Sequence[tuple[int, np.ndarray]],
    *,
    velocity: int = 100,
) -> None:
    """Write note events to a type-1 Standard MIDI File, atomically.

    Parameters
    ----------
    path : path
    tracks : sequence of (program, events)
        One MIDI track (and channel, in order; channel 10 is skipped) per entry: a General MIDI program
        (0-127) and an ``(n, 3)`` array of ``[onset_s, duration_s, midi_pitch]``.
    velocity : int
        Note-on velocity, 1-127.

    Notes
    -----
    Times are written at 120 quarters per minute with 960 ticks per quarter, so one tick is 1/1920 s
    (0.52 ms); every time is rounded to the nearest tick.
    """
    if len(tracks) > 15:
        raise ValueError(f"at most 15 tracks, got {len(tracks)}")
    ticks_per_second = PPQ * 1_000_000 / _SECONDS_TEMPO_US
    chunks = []
    tempo = b"\x00\xff\x51\x03" + _SECONDS_TEMPO_US.to_bytes(3, "big") + b"\x00\xff\x2f\x00"
    chunks.append(b"MTrk" + struct.pack(">I", len(tempo)) + tempo)
    for index, (program, events) in enumerate(tracks):
        channel = index if index < 9 else index + 1
        array = np.asarray(events, dtype=np.float64).reshape(-1, 3)
        if not 0 <= program <= 127:
            raise ValueError(f"program must be 0-127, got {program}")
        if np.any(array[:, 2] < 0) or np.any(array[:, 2] > 127) or np.any(array[:, 1] <= 0) or np.any(array[:, 0] < 0):
            raise ValueError("events need onset >= 0, duration > 0 and a MIDI pitch 0-127")
        messages = []  # (tick, order, bytes): note-offs (order 0) before note-ons (1) at the same tick
        for onset, duration, pitch in array:
            start = round(onset * ticks_per_second)
            stop = max(start + 1, round((onset + duration) * ticks_per_second))
            note = int(round(pitch))
            messages.append((start, 1, bytes([0x90 | channel, note, velocity])))
            messages.append((stop, 0, bytes([0x80 | channel, note, 0])))
        messages.sort(key=lambda m: (m[0], m[1]))
        body = bytearray(b"\x00" + bytes([0xC0 | channel, program]))
        now = 0
        for tick, _, message in messages:
            body += _varlen(tick - now) + message
            now = tick
        body += b"\x00\xff\x2f\x00"
        chunks.append(b"MTrk" + struct.pack(">I", len(body)) + bytes(body))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), PPQ)
    atomic_write_bytes(path, header + b"".join(chunks))


def find_fluidsynth() -> str:
    """Path of the ``fluidsynth`` program (``$ACCBENCH_FLUIDSYNTH`` or on ``PATH``), or :class:`DataError`."""
    program = os.environ.get("ACCBENCH_FLUIDSYNTH") or shutil.which("fluidsynth")
    if not program:
        raise DataError(
            "SoundFont rendering needs the 'fluidsynth' program (e.g. apt install fluidsynth, brew install "
            "fluid-synth) on PATH or in $ACCBENCH_FLUIDSYNTH; without it, use the built-in synthesiser"
        )
    return program


def render_soundfont(
    events: np.ndarray,
    soundfont: str | os.PathLike,
    sample_rate: int,
    *,
    program: int = 0,
    n_samples: int | None = None,
    timeout_s: float = 600.0,
) -> np.ndarray:
    """Render ``(n, 3)`` events ``[onset_s, duration_s, midi_pitch]`` with a SoundFont.

    Parameters
    ----------
    events : ndarray, shape (n_notes, 3)
    soundfont : path
        A ``.sf2`` file.
    sample_rate : int
        Hz.
    program : int
        General MIDI program (0-based).
    n_samples : int or None
        Cut or pad the result to this length.
    timeout_s : float
        Limit for the FluidSynth run.

    Returns
    -------
    audio : ndarray, float32, shape (n_samples,)
        Mono (FluidSynth's stereo output averaged).
    """
    soundfont = Path(soundfont)
    if not soundfont.is_file():
        raise DataError("SoundFont not found", path=str(soundfont))
    program_path = find_fluidsynth()
    with tempfile.TemporaryDirectory(prefix="accbench-sf-") as folder:
        midi = Path(folder) / "notes.mid"
        wav = Path(folder) / "notes.wav"
        write_midi(midi, [(program, events)])
        command = [
            program_path,
            "-ni",
            "-g",
            "0.5",
            "-r",
            str(int(sample_rate)),
            "-F",
            str(wav),
            str(soundfont),
            str(midi),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DataError(f"fluidsynth failed: {error}", path=str(soundfont)) from None
        if result.returncode != 0 or not wav.is_file():
            tail = (result.stderr or result.stdout or "").strip()[-500:]
            raise DataError(f"fluidsynth exited with {result.returncode}: {tail}", path=str(soundfont))
        audio, _ = load_audio(wav, sample_rate=int(sample_rate))
    mono = match_channels(audio, 1)[0]
    if n_samples is not None:
        mono = mono[:n_samples] if len(mono) >= n_samples else np.pad(mono, (0, n_samples - len(mono)))
    return np.ascontiguousarray(mono, dtype=np.float32)
