"""The demo-band score generator: deterministic, on the grid, every style and meter, exact annotations."""

from __future__ import annotations

import numpy as np
import pytest

from accbench.datasets.band import N_SONGS, band_annotations, band_catalogue, generate_score_id, split_of
from accbench.datasets.band_render import score_midi
from accbench.datasets.band_score import PARTS, generate_score
from accbench.datasets.band_styles import STYLES
from accbench.datasets.soundfont import midi_bytes


def test_every_pattern_fits_its_bar():
    for style in STYLES:
        rows = [*style.bass, *style.keys, *style.guitar, *style.fill.values()]
        rows += [row for pattern in style.drums for row in pattern.values()]
        assert all(len(row) == style.steps_per_bar for row in rows), style.name
        assert style.tempo_bpm[0] >= 60 and style.tempo_bpm[1] <= 190


def test_scores_are_deterministic_and_cover_the_styles():
    first = generate_score(13)
    again = generate_score(13)
    assert midi_bytes(score_midi(first)) == midi_bytes(score_midi(again))
    assert first.song_id == generate_score_id(13)
    meters = {generate_score(i).meter for i in range(len(STYLES))}
    assert meters == {"4/4", "3/4", "6/8"}
    assert generate_score(3).parts["drums"].notes.tolist() != generate_score(11).parts["drums"].notes.tolist()


def test_split_is_fixed_and_balanced_over_styles():
    test = band_catalogue("test")
    assert len(test) == 24 and len(band_catalogue("valid")) == 24 and len(band_catalogue()) == N_SONGS
    assert sorted(i % len(STYLES) for i in test) == sorted(list(range(len(STYLES))) * 3)
    assert split_of(0) == "train" and split_of(72) == "test" and split_of(64) == "valid"


def test_annotations_follow_the_tempo_map():
    changed = [i for i in range(40) if generate_score(i).tempo_change != "none"]
    assert changed, "some songs have a gradual tempo change"
    score = generate_score(changed[0])
    annotations = band_annotations(score)
    lengths = np.diff(score.beat_times)
    assert np.allclose(lengths, score.tempo_us * score.quarters_per_beat / 1e6)
    assert lengths.max() / lengths.min() > 1.05  # the ramp is in the beat grid
    assert len(annotations.beats) == score.n_beats
    assert np.array_equal(annotations.downbeats, annotations.beats[:: score.beats_per_bar])
    # Chord segments tile the song; a pushed chord starts half a beat (a third in compound time) early.
    intervals = annotations.chord_intervals
    assert intervals[0, 0] == 0 and np.allclose(intervals[1:, 0], intervals[:-1, 1])
    assert intervals[-1, 1] == pytest.approx(score.duration_s)


def test_parts_onsets_are_on_the_grid_and_in_range():
    score = generate_score(2)  # funk: sixteenth-note syncopation
    assert tuple(score.parts) == PARTS
    for part in score.parts.values():
        notes = part.notes
        assert np.all(notes[:, 0] >= 0) and np.all(notes[:, 0] + notes[:, 1] <= score.n_beats + 1e-9)
        assert np.allclose(notes[:, 0] * 12, np.round(notes[:, 0] * 12))
        assert np.all((notes[:, 3] >= 1) & (notes[:, 3] <= 127))
    drums = score.parts["drums"].notes
    off_beat = np.mod(drums[:, 0], 1.0) != 0
    assert off_beat.mean() > 0.3  # syncopation and off-beat hats
    assert score.parts["drums"].is_drum and not score.parts["lead"].is_drum


def test_short_songs_and_bad_indices():
    short = generate_score(5, bars=3)
    assert short.n_beats == 3 * short.beats_per_bar and len(short.parts["lead"].notes) > 0
    with pytest.raises(ValueError, match="index"):
        generate_score(-1)


def test_pushed_chords_arrive_early_and_leave_the_downbeat_without_an_attack():
    score = generate_score(1)  # pop
    pushed = score.extra["pushed_bars"]
    assert pushed
    starts = {round(start, 6) for start, _, _ in score.chords}
    for bar in pushed:
        line = bar * score.beats_per_bar
        assert round(line - 0.5, 6) in starts  # the chord segment starts at the push
        for name in ("bass", "keys"):
            onsets = score.parts[name].notes[:, 0]
            assert np.any(np.isclose(onsets, line - 0.5)) and not np.any(np.isclose(onsets, line)), (name, bar)
    # Every section after the intro opens with a crash (or its push) and stop sections leave whole bars quiet.
    stop = next(start for start, _, name in score.sections if name == "break")
    drums = score.parts["drums"].notes
    in_stop = drums[(drums[:, 0] >= stop * 4) & (drums[:, 0] < (stop + 2) * 4)]
    assert set(np.mod(in_stop[:, 0], 4)) == {0.0}
