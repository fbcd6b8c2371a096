"""``accbench score`` through its own argparse parser: table, JSON, annotations folder, resampling, errors."""

import argparse
import json

import numpy as np
import pytest
from test_metrics_signals import SR, chord_song

from accbench.audio import resample, write_audio_atomic
from accbench.commands import score as score_command
from accbench.errors import DataError


def parse(argv):
    parser = argparse.ArgumentParser(prog="accbench")
    score_command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    reference, melody, annotations = chord_song()
    write_audio_atomic(root / "in.wav", melody, SR)
    write_audio_atomic(root / "ref.wav", reference, SR)
    # The output at 44.1 kHz stereo: resampled to the input's rate and down-mixed for analysis.
    stereo = resample(np.stack([reference, reference]), SR, 44100)
    write_audio_atomic(root / "out.wav", stereo, 44100)
    folder = root / "ann"
    folder.mkdir()
    (folder / "beats.txt").write_text("".join(f"{t:.6f}\n" for t in annotations.beats))
    (folder / "chords.lab").write_text(
        "".join(
            f"{s:.6f} {e:.6f} {label}\n"
            for (s, e), label in zip(annotations.chord_intervals, annotations.chord_labels, strict=True)
        )
    )
    return root


def test_json_with_annotations(files, capsys):
    args = parse(
        [
            "score",
            "--input",
            str(files / "in.wav"),
            "--output",
            str(files / "out.wav"),
            "--reference",
            str(files / "ref.wav"),
            "--annotations",
            str(files / "ann"),
            "--format",
            "json",
        ]
    )
    assert args.handler(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ref_source"]["beats"] == "annotation" and document["ref_source"]["chords"] == "annotation"
    assert document["values"]["beat.f_measure"] > 0.9
    assert document["values"]["harmony.majmin"] > 0.9
    # The default: every group that runs offline without extra weights; no timing without --events.
    groups = {name.split(".", 1)[0] for name in document["values"]}
    assert groups == {"beat", "harmony", "reaction"}


def test_default_metrics_add_timing_with_an_event_log(files, tmp_path, capsys):
    import soundfile

    import accbench
    from accbench.eventlog import write_events

    melody, sr = soundfile.read(files / "in.wav", dtype="float32")
    result = accbench.simulate("silence", melody[np.newaxis, :], sample_rate=sr, future_visibility=0, chunk_frames=4)
    write_events(tmp_path / "events.csv", result.events)
    argv = ["score", "--input", str(files / "in.wav"), "--output", str(files / "out.wav"), "--format", "json"]
    args = parse([*argv, "--events", str(tmp_path / "events.csv")])
    assert args.handler(args) == 0
    values = json.loads(capsys.readouterr().out)["values"]
    assert {name.split(".", 1)[0] for name in values} == {"beat", "harmony", "timing", "reaction"}
    assert values["timing.miss_rate"] == 0.0


def test_default_metrics_are_the_library_defaults_less_timing_without_events(capsys):
    from accbench.metrics.scoring import GROUPS

    assert score_command._metrics(None, events=True) == list(GROUPS)
    assert score_command._metrics(None, events=False) == [group for group in GROUPS if group != "timing"]
    assert "embedding" not in GROUPS
    assert score_command._metrics(" beat , harmony.majmin,", events=False) == ["beat", "harmony.majmin"]
    with pytest.raises(SystemExit):
        parse(["score", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "beat, harmony, reaction, and timing when --events is given; embedding only when named" in help_text


def test_table_without_reference(files, capsys):
    args = parse(["score", "--input", str(files / "in.wav"), "--output", str(files / "out.wav"), "--metrics", "beat"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "beat.f_measure" in out and "no reference" in out and "higher is better" in out
    assert "beat.input_f_measure" in out


def test_missing_files_are_data_errors(files, tmp_path):
    args = parse(["score", "--input", str(files / "in.wav"), "--output", str(tmp_path / "nope.wav")])
    with pytest.raises(DataError, match="not found"):
        args.handler(args)
    args = parse(
        ["score", "--input", str(files / "in.wav"), "--output", str(files / "out.wav"), "--annotations", str(tmp_path)]
    )
    with pytest.raises(DataError, match=r"beats\.txt"):
        args.handler(args)


def test_score_cli_embedding_group_says_which_embedder(tmp_path, capsys):
    import numpy as np
    import soundfile

    from accbench.cli import main

    rng = np.random.default_rng(3)
    x = (rng.standard_normal(22050 * 3) * 0.1).astype(np.float32)
    r = (rng.standard_normal(22050 * 3) * 0.1).astype(np.float32)
    for name, audio in (("in.wav", x), ("ref.wav", r)):
        soundfile.write(tmp_path / name, audio, 22050, subtype="FLOAT")
    code = main(
        [
            "score",
            "--input",
            str(tmp_path / "in.wav"),
            "--output",
            str(tmp_path / "ref.wav"),
            "--reference",
            str(tmp_path / "ref.wav"),
            "--metrics",
            "embedding",
            "--embedder",
            "spectral",
            "--cache",
            str(tmp_path / "cache"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "embedding.spectral_cosine_mix" in out and "not comparable to CLAP" in out
