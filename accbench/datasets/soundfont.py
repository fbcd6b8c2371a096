"""SoundFont rendering of note events with the ``fluidsynth`` program and a General MIDI SoundFont.

accbench's own synthesiser (:mod:`accbench.synth`) is the chorale demo's default: deterministic,
dependency-free, fast. A SoundFont (``.sf2``) gives realistic, sample-based instruments (the ``demo-band``
set always uses one, the chorale demo with ``soundfont=``). Notes are written to a Standard MIDI File with
`mido <https://mido.readthedocs.io>`_ and rendered offline by the FluidSynth command-line program
(Debian: ``apt-get install fluidsynth fluid-soundfont-gm``).

Rendering is deterministic on one machine: reverb and chorus are off (:data:`FLUIDSYNTH_OPTIONS`), the
output is 32-bit float (no dither), and the player runs on the sample clock of the fast renderer, so two
renders of the same file are bit-identical (``tests/test_band_render.py`` checks it). Across machines the
result depends on the SoundFont and the FluidSynth version: caches key it by the SoundFont's SHA-256 and
:func:`fluidsynth_version`.

Functions
---------
- :func:`write_midi`: notes (seconds) of one or more tracks to a type-1 MIDI file.
- :func:`render_midi`: a MIDI file to float32 audio through FluidSynth.
- :func:`render_soundfont`: notes of one instrument to mono float32 audio.
- :func:`find_fluidsynth`, :func:`find_soundfont`, :func:`fluidsynth_version`.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from accbench.atomic import atomic_write_bytes
from accbench.audio import load_audio, match_channels
from accbench.errors import DataError

__all__ = [
    "FLUIDSYNTH_OPTIONS",
    "GM_PROGRAMS",
    "SOUNDFONT_PATHS",
    "find_fluidsynth",
    "find_soundfont",
    "fluidsynth_version",
    "midi_bytes",
    "render_midi",
    "render_soundfont",
    "write_midi",
]

# General MIDI programs (0-based) the chorale demo uses for its voices: a woodwind quartet.
GM_PROGRAMS = {"soprano": 68, "alto": 71, "tenor": 69, "bass": 70}  # oboe, clarinet, English horn, bassoon
PPQ = 960  # ticks per quarter note
_SECONDS_TEMPO_US = 500_000  # MIDI tempo of 120 quarters per minute: one tick is 1/1920 s
#: Where Debian's General MIDI SoundFonts are installed (``fluid-soundfont-gm``, ``musescore-general-soundfont*``).
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
)
#: FluidSynth settings of every render: no shell, no MIDI input, reverb and chorus off, float output.
FLUIDSYNTH_OPTIONS = ("-ni", "-q", "-R", "0", "-C", "0", "-O", "float", "-T", "wav")
DEFAULT_GAIN = 0.5


def _note_messages(events: np.ndarray, channel: int, velocity: int, ticks_per_second: float) -> list:
    """(tick, order, message) of each note: note-offs (order 0) before note-ons (1) at the same tick."""
    import mido

    messages = []
    for onset, duration, pitch in events:
        start = round(onset * ticks_per_second)
        stop = max(start + 1, round((onset + duration) * ticks_per_second))
        note = int(round(pitch))
        messages.append((start, 1, mido.Message("note_on", channel=channel, note=note, velocity=velocity)))
        messages.append((stop, 0, mido.Message("note_off", channel=channel, note=note, velocity=0)))
    messages.sort(key=lambda m: (m[0], m[1]))
    return messages


def midi_bytes(midi) -> bytes:
    """The Standard MIDI File bytes of a :class:`mido.MidiFile`."""
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def write_midi(
    path: str | os.PathLike,
    tracks: Sequence[tuple[int, np.ndarray]],
    *,
    velocity: int = 100,
) -> None:
    """Write note events to a type-1 Standard MIDI File (with mido), atomically.

    Parameters
    ----------
    path : path
    tracks : sequence of (program, events)
        One MIDI track (and channel, in order; channel 10, the drum channel, is skipped) per entry: a General
        MIDI program (0-127) and an ``(n, 3)`` array of ``[onset_s, duration_s, midi_pitch]``.
    velocity : int
        Note-on velocity, 1-127.

    Notes
    -----
    Times are written at 120 quarters per minute with 960 ticks per quarter, so one tick is 1/1920 s
    (0.52 ms); every time is rounded to the nearest tick.
    """
    import mido

    if len(tracks) > 15:
        raise ValueError(f"at most 15 tracks, got {len(tracks)}")
    if not 1 <= velocity <= 127:
        raise ValueError(f"velocity must be 1-127, got {velocity}")
    ticks_per_second = PPQ * 1_000_000 / _SECONDS_TEMPO_US
    midi = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=_SECONDS_TEMPO_US, time=0)]))
    for index, (program, events) in enumerate(tracks):
        channel = index if index < 9 else index + 1
        array = np.asarray(events, dtype=np.float64).reshape(-1, 3)
        if not 0 <= program <= 127:
            raise ValueError(f"program must be 0-127, got {program}")
        if np.any(array[:, 2] < 0) or np.any(array[:, 2] > 127) or np.any(array[:, 1] <= 0) or np.any(array[:, 0] < 0):
            raise ValueError("events need onset >= 0, duration > 0 and a MIDI pitch 0-127")
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=int(program), time=0)])
        now = 0
        for tick, _, message in _note_messages(array, channel, velocity, ticks_per_second):
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    atomic_write_bytes(path, midi_bytes(midi))


def find_fluidsynth() -> str:
    """Path of the ``fluidsynth`` program (``$ACCBENCH_FLUIDSYNTH`` or on ``PATH``), or :class:`DataError`."""
    program = os.environ.get("ACCBENCH_FLUIDSYNTH") or shutil.which("fluidsynth")
    if not program:
        raise DataError(
            "SoundFont rendering needs the 'fluidsynth' program (e.g. apt install fluidsynth, brew install "
            "fluid-synth) on PATH or in $ACCBENCH_FLUIDSYNTH; without it, use the built-in synthesiser"
        )
    return program


def find_soundfont(soundfont: str | os.PathLike | None = None) -> Path:
    """The SoundFont to render with: ``soundfont``, else ``$ACCBENCH_SOUNDFONT``, else Debian's GM SoundFont.

    Raises :class:`DataError` (naming what was looked for) when none exists.
    """
    if soundfont is not None:
        path = Path(soundfont)
        if not path.is_file():
            raise DataError("SoundFont not found", path=str(path))
        return path
    if os.environ.get("ACCBENCH_SOUNDFONT"):
        return find_soundfont(os.environ["ACCBENCH_SOUNDFONT"])
    for candidate in SOUNDFONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise DataError(
        "no General MIDI SoundFont found (looked in $ACCBENCH_SOUNDFONT and "
        + ", ".join(SOUNDFONT_PATHS)
        + "): apt install fluid-soundfont-gm, or pass soundfont=PATH"
    )


@functools.lru_cache(maxsize=4)
def _version_of(program: str) -> str:
    try:
        result = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DataError(f"cannot run fluidsynth --version: {error}", path=program) from None
    for line in result.stdout.splitlines():
        if "version" in line.lower():
            return line.strip()
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "unknown"


def fluidsynth_version() -> str:
    """FluidSynth's version line, e.g. ``"FluidSynth runtime version 2.3.1"`` (part of cache keys)."""
    return _version_of(find_fluidsynth())


def render_midi(
    midi: str | os.PathLike,
    soundfont: str | os.PathLike,
    sample_rate: int,
    *,
    gain: float = DEFAULT_GAIN,
    timeout_s: float = 600.0,
) -> np.ndarray:
    """Render a MIDI file offline with FluidSynth.

    Parameters
    ----------
    midi : path
        A Standard MIDI File.
    soundfont : path
        A ``.sf2`` (or ``.sf3``) file.
    sample_rate : int
        Hz (FluidSynth renders 8000-96000 Hz).
    gain : float
        FluidSynth's master gain.
    timeout_s : float
        Limit for the FluidSynth run.

    Returns
    -------
    audio : ndarray, float32, shape (2, n_samples)
        FluidSynth's stereo output, including the release tails after the last event.
    """
    soundfont = Path(soundfont)
    if not soundfont.is_file():
        raise DataError("SoundFont not found", path=str(soundfont))
    program_path = find_fluidsynth()
    with tempfile.TemporaryDirectory(prefix="accbench-sf-") as folder:
        wav = Path(folder) / "render.wav"
        command = [
            program_path,
            *FLUIDSYNTH_OPTIONS,
            "-g",
            f"{gain:g}",
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
        messages = (result.stderr or "") + (result.stdout or "")
        # FluidSynth exits 0 and renders silence when it cannot read the SoundFont: its error lines count.
        failed = result.returncode != 0 or not wav.is_file() or "error:" in messages or "not a SoundFont" in messages
        if failed:
            tail = messages.strip()[-500:]
            raise DataError(f"fluidsynth exited with {result.returncode}: {tail}", path=str(soundfont))
        audio, rate = load_audio(wav)
    if rate != int(sample_rate):
        raise DataError(f"fluidsynth wrote {rate} Hz, asked for {sample_rate} Hz", path=str(soundfont))
    return np.ascontiguousarray(match_channels(audio, 2), dtype=np.float32)


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
    find_fluidsynth()
    with tempfile.TemporaryDirectory(prefix="accbench-sf-") as folder:
        midi = Path(folder) / "notes.mid"
        write_midi(midi, [(program, events)])
        audio = render_midi(midi, soundfont, sample_rate, timeout_s=timeout_s)
    mono = match_channels(audio, 1)[0]
    if n_samples is not None:
        mono = mono[:n_samples] if len(mono) >= n_samples else np.pad(mono, (0, n_samples - len(mono)))
    return np.ascontiguousarray(mono, dtype=np.float32)
