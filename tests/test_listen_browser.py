"""The study page in headless Chromium (Playwright's Python client driving Debian's chromium, no download):
from disk, every trial played and answered, the answers downloaded and analysed; and served by
``listen serve``, surviving a reload and a server restart in the middle with no answer lost.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_listen_support import tone_run
from test_report import _chromium  # the report's browser test finds chromium the same way

from accbench.listen.analyze import AnalysisOptions, analyze_study
from accbench.listen.answers import load_study
from accbench.listen.build import BuildOptions, build_study
from accbench.listen.serve import StudyServer, make_server

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")


pytestmark = pytest.mark.skipif(_chromium() is None, reason="no chromium binary (CI installs Debian's chromium)")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("listen-browser")
    options = BuildOptions(models=["follower", "mymodel"], excerpt_seconds=0.5, checks=2, trials=4)
    build_study(tone_run(base / "run"), base / "study", options)
    return base / "study"


@pytest.fixture
def page(tmp_path: Path) -> Iterator:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
        page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def _answer_trial(page, choice: str) -> None:
    """Play both sides to the end (eight times faster), choose, rate and go on."""
    page.evaluate("document.querySelectorAll('audio').forEach(a => { a.defaultPlaybackRate = 8; a.playbackRate = 8; })")
    for side in ("a", "b"):
        page.click(f"#play-{side}")
        page.wait_for_selector(f"#heard-{side}:has-text('heard')")
    assert page.is_disabled("#next")  # heard both, but no choice yet
    page.check(f"#choice-{choice.lower()}")
    page.select_option("#coherence-a", "4")
    page.click("#next")


def _start(page, participant: str) -> int:
    page.check("#agree")
    page.fill("#pid", participant)
    page.click("#start")
    return int(page.get_attribute("#progress", "max"))


def test_study_from_disk_played_answered_downloaded_and_analysed(study: Path, page, tmp_path: Path) -> None:
    outside = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "blob:", "data:")) else outside.append(r.url))
    page.goto((study / "index.html").resolve().as_uri())
    assert page.get_attribute("#app", "data-ready") == "1" and page.is_disabled("#start")
    total = _start(page, "disk-1")
    assert total == 6
    for number in range(1, total + 1):
        assert page.inner_text("#number") == str(number)
        _answer_trial(page, "A" if number % 2 else "B")
    assert page.is_visible("#done")
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "answers-disk-1.json"
    download.value.save_as(saved)
    assert download.value.suggested_filename == saved.name
    document = json.loads(saved.read_text())
    assert [a["trial"] for a in document["answers"]] == [t["id"] for t in load_study(study)["trials"]]
    assert all(a["plays_a"] == 1 and a["plays_b"] == 1 and a["coherence_a"] == 4 for a in document["answers"])
    assert outside == [] and page.problems == []
    analysis = analyze_study(study, [saved], AnalysisOptions(n_boot=50, max_failed_checks=2))
    assert analysis.n_comparisons == 4 and analysis.participants["answers"].tolist() == [6]


@contextmanager
def _serving(folder: Path, port: int = 0) -> Iterator[StudyServer]:
    server = make_server(folder, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_served_study_survives_a_reload_and_a_server_restart(study: Path, page, tmp_path: Path) -> None:
    folder = tmp_path / "served"
    shutil.copytree(study, folder)
    with _serving(folder) as server:
        port = server.server_address[1]
        page.goto(f"http://127.0.0.1:{port}/")
        total = _start(page, "web-1")
        for _ in range(2):
            _answer_trial(page, "A")
        page.wait_for_selector("body[data-unsent='0']", state="attached")
        assert len(server.recorded) == 2
    _answer_trial(page, "B")  # the server is down: kept in the page, not acknowledged
    page.wait_for_selector("body[data-unsent='1']", state="attached")
    with _serving(folder, port) as server:  # a new server on the same port and folder
        page.reload()  # progress survives a reload; the unsent answer is sent again
        assert page.inner_text("#number") == "4"
        page.wait_for_selector("body[data-unsent='0']", state="attached")
        assert len(server.recorded) == 3
        _answer_trial(page, "A")
        for _ in range(total - 4):
            _answer_trial(page, "B")
        page.wait_for_selector("body[data-unsent='0']", state="attached")
        assert page.is_visible("#done") and len(server.recorded) == total
    lines = (folder / "answers" / "web-1.jsonl").read_text().splitlines()
    trials = [json.loads(line)["trial"] for line in lines]
    assert sorted(trials) == sorted(t["id"] for t in load_study(folder)["trials"])  # all, each once
    assert not [p for p in page.problems if "ERR_CONNECTION_REFUSED" not in p and "Failed to fetch" not in p]
    analysis = analyze_study(folder, [], AnalysisOptions(n_boot=50, max_failed_checks=2))  # reads answers/
    assert analysis.n_comparisons == 4


def test_demo_sweep_to_study_to_clicks_to_analysis(tmp_path: Path, page, capsys: pytest.CaptureFixture[str]) -> None:
    """End to end on the real pipeline: a demo sweep of the built-in models (the default write_audio keeps 2
    of its 3 songs), ``listen build``, every trial answered in Chromium from disk, ``listen analyze``."""
    from accbench.cli import main
    from accbench.runner import sweep

    config = {
        "seeds": [0],
        "metrics": ["harmony"],
        "dataset": {"spec": "demo", "options": {"songs": 3, "split": "test"}},
        "models": [{"spec": "silence"}, {"spec": "oracle-delayed"}, {"spec": "follower"}],
        "grid": {"future_visibility": [0], "chunk_frames": [5], "latency": ["fixed:5ms"]},
    }
    run = sweep(config, out=tmp_path / "run", executor="serial", progress=False).out_dir
    study = tmp_path / "study"
    assert main(["listen", "build", str(run), "--out", str(study), "--excerpt-seconds", "0.5", "--checks", "1"]) == 0
    out = capsys.readouterr().out
    assert "songs with audio of every system (2)" in out and "skipped" in out and 'write_audio = "all"' in out
    page.goto((study / "index.html").resolve().as_uri())
    total = _start(page, "demo-1")
    for number in range(total):
        _answer_trial(page, "A" if number % 3 else "B")
    with page.expect_download() as download:
        page.click("#download")
    download.value.save_as(tmp_path / "answers-demo-1.json")
    assert page.problems == []
    code = main(["listen", "analyze", str(study), str(tmp_path / "answers-demo-1.json"), "--n-boot", "50"])
    out = capsys.readouterr().out
    assert code == 0 and "## Metrics against the listeners" in out and "harmony.root" in out
