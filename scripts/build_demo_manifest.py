#!/usr/bin/env python
"""Build ``accbench/data/bach_chorales.json.gz``, the note-event manifest of the built-in demo set.

Parses every four-part (Soprano, Alto, Tenor, Bass) Bach chorale in music21's corpus and keeps, per chorale:
the note events of each voice (onset and duration in beats, MIDI pitch), the meter, the pickup, the beat and
downbeat positions, and one chord label per beat (mir_eval syntax). Runtime code reads only that manifest, so
users never need music21; this script is a developer tool (``pip install accbench[dev]``).

Usage::

    python scripts/build_demo_manifest.py [--out accbench/data/bach_chorales.json.gz] [--limit N] [--jobs 2]

Conventions of the manifest (format version 1):

- Positions are in *beats* from the start of the first (possibly incomplete) bar; a beat is the time
  signature's beat unit (a quarter note in 4/4 and 3/4, a half note in 3/2, a dotted quarter in 12/8).
- Ties are merged into one event; grace notes (no duration) are dropped; the other instrumental parts of a
  chorale (horns, oboes, continuo) are ignored. Repeats are not expanded and fermatas are not held: the score
  is played as written, at a constant tempo, so the annotations stay exact.
- Chord labels: the four voices are cut into verticalities (the sets of pitches sounding between two
  consecutive note boundaries, what music21's ``chordify`` computes) and each beat is named after one of
  its verticalities: the longest one (ties: the earliest) whose pitch classes form a tertian chord
  (maj, min, dim, aug, 7, maj7, min7, dim7, hdim7, minmaj7, maj6, min6), else a suspended chord (sus4, sus2),
  else a bare fifth (``5``) or unison (``1``). A missing fifth is implied, as in four-part harmony
  (C-E-Bb is ``C:7``). When several roots fit, the bass note wins, then the template order above. The bass
  is written as a degree when it is not the root (``C:maj/3``). A beat with no verticality that can be named
  is ``X``; a beat where nothing sounds is ``N``. Every label is checked with ``mir_eval.chord``.
- The train/valid/test split is fixed by the chorale id: ``sha256(id) mod 10`` gives 0-7 train, 8 valid,
  9 test.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

FORMAT_VERSION = 1
VOICES = ("soprano", "alto", "tenor", "bass")

# Templates: quality -> intervals above the root (semitones). Order matters for ties (see module docstring).
TERTIAN = (
    ("maj", (0, 4, 7)),
    ("min", (0, 3, 7)),
    ("dim", (0, 3, 6)),
    ("aug", (0, 4, 8)),
    ("7", (0, 4, 7, 10)),
    ("maj7", (0, 4, 7, 11)),
    ("min7", (0, 3, 7, 10)),
    ("dim7", (0, 3, 6, 9)),
    ("hdim7", (0, 3, 6, 10)),
    ("minmaj7", (0, 3, 7, 11)),
    ("maj6", (0, 4, 7, 9)),
    ("min6", (0, 3, 7, 9)),
)
# Qualities whose perfect fifth may be missing (implied).
IMPLIED_FIFTH = {"maj", "min", "7", "maj7", "min7", "minmaj7"}
SUSPENDED = (("sus4", (0, 5, 7)), ("sus2", (0, 2, 7)))
BARE = (("5", (0, 7)), ("1", (0,)))
DEGREES = {1: "b2", 2: "2", 3: "b3", 4: "3", 5: "4", 6: "b5", 7: "5", 8: "#5", 9: "6", 10: "b7", 11: "7"}


def natural_key(chorale_id: str) -> tuple:
    """Sort ``bwv1.6`` < ``bwv10.7`` < ``bwv101.7`` by their numbers, then by the rest of the name."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", chorale_id))


def split_of(chorale_id: str) -> str:
    bucket = int(hashlib.sha256(chorale_id.encode()).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("valid" if bucket == 8 else "test")


def _templates(pitch_classes: frozenset[int]):
    """Yield ``(rank, quality, root_pc)`` for every template that the pitch-class set matches exactly."""
    for root in sorted(pitch_classes):
        intervals = frozenset((pc - root) % 12 for pc in pitch_classes)
        for order, (quality, template) in enumerate(TERTIAN):
            full = frozenset(template)
            if intervals == full:
                yield (0, order, quality, root)
            elif quality in IMPLIED_FIFTH and intervals == full - {7} and len(intervals) >= 2:
                yield (1, order, quality, root)
        for order, (quality, template) in enumerate(SUSPENDED):
            if intervals == frozenset(template):
                yield (2, order, quality, root)
        for order, (quality, template) in enumerate(BARE):
            if intervals == frozenset(template):
                yield (3, order, quality, root)


def name_sonority(pitches: list[tuple[int, str]]) -> tuple[int, str] | None:
    """Name a verticality given as ``(midi, spelled name)`` pairs; return ``(rank, label)`` or None.

    ``rank`` 0-1 are tertian chords (complete, implied fifth), 2 suspended, 3 bare fifth or unison.
    """
    pitch_classes = frozenset(midi % 12 for midi, _ in pitches)
    bass_midi, _ = min(pitches)
    bass_pc = bass_midi % 12
    matches = list(_templates(pitch_classes))
    if not matches:
        return None
    # Best rank first; among equal ranks the bass as root wins, then template order.
    group = {0: 0, 1: 0, 2: 1, 3: 2}  # tertian (complete or implied fifth), suspended, bare
    rank, _, quality, root = min(matches, key=lambda m: (group[m[0]], m[3] != bass_pc, m[0], m[1]))
    root_name = next(name for midi, name in sorted(pitches) if midi % 12 == root)
    label = f"{root_name}:{quality}"
    if bass_pc != root:
        interval = (bass_pc - root) % 12
        degree = "bb7" if (quality == "dim7" and interval == 9) else DEGREES[interval]
        label += f"/{degree}"
    return group[rank], label


def beat_chords(events: list[tuple[Fraction, Fraction, int, str]], starts: list[Fraction], end: Fraction):
    """One label per segment ``[starts[i], starts[i+1])`` (the last ends at ``end``)."""
    boundaries = sorted({on for on, _, _, _ in events} | {on + dur for on, dur, _, _ in events} | set(starts))
    labels = []
    for index, start in enumerate(starts):
        stop = starts[index + 1] if index + 1 < len(starts) else end
        cuts = [start] + [b for b in boundaries if start < b < stop] + [stop]
        best = None
        any_sound = False
        for position, (left, right) in enumerate(itertools.pairwise(cuts)):
            sounding = [(midi, name) for on, dur, midi, name in events if on <= left and on + dur > left]
            if not sounding:
                continue
            any_sound = True
            named = name_sonority(sounding)
            if named is None:
                continue
            rank, label = named
            key = (rank, -(right - left), position)
            if best is None or key < best[0]:
                best = (key, label)
        labels.append(best[1] if best else ("X" if any_sound else "N"))
    return labels


def _number(value: Fraction) -> float | int:
    return int(value) if value.denominator == 1 else round(float(value), 6)


def extract(path: str) -> dict:
    """Extract one chorale; returns ``{"id": ..., "skip": reason}`` when it cannot be used."""
    import mir_eval
    from music21 import converter

    chorale_id = Path(path).stem
    try:
        score = converter.parse(path)
    except Exception as error:  # music21 raises many kinds of parse errors
        return {"id": chorale_id, "skip": f"parse error: {error}"}
    parts = {}
    for part in score.parts:
        name = (part.partName or part.id or "").strip().lower()
        if name in VOICES:
            if name in parts:
                return {"id": chorale_id, "skip": f"two parts named {name}"}
            parts[name] = part
    if set(parts) != set(VOICES):
        return {"id": chorale_id, "skip": f"not SATB: parts {[p.partName for p in score.parts]}"}
    signatures = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if len(signatures) != 1:
        return {"id": chorale_id, "skip": f"meter changes or missing: {sorted(signatures)}"}
    signature = score.recurse().getElementsByClass("TimeSignature").first()
    beat_ql = Fraction(signature.beatDuration.quarterLength)
    beats_per_bar = int(signature.beatCount)

    events: dict[str, list] = {}
    for voice in VOICES:
        voice_events = []
        for note in parts[voice].stripTies().flatten().notes:
            duration = Fraction(note.duration.quarterLength)
            if duration <= 0:
                continue  # grace note
            onset = Fraction(note.offset)
            for pitch in note.pitches:  # a Note has one pitch; a Chord in a voice part (divisi) several
                voice_events.append(
                    (onset / beat_ql, duration / beat_ql, int(pitch.midi), pitch.name.replace("-", "b"))
                )
        if not voice_events:
            return {"id": chorale_id, "skip": f"{voice} has no notes"}
        events[voice] = sorted(voice_events)
    end = max(on + dur for voice in VOICES for on, dur, _, _ in events[voice])

    measures = list(parts["soprano"].getElementsByClass("Measure"))
    bar = Fraction(beats_per_bar)
    first = measures[0]
    pickup = Fraction(first.duration.quarterLength) / beat_ql if first.paddingLeft > 0 else Fraction(0)
    if pickup >= bar:
        pickup = Fraction(0)
    # Beat grid: every beat that lines up with the first full bar, from the start to the end of the score.
    phase = pickup % 1
    beats = []
    position = phase
    while position < end:
        beats.append(position)
        position += 1
    # Downbeats: bar lines of the written measures that start a full bar on the beat grid.
    downbeats = []
    for measure in measures:
        offset = Fraction(measure.offset) / beat_ql
        if measure.paddingLeft > 0 or offset >= end or (offset - phase) % 1 != 0:
            continue
        downbeats.append(offset)
    if not downbeats or not beats:
        return {"id": chorale_id, "skip": "no beats or downbeats"}
    # Some chorales come from cantata movements with instrumental interludes; the voices then rest for bars.
    sounding = sorted((on, on + dur) for voice in VOICES for on, dur, _, _ in events[voice])
    covered = Fraction(0)
    for on, off in sounding:
        if on - covered >= bar:
            return {
                "id": chorale_id,
                "skip": f"all voices rest for {float(on - covered):g} beats at beat {covered}",
            }
        covered = max(covered, off)
    starts = ([Fraction(0)] if beats[0] > 0 else []) + beats
    all_events = [event for voice in VOICES for event in events[voice]]
    labels = beat_chords(all_events, starts, end)
    for label in labels:
        mir_eval.chord.validate_chord_label(label)

    tempo_marks = score.recurse().getElementsByClass("MetronomeMark")
    score_bpm = None
    if tempo_marks:
        mark = tempo_marks.first()
        quarter_bpm = mark.getQuarterBPM()  # also reads "playback only" marks (numberSounding)
        if quarter_bpm:
            score_bpm = round(float(quarter_bpm) / float(beat_ql), 3)  # beats of this meter's beat unit
    title = score.metadata.title if score.metadata is not None and score.metadata.title else None
    return {
        "id": chorale_id,
        "title": title,
        "source": f"music21 corpus {Path(path).parent.name}/{Path(path).name}",
        "split": split_of(chorale_id),
        "meter": signature.ratioString,
        "beats_per_bar": beats_per_bar,
        "beat_quarter_length": _number(beat_ql),
        "pickup_beats": _number(pickup),
        "end_beats": _number(end),
        "score_bpm": score_bpm,
        "beats": [_number(b) for b in beats],
        "downbeats": [_number(d) for d in downbeats],
        "chords": [[_number(s), label] for s, label in zip(starts, labels, strict=True)],
        "parts": {voice: [[_number(on), _number(dur), midi] for on, dur, midi, _ in events[voice]] for voice in VOICES},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "accbench" / "data" / "bach_chorales.json.gz")
    parser.add_argument("--limit", type=int, default=None, help="only the first N scores (for a quick look)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)

    import music21
    from music21 import corpus

    paths = sorted(
        (str(p) for p in corpus.getComposer("bach") if p.suffix in (".mxl", ".xml")),
        key=lambda p: natural_key(Path(p).stem),
    )
    if args.limit:
        paths = paths[: args.limit]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(extract, paths, chunksize=4))
    chorales = [r for r in results if "skip" not in r]
    skipped = [r for r in results if "skip" in r]
    ids = [c["id"] for c in chorales]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate chorale ids")
    manifest = {
        "format": "accbench-note-events",
        "format_version": FORMAT_VERSION,
        "source": f"music21 {music21.__version__} corpus, composer bach, SATB scores",
        "generator": "scripts/build_demo_manifest.py",
        "time_unit": "beats of the time signature's beat unit; see beat_quarter_length",
        "chord_labels": "per-beat verticality naming, mir_eval syntax; see scripts/build_demo_manifest.py",
        "split_rule": "sha256(id) mod 10: 0-7 train, 8 valid, 9 test",
        "skipped": [[r["id"], r["skip"]] for r in skipped],
        "chorales": chorales,
    }
    payload = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0 keeps the gzip bytes identical across rebuilds of the same content.
    data = gzip.compress(payload, compresslevel=9, mtime=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.replace(args.out)
    print(
        f"{len(chorales)} chorales, {len(skipped)} skipped, {len(data) / 1e6:.2f} MB, "
        f"{time.perf_counter() - started:.0f} s -> {args.out}",
        file=sys.stderr,
    )
    for chorale_id, reason in manifest["skipped"]:
        print(f"  skipped {chorale_id}: {reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
