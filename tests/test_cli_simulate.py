import json

import numpy as np
import pandas as pd
import soundfile

from accbench.cli import main
from accbench.eventlog import read_events
from accbench.simulators import EVENT_COLUMNS


def test_simulate_writes_audio_events_and_summary(tmp_path, capsys):
    rng = np.random.default_rng(0)
    sr = 22050
    x = rng.standard_normal(sr).astype(np.float32) * 0.1
    ref = rng.standard_normal(sr).astype(np.float32) * 0.1
    soundfile.write(tmp_path / "in.wav", x, sr, subtype="FLOAT")
    soundfile.write(tmp_path / "ref.wav", ref, sr, subtype="FLOAT")
    code = main(
        [
            "simulate",
            "--model",
            "oracle-delayed",
            "--input",
            str(tmp_path / "in.wav"),
            "--reference",
            str(tmp_path / "ref.wav"),
            "--future-visibility-ms",
            "-200",
            "--chunk-frames",
            "4",
            "--latency",
            "fixed:30ms",
            "--out",
            str(tmp_path / "out.wav"),
            "--events",
            str(tmp_path / "events.csv"),
            "--summary-json",
            str(tmp_path / "summary.json"),
            "--plot",
            str(tmp_path / "timeline.png"),
        ]
    )
    assert code == 0
    out, out_sr = soundfile.read(tmp_path / "out.wav", dtype="float32")
    assert out_sr == sr and out.shape == (sr,)
    delay = (4 + 10) * 441
    np.testing.assert_array_equal(out[delay:], ref[:-delay])
    events = pd.read_csv(tmp_path / "events.csv", comment="#")
    restored = read_events(tmp_path / "events.csv")
    assert restored.attrs["hop"] == 441 and restored.attrs["future_visibility"] == -10
    printed = capsys.readouterr().out
    assert (
        main(
            [
                "score",
                "--input",
                str(tmp_path / "in.wav"),
                "--output",
                str(tmp_path / "out.wav"),
                "--events",
                str(tmp_path / "events.csv"),
                "--metrics",
                "timing",
                "--format",
                "json",
            ]
        )
        == 0
    )
    timing = json.loads(capsys.readouterr().out)["values"]
    assert timing["timing.feasible_future_visibility_frames"] == -2 and timing["timing.miss_rate"] == 0
    assert tuple(events.columns) == EVENT_COLUMNS
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["feasible_future_visibility"] == -2 and summary["feasible"]
    assert "feasible_future_visibility" in printed
    assert (tmp_path / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    assert oct((tmp_path / "out.wav").stat().st_mode & 0o777) != oct(0o600)


def _simulate_missing_input(tmp_path, *visibility: str) -> int:
    """``accbench simulate`` of the ``silence`` model on a file that does not exist."""
    argv = ["simulate", "--model", "silence", "--input", str(tmp_path / "missing.wav"), *visibility]
    return main([*argv, "--chunk-frames", "1"])


def test_simulate_reports_errors_without_traceback(tmp_path, capsys):
    assert _simulate_missing_input(tmp_path, "--future-visibility", "0") == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "missing.wav" in err and "Traceback" not in err
    assert _simulate_missing_input(tmp_path, "--future-visibility-ms", "-205") == 2


def test_negative_durations_need_no_equals_sign():
    from accbench.cli import _join_negative_values, build_parser

    argv = _join_negative_values(
        [
            "simulate",
            "--model",
            "silence",
            "--input",
            "x.wav",
            "--future-visibility",
            "-200ms",
            "--chunk-frames",
            "4",
            "--input-latency-ms",
            "5",
        ]
    )
    args = build_parser().parse_args(argv)
    assert args.future_visibility == "-200ms" and args.chunk_frames == "4"
    assert _join_negative_values(["run", "-q", "--out", "x"]) == ["run", "-q", "--out", "x"]
