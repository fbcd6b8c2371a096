"""Songs, manifests, folder layouts, public stem-dataset layouts, and every kind of bad input."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import soundfile

from accbench.annotations import Annotations
from accbench.audio import rms_dbfs
from accbench.commands import data as data_command
from accbench.datasets import Dataset, LoadedSong, Song, load_dataset
from accbench.errors import DataError

SR = 8000


def tone(seconds: float = 1.0, hz: float = 440.0, channels: int = 1, sample_rate: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    mono = 0.3 * np.sin(2 * np.pi * hz * t)
    return np.tile(mono, (channels, 1)).astype(np.float32)


def write(path, audio, sample_rate=SR, subtype=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.asarray(audio).T, sample_rate, subtype=subtype)
    return path


def make_song_folder(root, name, *, seconds=1.0, ref_seconds=None, beats="0.5\n1.0\n", chords=None):
    folder = root / name
    write(folder / "input.wav", tone(seconds))
    write(folder / "reference.flac", tone(seconds if ref_seconds is None else ref_seconds, 220.0))
    if beats is not None:
        (folder / "beats.txt").write_text(beats)
    if chords is not None:
        (folder / "chords.lab").write_text(chords)
    return folder


# ---------------------------------------------------------------- Song basics


def test_song_from_arrays_loads_and_resamples():
    song = Song("a", tone(1.0), tone(1.0, 220.0, channels=2), sample_rate=SR)
    loaded = song.load()
    assert isinstance(loaded, LoadedSong)
    assert loaded.input.shape == (1, SR) and loaded.reference.shape == (2, SR)
    assert loaded.input.dtype == np.float32 and loaded.sample_rate == SR and loaded.repairs == ()
    resampled = song.load(16000)
    assert resampled.sample_rate == 16000 and resampled.input.shape == (1, 16000)
    assert song.load(channels=1).reference.shape == (1, SR)


def test_array_source_needs_a_sample_rate():
    with pytest.raises(DataError, match="sample_rate is required") as info:
        Song("s1", tone())
    assert info.value.song == "s1"


@pytest.mark.parametrize("extension", ["wav", "flac", "ogg"])
def test_file_formats(tmp_path, extension):
    path = write(tmp_path / f"x.{extension}", tone(0.5, channels=2))
    loaded = Song("f", path).load()
    assert loaded.input.shape == (2, SR // 2)
    if extension != "ogg":  # lossy
        np.testing.assert_allclose(loaded.input, tone(0.5, channels=2), atol=1e-4)


def test_stems_are_summed_with_channels_matched_and_padding_recorded(tmp_path):
    a = write(tmp_path / "a.wav", tone(1.0, 300.0, channels=1))
    b = write(tmp_path / "b.wav", tone(0.5, 500.0, channels=2))
    loaded = Song("sum", a, [a, b]).load()
    assert loaded.reference.shape == (2, SR)
    expected = tone(1.0, 300.0, channels=2)
    expected[:, : SR // 2] += tone(0.5, 500.0, channels=2)
    np.testing.assert_allclose(loaded.reference, expected, atol=2e-4)  # 16-bit files
    assert loaded.repairs == (f"reference stem b.wav padded by {SR // 2} samples",)


def test_crop_shifts_annotations_and_normalize(tmp_path):
    annotations = Annotations(
        beats=[0.25, 0.5, 0.75], chord_intervals=[[0.0, 0.6], [0.6, 1.0]], chord_labels=["C:maj", "G:7"]
    )
    song = Song("c", tone(1.0), tone(1.0, 220.0), annotations=annotations, sample_rate=SR)
    loaded = song.load(start_s=0.4, duration_s=0.4, normalize_db=-18.0)
    assert loaded.input.shape == (1, round(0.4 * SR))
    np.testing.assert_allclose(loaded.annotations.beats, [0.1, 0.35])
    np.testing.assert_allclose(loaded.annotations.chord_intervals, [[0.0, 0.2], [0.2, 0.4]])
    assert loaded.annotations.chord_labels == ("C:maj", "G:7")
    assert rms_dbfs(loaded.input) == pytest.approx(-18.0, abs=1e-4)
    assert rms_dbfs(loaded.reference) == pytest.approx(-18.0, abs=1e-4)
    past_end = song.load(start_s=0.8, duration_s=1.0)
    assert past_end.input.shape[1] == round(0.2 * SR) and "excerpt ends" in past_end.repairs[0]
    with pytest.raises(DataError, match="outside the song"):
        song.load(start_s=2.0)


def test_content_hash_is_content_only_and_stable(tmp_path):
    audio = tone(0.25)
    first = write(tmp_path / "one" / "in.wav", audio, subtype="FLOAT")
    second = write(tmp_path / "two" / "other.wav", audio, subtype="FLOAT")
    from_file = Song("x", first).content_hash()
    assert Song("y", second, split="test").content_hash() == from_file
    assert Song("z", audio, sample_rate=SR).content_hash() == from_file
    assert Song("x", first, annotations=Annotations(beats=[0.1])).content_hash() != from_file
    assert Song("x", first, first).content_hash() != from_file
    # A fixed value: float32 little-endian bytes and SHA-256 are the same on every machine.
    ramp = Song("r", np.linspace(-1, 1, 64, dtype=np.float32), sample_rate=100)
    assert ramp.content_hash() == GOLDEN_RAMP_HASH


# Recorded once; a change means every cached analysis is invalidated: bump _HASH_VERSION on purpose.
GOLDEN_RAMP_HASH = "445297f729ebbedb35d9d0f88003a3548152504bc488e064ec96c2f1a2b1fb9a"


# ---------------------------------------------------------------- bad input, one test each


def test_missing_file_names_song_and_file(tmp_path):
    with pytest.raises(DataError) as info:
        Song("gone", tmp_path / "nope.wav").load()
    assert info.value.song == "gone" and info.value.path.endswith("nope.wav")
    assert "gone" in str(info.value) and "nope.wav" in str(info.value)


def test_corrupt_audio(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" + bytes(range(200)))
    with pytest.raises(DataError, match="cannot read audio") as info:
        Song("corrupt", path).load()
    assert info.value.path == str(path) and info.value.song == "corrupt"


def test_zero_length_audio(tmp_path):
    path = write(tmp_path / "empty.wav", np.zeros((1, 0), dtype=np.float32))
    with pytest.raises(DataError, match="no samples") as info:
        Song("empty", path).load()
    assert info.value.song == "empty" and info.value.path == str(path)
    with pytest.raises(DataError, match="no samples"):
        Song("empty-array", np.zeros(0, dtype=np.float32), sample_rate=SR)


def test_nan_samples(tmp_path):
    audio = tone(0.5)
    audio[0, 100] = np.nan
    path = write(tmp_path / "nan.wav", audio, subtype="FLOAT")
    with pytest.raises(DataError, match="NaN") as info:
        Song("nan", path).load()
    assert info.value.song == "nan" and info.value.path == str(path)
    with pytest.raises(DataError, match="NaN"):
        Song("nan-array", audio, sample_rate=SR)


def test_length_mismatch_policies(tmp_path):
    inp = write(tmp_path / "in.wav", tone(1.0))
    ref = write(tmp_path / "ref.wav", tone(0.9985))  # 12 samples shorter at 8 kHz
    song = Song("len", inp, ref)
    with pytest.raises(DataError, match="length_policy") as info:
        song.load()
    assert info.value.song == "len" and info.value.path == str(ref)
    padded = song.load(length_policy="pad")
    assert padded.reference.shape == padded.input.shape == (1, SR)
    assert padded.repairs == ("reference padded by 12 samples",)
    assert np.all(padded.reference[:, -12:] == 0)
    trimmed = song.load(length_policy="trim")
    assert trimmed.input.shape == (1, SR - 12) and trimmed.repairs == ("input trimmed by 12 samples",)
    with pytest.raises(DataError, match="length_policy must be"):
        song.load(length_policy="stretch")


def test_resampling_rounding_is_repaired_and_recorded(tmp_path):
    # 4411 samples at 44.1 kHz and 4800 at 48 kHz (0.1 s and 0.1 s + 1 sample) become 2206 and 2205
    # samples at 22.05 kHz: soxr rounds each length; the input's length wins and the fix is recorded.
    inp = write(tmp_path / "in.wav", tone(4411 / 44100, sample_rate=44100), sample_rate=44100)
    ref = write(tmp_path / "ref.wav", tone(0.1, sample_rate=48000), sample_rate=48000)
    loaded = Song("round", inp, ref).load(22050)
    assert loaded.input.shape == loaded.reference.shape == (1, 2206)
    assert loaded.repairs == ("reference padded by 1 sample (resampling rounding)",)
    # The same one-sample difference between files at one rate is a real mismatch.
    same_rate = write(tmp_path / "ref44.wav", tone(0.1, sample_rate=44100), sample_rate=44100)
    with pytest.raises(DataError, match="length_policy"):
        Song("round", inp, same_rate).load(22050)


def test_wrong_sample_rate(tmp_path):
    path = write(tmp_path / "at16k.wav", tone(0.5, sample_rate=16000), sample_rate=16000)
    song = Song("rate", path, sample_rate=44100)
    with pytest.raises(DataError, match="16000 Hz, expected 44100 Hz") as info:
        song.load()
    assert info.value.song == "rate" and info.value.path == str(path)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"song_id,input,sample_rate\nrate,{path},44100\n")
    with pytest.raises(DataError, match="expected 44100 Hz") as info:
        load_dataset(f"manifest:{manifest}")
    assert info.value.song == "rate" and info.value.path == str(path)
    with pytest.raises(DataError, match="sample_rate must be a positive integer"):
        Song("x", path).load(sample_rate=-5)


def test_malformed_manifest_rows(tmp_path):
    good = write(tmp_path / "good.wav", tone(0.5))
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        f"song_id,input,reference\nok,{good},\nextra,{good},,surplus\n,{good},\nnoinput,,\nrate,{good},x\n"
    )
    with pytest.raises(DataError, match="row 3: more cells") as info:
        load_dataset(f"manifest:{manifest}")
    assert info.value.path == str(manifest)
    dataset = load_dataset(f"manifest:{manifest}", on_error="skip")
    assert dataset.song_ids == ["ok"]
    reasons = dict(dataset.skipped)
    assert "more cells" in reasons["<row 3>"]
    assert "missing song_id" in reasons["<row 4>"]
    assert "missing input" in reasons["noinput"] and str(manifest) in reasons["noinput"]
    assert "file not found" in reasons["rate"]  # 'x' is a relative reference path that does not exist

    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(
        json.dumps({"song_id": "ok", "input": [str(good), str(good)], "split": "test"})
        + "\n{not json\n"
        + json.dumps(["a", "list"])
        + "\n"
        + json.dumps({"song_id": "badrate", "input": str(good), "sample_rate": "fast"})
        + "\n"
    )
    with pytest.raises(DataError, match="line 2: not valid JSON"):
        load_dataset(f"manifest:{jsonl}")
    dataset = load_dataset(f"manifest:{jsonl}", on_error="skip")
    assert dataset.song_ids == ["ok"] and dataset[0].split == "test" and len(dataset[0].files) == 2
    assert [song_id for song_id, _ in dataset.skipped] == ["<line 2>", "<line 3>", "badrate"]
    with pytest.raises(DataError, match="needs a header"):
        (tmp_path / "nohead.csv").write_text("a,b\n")
        load_dataset(f"manifest:{tmp_path / 'nohead.csv'}")


def test_invalid_chord_label_names_song_file_and_line(tmp_path):
    make_song_folder(tmp_path, "s1", chords="0.0 0.5 C:maj\n0.5 1.0 H:minor\n")
    with pytest.raises(DataError, match=r"line 2: invalid chord label 'H:minor'") as info:
        load_dataset(f"folder:{tmp_path}")
    assert info.value.song == "s1" and info.value.path.endswith("chords.lab")


def test_unsorted_beats_name_song_and_file(tmp_path):
    make_song_folder(tmp_path, "s1", beats="0.5\n1.0\n0.75\n")
    with pytest.raises(DataError, match="not strictly increasing") as info:
        load_dataset(f"folder:{tmp_path}")
    assert info.value.song == "s1" and info.value.path.endswith("beats.txt")


def test_overlapping_chords_name_the_lab_file(tmp_path):
    make_song_folder(tmp_path, "s1", chords="0.0 0.6 C:maj\n0.5 1.0 G:maj\n")
    with pytest.raises(DataError, match="overlap") as info:
        load_dataset(f"folder:{tmp_path}")
    assert info.value.path.endswith("chords.lab")


def test_skip_keeps_good_songs_and_reports_bad_ones(tmp_path):
    make_song_folder(tmp_path, "a-good", chords="0.0 1.0 C:maj\n")
    make_song_folder(tmp_path, "b-badchord", chords="0.0 1.0 Q:maj\n")
    make_song_folder(tmp_path, "c-unsorted", beats="1.0\n0.5\n")
    make_song_folder(tmp_path, "d-good", beats=None)
    corrupt = make_song_folder(tmp_path, "e-corrupt")
    (corrupt / "input.wav").write_bytes(b"not audio at all")
    (tmp_path / "f-noinput").mkdir()
    make_song_folder(tmp_path, "g-short", ref_seconds=0.5)
    nan = make_song_folder(tmp_path, "h-nan")
    audio = tone(1.0)
    audio[0, 5] = np.inf
    write(nan / "input.wav", audio, subtype="FLOAT")

    dataset = load_dataset(f"folder:{tmp_path}", on_error="skip")
    assert isinstance(dataset, Dataset)
    # Header checks catch the first four; length and NaN need the samples.
    assert dataset.song_ids == ["a-good", "d-good", "g-short", "h-nan"]
    skipped = dict(dataset.skipped)
    assert set(skipped) == {"b-badchord", "c-unsorted", "e-corrupt", "f-noinput"}
    assert "Q:maj" in skipped["b-badchord"] and "chords.lab" in skipped["b-badchord"]
    assert "input.wav" in skipped["e-corrupt"]

    loaded = list(dataset.iter_loaded())
    assert [song.song_id for song in loaded] == ["a-good", "d-good"]
    assert {"g-short", "h-nan"} <= set(dict(dataset.skipped))
    padded = list(load_dataset(f"folder:{tmp_path}", on_error="skip").iter_loaded(length_policy="pad"))
    assert "g-short" in [song.song_id for song in padded]

    full = load_dataset(f"folder:{tmp_path}", on_error="skip", check="full")
    assert full.song_ids == ["a-good", "d-good"]
    assert "NaN" in dict(full.skipped)["h-nan"]
    with pytest.raises(DataError):
        load_dataset(f"folder:{tmp_path}")


# ---------------------------------------------------------------- layouts


def test_folder_layout_with_annotations_and_split(tmp_path):
    folder = make_song_folder(tmp_path, "song", beats="0.5 1\n0.75 2\n1.0 1\n", chords="0 1 A:min\n")
    (folder / "split.txt").write_text("valid\n")
    dataset = load_dataset(f"folder:{tmp_path}")
    song = dataset.get("song")
    assert song.split == "valid"
    np.testing.assert_allclose(song.annotations.downbeats, [0.5, 1.0])
    assert song.annotations.chord_labels == ("A:min",)
    assert load_dataset(f"folder:{tmp_path}", split="test").song_ids == []


def test_manifest_relative_paths_and_metadata(tmp_path):
    make_song_folder(tmp_path, "s", chords="0 1 C:maj\n")
    (tmp_path / "manifest.csv").write_text(
        "song_id,input,reference,beats,chords,split,artist\n"
        "s,s/input.wav,s/reference.flac;s/input.wav,s/beats.txt,s/chords.lab,train,Anon\n"
    )
    dataset = load_dataset(f"manifest:{tmp_path / 'manifest.csv'}", check="full")
    song = dataset[0]
    assert song.metadata == {"artist": "Anon"} and song.split == "train"
    assert len(song.files) == 3
    np.testing.assert_allclose(song.annotations.beats, [0.5, 1.0])


def write_slakh_track(root, split, track, stems):
    folder = root / split / track
    lines = ["audio_dir: stems", "stems:"]
    for stem_id, (inst_class, is_drum, rendered) in stems.items():
        lines += [
            f"  {stem_id}:",
            f"    inst_class: {inst_class}",
            f"    is_drum: {str(is_drum).lower()}",
            f"    audio_rendered: {str(rendered).lower()}",
            "    program_num: 0",
        ]
        if rendered:
            write(folder / "stems" / f"{stem_id}.flac", tone(0.5, 100.0 + 50 * len(lines)))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metadata.yaml").write_text("\n".join(lines) + "\n")
    write(folder / "mix.flac", tone(0.5))


def test_slakh_layout(tmp_path):
    root = tmp_path / "slakh2100_flac_redux"
    write_slakh_track(
        root,
        "train",
        "Track00001",
        {"S00": ("Piano", False, True), "S01": ("Bass", False, True), "S02": ("Drums", True, True)},
    )
    write_slakh_track(
        root, "validation", "Track01501", {"S00": ("Guitar", False, True), "S01": ("Piano", False, False)}
    )
    write_slakh_track(
        root,
        "test",
        "Track01876",
        {"S00": ("Guitar", False, True), "S01": ("Piano", False, True), "S02": ("Strings", False, True)},
    )
    dataset = load_dataset(f"slakh:{root}")
    assert dataset.song_ids == ["Track00001", "Track01876"]
    track = dataset.get("Track00001")
    assert track.split == "train"
    assert [p.name for p in track.files] == ["S00.flac", "S01.flac", "S02.flac"]
    assert dict(dataset.skipped) == {"Track01501": "no rendered stem of class Piano"}
    no_drums = load_dataset(f"slakh:{root}", include_drums=False).get("Track00001")
    assert [p.name for p in no_drums.files] == ["S00.flac", "S01.flac"]
    guitar = load_dataset(f"slakh:{root}", input_classes=["guitar"])
    assert guitar.get("Track01501").split == "valid" and guitar.get("Track01501").reference is None
    loaded = guitar.get("Track01876").load()
    assert loaded.input.shape == loaded.reference.shape == (1, SR // 2)
    assert load_dataset(f"slakh:{root / 'test'}").song_ids == ["Track01876"]
    (root / "train" / "Track00001" / "metadata.yaml").write_text("stems: [unclosed\n")
    with pytest.raises(DataError, match="malformed metadata.yaml") as info:
        load_dataset(f"slakh:{root}")
    assert info.value.song == "Track00001"


def test_musdb_layout(tmp_path):
    root = tmp_path / "musdb18hq"
    for split, name in (("train", "A Artist - Song"), ("test", "B Band - Tune")):
        for index, stem in enumerate(("mixture", "vocals", "drums", "bass", "other")):
            write(root / split / name / f"{stem}.wav", tone(0.5, 200.0 + 100 * index, channels=2))
    dataset = load_dataset(f"musdb:{root}")
    assert dataset.song_ids == ["A Artist - Song", "B Band - Tune"]
    song = dataset.get("B Band - Tune")
    assert song.split == "test"
    assert [p.name for p in song.files] == ["vocals.wav", "drums.wav", "bass.wav", "other.wav"]
    loaded = song.load()
    expected = sum(tone(0.5, 200.0 + 100 * i, channels=2) for i in (2, 3, 4))
    np.testing.assert_allclose(loaded.reference, expected, atol=1e-3)
    bass = load_dataset(f"musdb:{root}", input_stems=["bass"], reference_stems=["drums", "other"], split="train")
    assert [p.name for p in bass[0].files] == ["bass.wav", "drums.wav", "other.wav"]
    (root / "train" / "A Artist - Song" / "vocals.wav").unlink()
    dataset = load_dataset(f"musdb:{root}", on_error="skip")
    assert dataset.song_ids == ["B Band - Tune"] and "vocals.wav" in dict(dataset.skipped)["A Artist - Song"]
    with pytest.raises(DataError, match="both input and reference"):
        load_dataset(f"musdb:{root}", input_stems=["bass"], reference_stems=["bass"])


def test_moisesdb_layout(tmp_path):
    root = tmp_path / "moisesdb" / "moisesdb_v0.1"
    stems = {"vocals": ["v1", "v2"], "bass": ["b1"], "guitar": ["g1"]}
    track = root / "0a1b-uuid"
    data = {"song": "Tune", "artist": "Band", "genre": "rock", "stems": []}
    for name, ids in stems.items():
        data["stems"].append(
            {
                "stemName": name,
                "id": name,
                "tracks": [{"id": i, "trackType": name, "extension": "wav"} for i in ids],
            }
        )
        for i in ids:
            write(track / name / f"{i}.wav", tone(0.5, 300.0, channels=2))
    track.mkdir(parents=True, exist_ok=True)
    (track / "data.json").write_text(json.dumps(data))
    instrumental = root / "1c2d-uuid"
    instrumental.mkdir()
    (instrumental / "data.json").write_text(json.dumps({"stems": [data["stems"][1]]}))
    (root / "2e3f-uuid").mkdir()
    (root / "2e3f-uuid" / "data.json").write_text("{broken")

    dataset = load_dataset(f"moisesdb:{root.parent}", on_error="skip")
    assert dataset.song_ids == ["0a1b-uuid"]
    song = dataset[0]
    assert [p.name for p in song.files] == ["v1.wav", "v2.wav", "b1.wav", "g1.wav"]
    assert song.metadata["title"] == "Band - Tune"
    skipped = dict(dataset.skipped)
    assert skipped["1c2d-uuid"] == "no vocals stem" and "malformed data.json" in skipped["2e3f-uuid"]
    loaded = song.load()
    np.testing.assert_allclose(loaded.input, 2 * tone(0.5, 300.0, channels=2), atol=1e-4)
    guitar = load_dataset(f"moisesdb:{root}", input_stems=["guitar"], reference_stems=["bass"], on_error="skip")
    assert [p.name for p in guitar.get("0a1b-uuid").files] == ["g1.wav", "b1.wav"]


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("mp3s:/music", {}, "unknown dataset spec"),
        ("folder:", {}, "has no path"),
        ("folder:{tmp}/missing", {}, "not found"),
        ("slakh:{tmp}", {}, "Slakh"),
        ("folder:{tmp}", {"on_error": "ignore"}, "on_error"),
    ],
)
def test_bad_specs(tmp_path, spec, options, message):
    with pytest.raises(DataError, match=message):
        load_dataset(spec.format(tmp=tmp_path), **options)


def test_cli_check_lists_found_and_skipped(tmp_path, capsys):
    make_song_folder(tmp_path, "good", chords="0 1 C:maj\n")
    make_song_folder(tmp_path, "bad", beats="1\n0\n")
    parser = argparse.ArgumentParser()
    data_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["data", "check", f"folder:{tmp_path}"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "ok      good" in out and "annotations=beats+chords" in out
    assert "skipped bad:" in out and "beats.txt" in out


def test_loaded_arrays_are_writable_copies():
    source = tone(0.25)
    song = Song("w", source, sample_rate=SR)
    loaded = song.load()
    loaded.input[:] = 0.0
    np.testing.assert_array_equal(song.load().input, source)
    assert not song.input.flags.writeable


def test_empty_file_is_named_empty_by_the_header_check_and_by_load(tmp_path):
    make_song_folder(tmp_path, "s1")
    (tmp_path / "s1" / "reference.flac").write_bytes(b"")
    with pytest.raises(DataError) as info:
        load_dataset(f"folder:{tmp_path}")
    empty = str(tmp_path / "s1" / "reference.flac")
    assert str(info.value) == f"song 's1', file {empty!r}: the file is empty (0 bytes), not audio"
    dataset = load_dataset(f"folder:{tmp_path}", on_error="skip")
    assert len(dataset) == 0 and "the file is empty (0 bytes)" in dataset.skipped[0][1]
    unchecked = load_dataset(f"folder:{tmp_path}", check="none")
    with pytest.raises(DataError, match=r"reference\.flac'?: the file is empty \(0 bytes\), not audio$"):
        unchecked[0].load()


def test_garbage_file_is_a_one_line_error_from_the_header_check(tmp_path):
    make_song_folder(tmp_path, "s1")
    path = tmp_path / "s1" / "input.wav"
    path.write_bytes(b"not audio at all")
    with pytest.raises(DataError) as info:
        load_dataset(f"folder:{tmp_path}")
    message = str(info.value)
    assert message == f"song 's1', file {str(path)!r}: cannot read audio: Format not recognised (16 bytes)"
