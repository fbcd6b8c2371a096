"""The styles of the ``demo-band`` set: meters, tempo ranges, instruments and one-bar patterns.

A style is data, not code: each instrument's part is a set of one-bar *patterns* written as strings over the
bar's grid of ``beats_per_bar * steps_per_beat`` steps (16ths in 4/4 rock, triplet eighths in a shuffle,
eighths in 6/8). The generator (:mod:`accbench.datasets.band_score`) picks one pattern per section from each
list, so songs of a style differ in groove as well as in key, tempo and form.

Pattern characters
------------------
Drums (one string per drum, see :data:`DRUMS`): ``x`` a hit, ``o`` an accented hit, ``g`` a ghost note,
``.`` nothing.

Pitched parts (bass, keys, guitar): ``.`` holds the previous note, ``-`` is silence (the previous note stops);
bass: ``R`` root, ``3`` third, ``5`` fifth, ``6`` sixth, ``7`` minor seventh, ``8`` octave (of the chord
sounding there); keys and guitar: ``x`` the whole chord, ``a`` one chord tone of a rising arpeggio,
``m`` a muted (short) chord. Every note ends at the next non-``.`` step or at the end of the bar.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DRUMS", "LEAD_PROGRAMS", "STYLES", "Style"]

#: General MIDI percussion keys (channel 10).
DRUMS = {
    "kick": 36,
    "snare": 38,
    "stick": 37,
    "clap": 39,
    "hat": 42,
    "pedal": 44,
    "open": 46,
    "crash": 49,
    "ride": 51,
    "tom_low": 45,
    "tom_mid": 48,
    "tom_high": 50,
    "floor": 41,
    "tambourine": 54,
}

#: GM programs of the lead line (the input): voice-like and guitar-like.
LEAD_PROGRAMS = {
    "voice": (53, 54, 52, 85),  # voice oohs, synth voice, choir aahs, lead 6 (voice)
    "guitar": (29, 30, 27, 26),  # overdriven, distortion, clean, jazz electric guitar
}


@dataclass(frozen=True)
class Style:
    """One style of the set.

    Attributes
    ----------
    name : str
    meter : str
        ``"4/4"``, ``"3/4"`` or ``"6/8"``.
    beats_per_bar : int
        Beats (tactus) per bar: 4, 3, or 2 for 6/8 (dotted quarters).
    quarters_per_beat : float
        Length of the beat unit in quarter notes: 1.0, or 1.5 for 6/8.
    steps_per_beat : int
        Pattern grid: 4 (16ths), 2 (eighths) or 3 (triplet or compound eighths).
    tempo_bpm : tuple of int
        Range of the tempo, beats (tactus) per minute, inclusive.
    drums : tuple of dict
        Drum pattern variants: drum name -> pattern string.
    bass, keys, guitar : tuple of str
        Pattern variants of each pitched part.
    fill : dict
        The drum fill of a section's last half bar: drum name -> pattern over the whole bar (only the
        second half is used).
    programs : dict
        Part -> GM programs to choose from (bass, keys, guitar).
    progressions : tuple of tuple of str
        Chord progressions as Roman numerals (upper case major, lower case minor), one chord per bar.
    lead_kind : tuple of str
        ``"voice"`` and/or ``"guitar"``: which lead programs fit.
    """

    name: str
    meter: str
    beats_per_bar: int
    quarters_per_beat: float
    steps_per_beat: int
    tempo_bpm: tuple[int, int]
    drums: tuple[dict[str, str], ...]
    bass: tuple[str, ...]
    keys: tuple[str, ...]
    guitar: tuple[str, ...]
    fill: dict[str, str]
    programs: dict[str, tuple[int, ...]]
    progressions: tuple[tuple[str, ...], ...]
    lead_kind: tuple[str, ...] = ("voice", "guitar")

    @property
    def steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat


_POP_PROGRESSIONS = (
    ("I", "V", "vi", "IV"),
    ("vi", "IV", "I", "V"),
    ("I", "vi", "IV", "V"),
    ("I", "IV", "vi", "V"),
    ("IV", "I", "V", "vi"),
)
_ROCK_PROGRESSIONS = (("I", "IV", "V", "IV"), ("I", "bVII", "IV", "I"), ("vi", "IV", "I", "V"), ("I", "V", "IV", "IV"))
_MINOR_PROGRESSIONS = (("vi", "IV", "V", "vi"), ("ii", "V", "I", "vi"), ("vi", "V", "IV", "V"))
_FILL_16 = {
    "snare": "........xxxx..x.",
    "tom_high": "............x...",
    "tom_mid": ".............x..",
    "floor": "..............xx",
}

STYLES: tuple[Style, ...] = (
    Style(
        name="rock",
        meter="4/4",
        beats_per_bar=4,
        quarters_per_beat=1.0,
        steps_per_beat=4,
        tempo_bpm=(100, 150),
        drums=(
            {"kick": "x.......x.x.....", "snare": "....o.......o...", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x......xx.x.....", "snare": "....o.......o...", "ride": "x.x.x.x.x.x.x.x."},
            {"kick": "x.x.....x.x...x.", "snare": "....o.......o..g", "hat": "x.x.x.x.x.x.x.x."},
        ),
        bass=("R.R.R.R.R.R.R.R.", "R.....R.R.....5.", "R.R.R.R.5.5.8.5."),
        keys=("x...............", "x.......x.......", "x.....x.....x..."),
        guitar=("x.x.x.x.x.x.x.x.", "x.....x.x.....x.", "x..x..x.x..x..x."),
        fill=_FILL_16,
        programs={"bass": (34, 33), "keys": (16, 18, 0), "guitar": (29, 30)},
        progressions=_ROCK_PROGRESSIONS,
        lead_kind=("guitar", "voice"),
    ),
    Style(
        name="pop",
        meter="4/4",
        beats_per_bar=4,
        quarters_per_beat=1.0,
        steps_per_beat=4,
        tempo_bpm=(85, 128),
        drums=(
            {"kick": "x.....x.x.......", "snare": "....o.......o...", "hat": "..x...x...x...x."},
            {
                "kick": "x..x....x.x.....",
                "clap": "....o.......o...",
                "hat": "x.x.x.x.x.x.x.x.",
                "open": "..............x.",
            },
            {"kick": "x.......x..x....", "snare": "....o.......o...", "hat": "xxxxxxxxxxxxxxxx"},
        ),
        bass=("R.....R.R.....R.", "R..R..R.R.....5.", "R...R...R...R..."),
        keys=("x...x...x...x...", "--x---x---x---x-", "x.......x......."),
        guitar=("x.x.xxx.x.xxx.x.", "--x---x---x---x-", "a.a.a.a.a.a.a.a."),
        fill=_FILL_16,
        programs={"bass": (33, 38, 34), "keys": (0, 4, 89), "guitar": (25, 27, 24)},
        progressions=_POP_PROGRESSIONS,
    ),
    Style(
        name="funk",
        meter="4/4",
        beats_per_bar=4,
        quarters_per_beat=1.0,
        steps_per_beat=4,
        tempo_bpm=(90, 118),
        drums=(
            {
                "kick": "x..x..x...x..x..",
                "snare": "....o..g.g..o..g",
                "hat": "xxxxxxxxxxxxxxxx",
                "open": "..........x.....",
            },
            {"kick": "x.x...x..x.x....", "snare": "....o.g.....o.g.", "hat": "x.xxx.xxx.xxx.xx"},
        ),
        bass=("R--R--8-.R-5R-7-", "R-R--8-R-7-5-R--", "R--8-R--5--7-8-R"),
        keys=("--x--x....x--x--", "-x-x---x-x-x---x", "x--x--x-----x---"),
        guitar=("-m-m-m-m-m-m-m-m", "--m--m-m--m--m-m", "m-mm-m-mm-mm-m-m"),
        fill={"snare": "........x.xgx.x.", "tom_high": "............x...", "floor": "..............x."},
        programs={"bass": (36, 33, 38), "keys": (7, 4, 16), "guitar": (28, 27)},
        progressions=(("i", "IV", "i", "IV"), ("i", "i", "iv", "VII"), ("ii", "V", "ii", "V")),
    ),
    Style(
        name="ballad",
        meter="4/4",
        beats_per_bar=4,
        quarters_per_beat=1.0,
        steps_per_beat=4,
        tempo_bpm=(60, 82),
        drums=(
            {"kick": "x.......x.......", "stick": "....x.......x...", "hat": "x.x.x.x.x.x.x.x."},
            {"kick": "x.....x.x.......", "snare": "....x.......x...", "ride": "x...x...x...x..."},
        ),
        bass=("R.......5.......", "R...........R.5.", "R.......R......."),
        keys=("a...a...a...a...", "x.......x.......", "a.a.a.a.a.a.a.a."),
        guitar=("a.a.a.a.a.a.a.a.", "x...............", "a...a...a...a..."),
        fill={"snare": "............x.xx", "tom_mid": "..............x.", "floor": "...............x"},
        programs={"bass": (33, 32, 35), "keys": (0, 89, 48), "guitar": (24, 25)},
        progressions=(*_POP_PROGRESSIONS[:3], ("I", "iii", "IV", "V")),
        lead_kind=("voice",),
    ),
    Style(
        name="shuffle",
        meter="4/4",
        beats_per_bar=4,
        quarters_per_beat=1.0,
        steps_per_beat=3,
        tempo_bpm=(100, 144),
        drums=(
            {"kick": "x.....x.....", "snare": "...o.....o..", "hat": "x.xx.xx.xx.x"},
            {"kick": "x.x...x.....", "snare": "...o.....o.g", "ride": "x.xx.xx.xx.x"},
        ),
        bass=("R.3R.5R.6R.5", "R.8R.5R.8R.5", "R.....5....."),
        keys=("-.x-.x-.x-.x", "x.....x.....", "x.xx.xx.xx.x"),
        guitar=("x.xx.xx.xx.x", "-.x-.x-.x-.x", "x..x..x..x.."),
        fill={"snare": "......x.xx.x", "tom_high": "......x.....", "floor": "...........x"},
        programs={"bass": (33, 32), "keys": (0, 16, 2), "guitar": (27, 29)},
        progressions=(("I", "I", "IV", "I"), ("IV", "IV", "I", "I"), ("V", "IV", "I", "V")),
    ),
    Style(
        name="punk",
        meter="4/4",
        beats_per_bar=4,
        quarters_per_beat=1.0,
        steps_per_beat=2,
        tempo_bpm=(160, 190),
        drums=(
            {"kick": "x...x...", "snare": "..o...o.", "hat": "xxxxxxxx"},
            {"kick": "x.x.x.x.", "snare": "..o...o.", "ride": "x.x.x.x."},
        ),
        bass=("RRRRRRRR", "R.R.R.R."),
        keys=("x.......", "x...x..."),
        guitar=("xxxxxxxx", "x.x.x.x."),
        fill={"snare": "....xxxx", "floor": "......xx"},
        programs={"bass": (34, 33), "keys": (16, 18), "guitar": (30, 29)},
        progressions=_ROCK_PROGRESSIONS,
        lead_kind=("guitar", "voice"),
    ),
    Style(
        name="waltz",
        meter="3/4",
        beats_per_bar=3,
        quarters_per_beat=1.0,
        steps_per_beat=2,
        tempo_bpm=(100, 180),
        drums=(
            {"kick": "x.....", "snare": "..x.x.", "hat": "x.x.x."},
            {"kick": "x.....", "stick": "..x.x.", "ride": "x.xxx."},
        ),
        bass=("R.....", "R...5.", "R.5.8."),
        keys=("--x-x-", "a.a.a.", "x....."),
        guitar=("--x-x-", "a.a.a.", "x.xxx."),
        fill={"snare": "...xxx", "floor": ".....x"},
        programs={"bass": (32, 33), "keys": (0, 21, 48), "guitar": (24, 25)},
        progressions=(*_POP_PROGRESSIONS[:3], ("I", "IV", "I", "V")),
    ),
    Style(
        name="sixeight",
        meter="6/8",
        beats_per_bar=2,
        quarters_per_beat=1.5,
        steps_per_beat=3,
        tempo_bpm=(60, 92),
        drums=(
            {"kick": "x.....", "snare": "...o..", "hat": "xxxxxx"},
            {"kick": "x....x", "snare": "...o..", "ride": "x.xx.x"},
        ),
        bass=("R..5..", "R....R", "R.5R.5"),
        keys=("aaaaaa", "x..x..", "x....."),
        guitar=("aaaaaa", "x.xx.x", "a..a.."),
        fill={"snare": "...xxx", "floor": ".....x"},
        programs={"bass": (33, 32), "keys": (0, 4, 89), "guitar": (25, 24)},
        progressions=(*_POP_PROGRESSIONS, *_MINOR_PROGRESSIONS),
    ),
)
