"""The score generator of the ``demo-band`` set: one deterministic multitrack song per catalogue index.

:func:`generate_score` turns an index into a :class:`BandScore`: a style of
:data:`accbench.datasets.band_styles.STYLES` (``index mod 8``), a key, a tempo (mostly constant, about one
song in four with a gradual accelerando or ritardando), a form (intro, verse, chorus, a two-bar stop
section, chorus, outro; fills at the ends of sections, crashes on their downbeats, pushed chord changes)
and five parts: the ``lead`` (the input: a voice-like or guitar-like melody) and the band (``drums`` on
the GM drum channel, ``bass``, ``keys``, ``guitar``: the reference).

All positions are in beats (the meter's tactus: quarter notes in 4/4 and 3/4, dotted quarters in 6/8) on
a grid of 1/12 beat, so they are whole MIDI ticks. The tempo is a list of MIDI tempi, one per beat
(microseconds per quarter note): a beat's length is exact, and so are the annotations derived from it
(:meth:`BandScore.seconds`): beats, downbeats, chord segments (a pushed chord starts at its push) and
every note's onset, with no humanisation, so the rendered audio follows the score to the renderer's
precision. Randomness comes from one ``numpy`` generator seeded by ``sha256(index)``; a change of the
generator bumps :data:`GENERATOR_VERSION`, which is part of the render cache key.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

import numpy as np

from .band_styles import DRUMS, LEAD_PROGRAMS, STYLES, Style

__all__ = ["GENERATOR_VERSION", "PARTS", "BandScore", "Part", "generate_score"]

GENERATOR_VERSION = 2
PARTS = ("lead", "drums", "bass", "keys", "guitar")
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_NUMERALS = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11, "BIII": 3, "BVI": 8, "BVII": 10}
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_DORIAN_SCALE = (0, 2, 3, 5, 7, 9, 10)
_BASS_DEGREES = {"R": 0, "5": 7, "6": 9, "7": 10, "8": 12}
_PUSH_PROBABILITY = 0.35
_TEMPO_CHANGE = (("none", 0.72), ("accelerando", 0.14), ("ritardando", 0.14))


@dataclass(frozen=True)
class Part:
    """One instrument of a song.

    Attributes
    ----------
    name : str
        One of :data:`PARTS`.
    program : int
        General MIDI program (0-based); drums use the GM kit (program 0 on channel 10).
    is_drum : bool
    notes : ndarray, float64, shape (n_notes, 4)
        ``[onset_beats, duration_beats, midi_pitch, velocity]`` sorted by onset then pitch.
    """

    name: str
    program: int
    is_drum: bool
    notes: np.ndarray


@dataclass(frozen=True)
class BandScore:
    """A generated song.

    Attributes
    ----------
    song_id, style, meter, key : str
    beats_per_bar : int
    quarters_per_beat : float
    tempo_us : ndarray, int64, shape (n_beats,)
        MIDI tempo of each beat, microseconds per quarter note.
    parts : dict of str -> Part
        :data:`PARTS`, lead first.
    chords : tuple of (start_beats, end_beats, label)
        mir_eval labels, consecutive equal labels merged.
    sections : tuple of (start_bar, n_bars, name)
    tempo_change : str
        ``"none"``, ``"accelerando"`` or ``"ritardando"``.
    lead_kind : str
        ``"voice"`` or ``"guitar"``.
    """

    song_id: str
    style: str
    meter: str
    key: str
    beats_per_bar: int
    quarters_per_beat: float
    tempo_us: np.ndarray
    parts: dict[str, Part]
    chords: tuple[tuple[float, float, str], ...]
    sections: tuple[tuple[int, int, str], ...]
    tempo_change: str
    lead_kind: str
    extra: dict = field(default_factory=dict)

    @property
    def n_beats(self) -> int:
        return len(self.tempo_us)

    @property
    def beat_times(self) -> np.ndarray:
        """Start time of each beat and the end of the last, seconds, shape ``(n_beats + 1,)``."""
        lengths = self.tempo_us.astype(np.float64) * self.quarters_per_beat / 1e6
        return np.concatenate([[0.0], np.cumsum(lengths)])

    @property
    def bpm(self) -> np.ndarray:
        """Tempo of each beat, beats (tactus) per minute, shape ``(n_beats,)``."""
        return 60e6 / (self.tempo_us.astype(np.float64) * self.quarters_per_beat)

    def seconds(self, positions) -> np.ndarray:
        """Score positions (beats, ``0 <= p <= n_beats``) to seconds through the tempo map, exactly."""
        positions = np.asarray(positions, dtype=np.float64)
        times = self.beat_times
        index = np.clip(np.floor(positions).astype(np.int64), 0, self.n_beats - 1)
        return times[index] + (positions - index) * (times[index + 1] - times[index])

    @property
    def duration_s(self) -> float:
        return float(self.beat_times[-1])


def _chord(numeral: str, tonic: int) -> tuple[int, str]:
    """Root pitch class and quality (``"maj"``/``"min"``) of a Roman numeral in a key."""
    quality = "min" if numeral.strip("b").islower() else "maj"
    return (tonic + _NUMERALS[numeral.upper()]) % 12, quality


def _label(root: int, quality: str) -> str:
    return f"{PITCH_NAMES[root]}:{quality}"


def _form(style: Style, bpm: float, rng: np.random.Generator, bars: int | None) -> list[tuple[int, int, str]]:
    """Sections ``(start_bar, n_bars, name)``: 8-bar verse and chorus, 4 at slow tempi; ``bars`` cuts the form."""
    bar_s = style.beats_per_bar * 60.0 / bpm
    length = 8 if bar_s * 8 <= 18.0 else 4
    names = [("intro", 2), ("verse", length), ("chorus", length), ("break", 2), ("chorus", length), ("outro", 2)]
    if bars is not None:
        names, left = [], bars
        for name, count in [("verse", length), ("chorus", length), ("break", 2), ("chorus", length)] * 4:
            if left <= 0:
                break
            names.append((name, min(count, left)))
            left -= count
    sections, start = [], 0
    for name, count in names:
        sections.append((start, count, name))
        start += count
    return sections


def _tempo_map(style: Style, bpm: float, change: str, sections, n_bars: int) -> np.ndarray:
    """MIDI tempo (us per quarter) of each beat: constant, or a linear ramp (accelerando over the break to
    +8 %, ritardando over the last four bars to -18 %)."""
    per_bar = style.beats_per_bar
    factor = np.ones(n_bars * per_bar)
    if change == "accelerando":
        start, count, _ = next((s for s in sections if s[2] == "break"), sections[len(sections) // 2])
        first, last = start * per_bar, (start + count) * per_bar
        factor[first:last] = np.linspace(1.0, 1.08, last - first + 1)[1:]
        factor[last:] = 1.08
    elif change == "ritardando":
        first = max(0, (n_bars - 4) * per_bar)
        factor[first:] = np.linspace(1.0, 0.82, len(factor) - first + 1)[1:]
    beat_bpm = bpm * factor
    return np.round(60e6 / (beat_bpm * style.quarters_per_beat)).astype(np.int64)


def _chord_timeline(style, tonic, sections, rng) -> list[tuple[int, str]]:
    """One ``(root_pc, quality)`` per bar: verse and chorus progressions, tonic at the end."""
    verse, chorus = (style.progressions[i] for i in rng.choice(len(style.progressions), 2, replace=True))
    bars = []
    for _, count, name in sections:
        progression = chorus if name == "chorus" else verse
        bars.extend(_chord(progression[i % len(progression)], tonic) for i in range(count))
    if sections[-1][2] == "outro":
        bars[-1] = _chord("i" if verse[0] == "i" else "I", tonic)
    return bars


def _pushes(sections, bar_chords, rng) -> set[int]:
    """Bars whose chord arrives early (the band plays it on the last off-beat of the previous bar)."""
    kinds = {}
    for start, count, name in sections:
        for bar in range(start, start + count):
            kinds[bar] = name
    pushed = set()
    for bar in range(1, len(bar_chords)):
        if bar_chords[bar] == bar_chords[bar - 1] or "break" in (kinds[bar], kinds[bar - 1]):
            continue
        if kinds[bar] == "intro" or rng.random() >= _PUSH_PROBABILITY:
            continue
        pushed.add(bar)
    return pushed


def _velocity(style: Style, step: int, char: str, rng: np.random.Generator) -> float:
    """Velocity of a hit from its place in the bar (downbeat, beat, off-beat) and its accent mark."""
    if char == "g":
        base = 42
    elif step == 0:
        base = 110
    elif step % style.steps_per_beat == 0:
        base = 98
    elif (step % style.steps_per_beat) * 2 == style.steps_per_beat or style.steps_per_beat == 3:
        base = 86
    else:
        base = 74
    if char == "o":
        base = min(124, base + 16)
    return float(np.clip(base + rng.integers(-5, 6), 1, 127))


def _pattern_events(pattern: str, style: Style) -> list[tuple[int, str, float]]:
    """``(step, char, duration_beats)`` of each note start in a one-bar pattern (``.`` holds, ``-`` rests)."""
    if len(pattern) != style.steps_per_bar:
        raise ValueError(
            f"pattern {pattern!r} of style {style.name} has {len(pattern)} steps, not {style.steps_per_bar}"
        )
    events = []
    marks = [i for i, c in enumerate(pattern) if c != "."] + [len(pattern)]
    for here, following in itertools.pairwise(marks):
        if pattern[here] != "-":
            events.append((here, pattern[here], (following - here) / style.steps_per_beat))
    return events


def _voicing(part: str, program: int, root: int, quality: str) -> list[int]:
    """MIDI pitches of a chord on keys (closed triad around C4) or guitar (power chord or open voicing)."""
    third = 3 if quality == "min" else 4
    if part == "keys":
        low = 55 + (root - 7) % 12  # root in G3..F#4
        triad = [low, low + third, low + 7]
        return sorted(p - 12 if p > 72 else p for p in triad)
    low = 40 + (root - 4) % 12  # root in E2..D#3
    if program in (29, 30):
        return [low, low + 7, low + 12]
    return [low, low + 7, low + 12, low + 12 + third]


def _pitched_bar(part, program, pattern, style, bar, chord_at, rng) -> list[list[float]]:
    """Notes of one bar of bass, keys or guitar from a pattern; each note takes the chord sounding at its onset."""
    notes, arpeggio = [], 0
    bar_start = bar * style.beats_per_bar
    for step, char, duration in _pattern_events(pattern, style):
        onset = bar_start + step / style.steps_per_beat
        root, quality = chord_at(onset)
        velocity = _velocity(style, step, char, rng)
        if part == "bass":
            degree = (3 if quality == "min" else 4) if char == "3" else _BASS_DEGREES[char]
            notes.append([onset, duration, 28 + (root - 4) % 12 + degree, velocity])
            continue
        voicing = _voicing(part, program, root, quality)
        if char == "a":
            notes.append([onset, duration, voicing[arpeggio % len(voicing)], velocity * 0.9])
            arpeggio += 1
            continue
        length = min(duration, 0.5 / style.steps_per_beat) if char == "m" else duration
        notes.extend([onset, length, pitch, velocity * 0.92] for pitch in voicing)
    return notes


def _drum_bar(pattern: dict[str, str], style: Style, bar: int, rng, fill: bool) -> list[list[float]]:
    """Drum hits of one bar; ``fill``: the second half of the bar is the style's fill."""
    half = style.steps_per_bar // 2
    hits = []
    for drum, row in pattern.items():
        for step, char, _ in _pattern_events(row, style):
            if not (fill and step >= half):
                hits.append((step, drum, char))
    if fill:
        for drum, row in style.fill.items():
            hits.extend((step, drum, char) for step, char, _ in _pattern_events(row, style) if step >= half)
    bar_start = bar * style.beats_per_bar
    return [
        [bar_start + step / style.steps_per_beat, 0.25, DRUMS[drum], _velocity(style, step, char, rng)]
        for step, drum, char in hits
    ]


@dataclass(frozen=True)
class _Plan:
    style: Style
    sections: list
    bar_chords: list
    pushed: set
    push_beats: float
    programs: dict
    tonic: int
    extra_minor: bool

    def chord_at(self, position: float) -> tuple[int, str]:
        bar = int(position // self.style.beats_per_bar)
        following = bar + 1
        if following in self.pushed and position >= following * self.style.beats_per_bar - self.push_beats - 1e-9:
            return self.bar_chords[min(following, len(self.bar_chords) - 1)]
        return self.bar_chords[min(bar, len(self.bar_chords) - 1)]


def _section_of(sections) -> dict[int, tuple[str, int, int]]:
    """bar -> (section name, bar index within the section, section length)."""
    table = {}
    for start, count, name in sections:
        for offset in range(count):
            table[start + offset] = (name, offset, count)
    return table


def _band_parts(plan: _Plan, variants: dict, rng) -> dict[str, list[list[float]]]:
    """Drums, bass, keys and guitar, bar by bar, from the section's pattern variants."""
    style, per_bar = plan.style, plan.style.beats_per_bar
    parts: dict[str, list[list[float]]] = {"drums": [], "bass": [], "keys": [], "guitar": []}
    sections = _section_of(plan.sections)
    starts = {start for start, _, _ in plan.sections}
    for bar in range(len(plan.bar_chords)):
        name, offset, count = sections[bar]
        root, quality = plan.bar_chords[bar]
        if name == "break" or (name == "outro" and offset == count - 1):
            length = 1.0 if name == "break" else float(per_bar)
            onset = float(bar * per_bar)
            parts["bass"].append([onset, length, 28 + (root - 4) % 12, 110.0])
            for part in ("keys", "guitar"):
                voicing = _voicing(part, plan.programs[part], root, quality)
                parts[part].extend([onset, length, pitch, 105.0] for pitch in voicing)
            parts["drums"] += [[onset, 0.25, DRUMS["kick"], 115.0], [onset, 0.25, DRUMS["crash"], 110.0]]
            continue
        chosen = variants["chorus" if name in ("chorus", "outro") else "verse"]
        fill = name in ("intro", "verse", "chorus") and offset == count - 1 and bar + 1 < len(plan.bar_chords)
        parts["drums"] += _drum_bar(style.drums[chosen["drums"]], style, bar, rng, fill)
        if bar in starts and bar > 0:
            parts["drums"].append([float(bar * per_bar), 0.25, DRUMS["crash"], 108.0])
        for part in ("bass", "keys", "guitar"):
            if part == "guitar" and name == "intro":
                continue
            pattern = getattr(style, part)[chosen[part]]
            parts[part] += _pitched_bar(part, plan.programs[part], pattern, style, bar, plan.chord_at, rng)
    return parts


def _apply_pushes(plan: _Plan, parts: dict[str, list[list[float]]]) -> None:
    """Anticipate each pushed chord: one hit of it ``push_beats`` before the bar line, held over the downbeat
    (as long as the notes it replaces), which loses its own attack (the syncopation a beat tracker has to
    ride through)."""
    per_bar = plan.style.beats_per_bar
    for bar in sorted(plan.pushed):
        line = float(bar * per_bar)
        push = line - plan.push_beats
        root, quality = plan.chord_at(push)
        for name, notes in parts.items():
            drums = name == "drums"
            until = line + (0.5 if drums else 1.0)
            kept, end = [], line + 1.0
            for note in notes:
                if push - 1e-9 <= note[0] < until and (not drums or note[2] in (DRUMS["kick"], DRUMS["crash"])):
                    end = max(end, note[0] + note[1]) if not drums and note[0] >= line - 1e-9 else end
                    continue
                if not drums and note[0] < push < note[0] + note[1]:
                    note = [note[0], push - note[0], note[2], note[3]]
                kept.append(note)
            length = end - push  # held as long as the downbeat's own notes would have sounded
            if drums:
                kept += [[push, 0.25, DRUMS["kick"], 112.0], [push, 0.25, DRUMS["crash"], 108.0]]
            elif name == "bass":
                kept.append([push, length, 28 + (root - 4) % 12, 108.0])
            else:
                kept += [[push, length, pitch, 100.0] for pitch in _voicing(name, plan.programs[name], root, quality)]
            parts[name] = kept


def _lead_bar(plan: _Plan, bar: int, kind: str, previous: float, rng, rest_last_beat: bool) -> list[list[float]]:
    """Melody of one bar: onsets more likely on strong steps, chord tones on beats, scale steps between."""
    style = plan.style
    spb = style.steps_per_beat
    low, high = (60, 79) if kind == "voice" else (57, 81)
    scale = _DORIAN_SCALE if plan.extra_minor else _MAJOR_SCALE
    weak = 0.08 if kind == "voice" else 0.22
    steps = []
    for step in range(style.steps_per_bar):
        if rest_last_beat and step >= style.steps_per_bar - spb:
            break
        strength = 0.85 if step == 0 else 0.6 if step % spb == 0 else 0.42 if spb in (2, 3) or step % 2 == 0 else weak
        if rng.random() < strength:
            steps.append(step)
    if not steps:
        steps = [0]
    notes, pitch = [], previous
    limit = style.steps_per_bar - (spb if rest_last_beat else 0)
    for here, following in zip(steps, [*steps[1:], limit], strict=True):
        onset = bar * style.beats_per_bar + here / spb
        root, quality = plan.chord_at(onset)
        if here % spb == 0:
            tones = [p for p in range(low, high + 1) if (p - root) % 12 in (0, 3 if quality == "min" else 4, 7)]
            target = pitch + rng.integers(-4, 5)
            pitch = float(min(tones, key=lambda p: (abs(p - target), p)))
        else:
            tones = [p for p in range(low, high + 1) if (p - plan.tonic) % 12 in scale]
            index = int(np.searchsorted(tones, pitch))
            pitch = float(tones[int(np.clip(index + rng.choice([-2, -1, 1, 2]), 0, len(tones) - 1))])
        duration = min(2.0, (following - here) / spb) * (0.95 if kind == "voice" else 0.9)
        notes.append([onset, duration, pitch, float(np.clip(96 + rng.integers(-8, 9), 1, 127))])
    return notes


def _lead(plan: _Plan, kind: str, rng) -> list[list[float]]:
    """The lead line: silent in the intro, two-bar phrases (the second ends with a rest), tonic at the end."""
    notes, previous = [], 67.0
    sections = _section_of(plan.sections)
    for bar in range(len(plan.bar_chords)):
        name, offset, count = sections[bar]
        if name == "intro":
            continue
        if name == "outro" and offset == count - 1:
            tones = [p for p in range(57, 82) if (p - plan.tonic) % 12 == 0]
            pitch = float(min(tones, key=lambda p: abs(p - previous)))
            notes.append([float(bar * plan.style.beats_per_bar), float(plan.style.beats_per_bar), pitch, 96.0])
            continue
        bar_notes = _lead_bar(plan, bar, kind, previous, rng, rest_last_beat=offset % 2 == 1)
        notes += bar_notes
        previous = bar_notes[-1][2]
    return notes


def _chord_segments(plan: _Plan, n_beats: int) -> tuple[tuple[float, float, str], ...]:
    """Chord segments in beats: a change at each bar line (at the push for pushed bars), equal labels merged."""
    per_bar = plan.style.beats_per_bar
    starts, labels = [], []
    for bar, chord in enumerate(plan.bar_chords):
        label = _label(*chord)
        if labels and labels[-1] == label:
            continue
        starts.append(bar * per_bar - (plan.push_beats if bar in plan.pushed else 0.0))
        labels.append(label)
    ends = [*starts[1:], float(n_beats)]
    return tuple((float(s), float(e), label) for s, e, label in zip(starts, ends, labels, strict=True))


def _as_part(name: str, program: int, notes: list[list[float]], n_beats: int) -> Part:
    """Sorted ``(n, 4)`` notes, each cut at the end of the song (and on the 1/12-beat grid)."""
    array = np.asarray(notes, dtype=np.float64).reshape(-1, 4)
    array = array[array[:, 0] < n_beats]
    array[:, 0] = np.round(array[:, 0] * 12) / 12
    array[:, 1] = np.maximum(np.minimum(array[:, 1], n_beats - array[:, 0]), 1 / 24)
    array = array[np.lexsort((array[:, 2], array[:, 0]))]
    return Part(name=name, program=int(program), is_drum=name == "drums", notes=array)


def generate_score(index: int, *, bars: int | None = None) -> BandScore:
    """The song at catalogue position ``index`` (deterministic).

    Parameters
    ----------
    index : int
        Catalogue position, >= 0; the style is ``STYLES[index % len(STYLES)]``.
    bars : int or None
        Keep only this many bars (verse, chorus, break... without intro and outro): short songs for tests.
        ``None``: the whole form (intro, verse, chorus, break, chorus, outro).

    Returns
    -------
    BandScore
    """
    if isinstance(index, bool) or int(index) != index or index < 0:
        raise ValueError(f"index must be a non-negative integer, got {index!r}")
    digest = hashlib.sha256(f"demo-band:{int(index)}".encode()).digest()  # the version is in the render key
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    style = STYLES[int(index) % len(STYLES)]
    bpm = float(rng.integers(style.tempo_bpm[0], style.tempo_bpm[1] + 1))
    change = str(rng.choice([name for name, _ in _TEMPO_CHANGE], p=[p for _, p in _TEMPO_CHANGE]))
    tonic = int(rng.integers(12))
    sections = _form(style, bpm, rng, bars)
    n_bars = sum(count for _, count, _ in sections)
    bar_chords = _chord_timeline(style, tonic, sections, rng)
    programs = {part: int(rng.choice(style.programs[part])) for part in ("bass", "keys", "guitar")}
    kind = str(rng.choice(style.lead_kind))
    programs["lead"] = int(rng.choice(LEAD_PROGRAMS[kind]))
    variants = {
        section: {part: int(rng.integers(len(getattr(style, part)))) for part in ("drums", "bass", "keys", "guitar")}
        for section in ("verse", "chorus")
    }
    plan = _Plan(
        style=style,
        sections=sections,
        bar_chords=bar_chords,
        pushed=_pushes(sections, bar_chords, rng),
        push_beats=0.5 if style.steps_per_beat in (2, 4) else 1 / 3,
        programs=programs,
        tonic=tonic,
        extra_minor=bar_chords[0][1] == "min" and style.name == "funk",
    )
    band = _band_parts(plan, variants, rng)
    _apply_pushes(plan, band)
    lead = _lead(plan, kind, rng)
    n_beats = n_bars * style.beats_per_bar
    parts = {"lead": _as_part("lead", programs["lead"], lead, n_beats)}
    parts["drums"] = _as_part("drums", 0, band["drums"], n_beats)
    for name in ("bass", "keys", "guitar"):
        parts[name] = _as_part(name, programs[name], band[name], n_beats)
    return BandScore(
        song_id=f"band-{int(index):03d}-{style.name}",
        style=style.name,
        meter=style.meter,
        key=PITCH_NAMES[tonic],
        beats_per_bar=style.beats_per_bar,
        quarters_per_beat=style.quarters_per_beat,
        tempo_us=_tempo_map(style, bpm, change, sections, n_bars),
        parts=parts,
        chords=_chord_segments(plan, n_beats),
        sections=tuple(sections),
        tempo_change=change,
        lead_kind=kind,
        extra={"pushed_bars": sorted(plan.pushed), "base_bpm": bpm},
    )
