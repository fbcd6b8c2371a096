"""``accbench listen``: building a study from a run, answers, the server's rules, the analysis and the CLI."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from test_listen_support import tone_run

from accbench.cli import main
from accbench.errors import ConfigError, DataError
from accbench.listen.analyze import AnalysisOptions, analyze_study
from accbench.listen.answers import AnswerError, check_answer, load_study, read_answers
from accbench.listen.build import BuildOptions, build_study
from accbench.listen.report import render_markdown, write_analysis
from accbench.listen.serve import make_server
from accbench.listen.simulate import simulate_answers, write_simulated

FAST = BuildOptions(excerpt_seconds=1.0, audio_format="flac", sample_rate=16000, checks=2)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("listen")
    build_study(tone_run(base / "run"), base / "study", FAST)
    return base / "study"


def test_build_writes_a_balanced_study_whose_page_hides_the_systems(study: Path) -> None:
    design = load_study(study)
    assert [s["label"] for s in design["systems"]] == ["follower", "mymodel", "silence"]
    trials = design["trials"]
    assert len(trials) == 3 * 2 + 2 and sum(1 for t in trials if t["check"]) == 2
    page = (study / "index.html").read_text()
    assert "follower" not in page and "mymodel" not in page and "check:" not in page
    assert "http://" not in page and "https://" not in page  # no external request
    clips = {t[side] for t in trials for side in ("clip_a", "clip_b")}
    assert all((study / clip).is_file() and clip in page for clip in clips)
    assert not any("follower" in clip or "silence" in clip for clip in clips)
    assert design["songs"] == [
        {"song": "song-a", "start_s": 1.0, "seconds": 1.0},  # the middle of a 3 s song
        {"song": "song-b", "start_s": 1.0, "seconds": 1.0},
    ]
    # The metric values are the run's (mean over seeds) per system and song.
    assert set(design["metrics"]) >= {"beat.f_measure", "timing.miss_rate"}
    assert design["metrics"]["timing.miss_rate"]["direction"] == "lower"


def test_clips_are_loudness_matched_mixes_that_never_clip(study: Path) -> None:
    design = load_study(study)
    meter = pyloudnorm.Meter(design["sample_rate"])
    levels = {}
    for name, clip in design["clips"].items():
        audio, rate = soundfile.read(study / "audio" / name)
        assert rate == 16000 and audio.ndim == 1 and np.max(np.abs(audio)) <= 0.981
        levels[name] = meter.integrated_loudness(audio)
        assert clip["loudness_lufs"] is not None  # every clip holds at least the input
    # mymodel's accompaniment is 20 dB quieter than follower's; after matching all clips are within 0.2 LU.
    assert max(levels.values()) - min(levels.values()) < 0.2
    raw = [c["loudness_lufs"] for c in design["clips"].values()]
    assert max(raw) - min(raw) > 1.0


def test_songs_without_audio_are_skipped_and_named(tmp_path: Path) -> None:
    run = tone_run(tmp_path / "run")
    for path in (run / "audio" / "follower").rglob("song-b.flac"):
        path.unlink()
    built = build_study(run, tmp_path / "study", BuildOptions(excerpt_seconds=1.0, audio_format="ogg"))
    assert built.songs == ["song-a"] and built.skipped_songs == {"song-b": "no audio of follower"}
    assert all(t.song == "song-a" for t in built.trials)
    shutil.rmtree(run / "audio" / "inputs")
    with pytest.raises(DataError, match='write_audio = "all"'):
        build_study(run, tmp_path / "again", BuildOptions(excerpt_seconds=1.0))
    with pytest.raises(ConfigError, match="at least 2 systems"):
        build_study(run, tmp_path / "again", BuildOptions(models=["mymodel"]))


def test_answers_are_checked_against_the_study(study: Path) -> None:
    design = load_study(study)
    good = {"study": design["study_id"], "participant": "p1", "trial": design["trials"][0]["id"], "choice": "A"}
    assert check_answer(good, design)["choice"] == "A"
    for change, message in (
        ({"study": "other"}, "study"),
        ({"participant": "../x"}, "participant"),
        ({"trial": "t999"}, "no trial"),
        ({"choice": "C"}, "choice"),
        ({"coherence_a": 6}, "coherence_a"),
        ({"plays_a": -1}, "plays_a"),
    ):
        with pytest.raises(AnswerError, match=message):
            check_answer({**good, **change}, design)
    folder = study.parent / "answers-check"
    folder.mkdir(exist_ok=True)
    document = {"format": "accbench-listen-answers", "answers": [good, {**good}]}
    (folder / "answers-p1.json").write_text(json.dumps(document))
    (folder / "p1.jsonl").write_text(json.dumps(good) + "\n")
    assert len(read_answers([folder], design)) == 1  # the download and the server's log hold the same answer
    (folder / "bad.json").write_text(json.dumps({**document, "answers": [{**good, "choice": "C"}]}))
    with pytest.raises(DataError, match="bad.json.*answer 1: choice"):
        read_answers([folder], design)


def test_analysis_recovers_simulated_preferences_and_filters_attention_checks(study: Path, tmp_path: Path) -> None:
    design = load_study(study)
    truth = {"follower": 1.5, "mymodel": 0.0, "silence": -1.5}
    documents = simulate_answers(design, truth, participants=12, seed=2)
    lapsed = simulate_answers(design, {"follower": -3, "mymodel": 0, "silence": 3}, participants=1, seed=9, lapse=1.0)
    lapsed[0]["participant"] = "lapsed"
    for answer in lapsed[0]["answers"]:
        answer["participant"] = "lapsed"
    write_simulated(documents + lapsed, tmp_path / "answers")
    analysis = analyze_study(study, [tmp_path / "answers"], AnalysisOptions(n_boot=100))
    people = analysis.participants.set_index("participant")
    assert not people.loc["lapsed", "kept"] and people.loc["lapsed", "failed_checks"] == 2
    assert int(people["kept"].sum()) == 12 and analysis.n_comparisons == 12 * 6
    systems = analysis.systems
    assert systems["system"].tolist() == ["follower", "mymodel", "silence"]  # sorted by strength: the truth's order
    assert (systems["bt_low"] <= systems["bt_strength"]).all() and (systems["bt_strength"] <= systems["bt_high"]).all()
    assert systems["comparisons"].tolist() == [48, 48, 48]
    kruskal = analysis.tests.set_index("measure").loc["preference (win rate)"]
    assert kruskal["p"] < 0.01 and len(analysis.pairs) == 3
    assert set(analysis.metrics["metric"]) == set(design["metrics"])
    assert analysis.metrics["pairwise_accuracy"].between(0, 1).all()
    files = write_analysis(analysis, tmp_path / "out")
    assert files.figure.read_bytes()[:4] == b"\x89PNG" and len(files.tables) == 5
    text = render_markdown(analysis)
    assert "Kruskal-Wallis" in text and "Bonferroni" in text and "| follower |" in text
    with pytest.raises(DataError, match="no comparisons left"):
        analyze_study(study, [tmp_path / "answers" / "answers-lapsed.json"], AnalysisOptions(n_boot=10))


@pytest.fixture
def served(study: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "served"
    shutil.copytree(study, folder)
    server = make_server(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()


def _post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url + "/api/answer", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_server_records_answers_once_and_rejects_bad_ones(served: tuple[str, Path]) -> None:
    url, folder = served
    design = load_study(folder)
    answer = {"study": design["study_id"], "participant": "p7", "trial": design["trials"][1]["id"], "choice": "B"}
    assert _post(url, json.dumps(answer).encode()) == (201, "recorded\n")
    status, message = _post(url, json.dumps(answer).encode())
    assert status == 409 and "already answered" in message
    assert _post(url, b"{not json")[0] == 400
    status, message = _post(url, json.dumps({**answer, "trial": "t999"}).encode())
    assert status == 400 and "no trial" in message
    assert _post(url, b"x" * 20000)[0] == 413
    lines = (folder / "answers" / "p7.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["choice"] == "B"
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(url + "/study.json", timeout=5)  # the key is never served
    clip = design["trials"][0]["clip_a"]
    request = urllib.request.Request(f"{url}/{clip}", headers={"Range": "bytes=0-9"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.status == 206 and len(reply.read()) == 10
    # A new server on the same folder knows what was recorded.
    again = make_server(folder, 0)
    assert ("p7", answer["trial"]) in again.recorded
    again.server_close()


def test_cli_build_simulate_analyze(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tone_run(tmp_path / "run")
    study = tmp_path / "study"
    common = ["--excerpt-seconds", "1", "--audio-format", "flac", "--checks", "1"]
    assert main(["listen", "build", str(run), "--out", str(study), "--trials", "6", *common]) == 0
    out = capsys.readouterr().out
    assert "6 comparisons + 1 attention checks" in out and "follower, mymodel, silence" in out
    assert main(["listen", "simulate", str(study), "--strength", "follower=2", "--participants", "3"]) == 0
    assert main(["listen", "analyze", str(study), str(study / "simulated"), "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    assert "Listening-study analysis" in out and (study / "analysis" / "analysis.png").is_file()
    assert main(["listen", "build", str(run), "--out", str(tmp_path / "x"), "--trials", "7"]) == 2
    assert "multiple of 3" in capsys.readouterr().err
