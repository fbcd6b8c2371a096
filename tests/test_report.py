"""The report: aggregates, summary.csv, report.md, report.html (escaping, players) and a headless browser check."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_support import make_results, register_specs, write_run

from accbench.commands import report as report_command
from accbench.errors import DataError
from accbench.reports.aggregate import aggregate, bootstrap_mean, per_song
from accbench.reports.build import ReportOptions, build_report
from accbench.reports.load import load_run, metric_columns, metric_spec

SMALL = {"future_visibility": (-2, 0), "chunk_frames": (2, 5), "models": ("mymodel",), "baselines": ("silence",)}
FAST = ReportOptions(metrics=["beat.f_measure", "timing.miss_rate"], n_boot=200, dpi=40, audio_seconds=0.5)
HOSTILE = '<img src=x onerror="alert(1)">&"model'


@pytest.fixture(autouse=True)
def _specs() -> None:
    register_specs()


def test_bootstrap_mean_is_seeded_and_covers_the_mean() -> None:
    values = np.random.default_rng(0).normal(0.5, 0.1, size=30)
    first = bootstrap_mean(values, seed=4)
    assert first == bootstrap_mean(values, seed=4)
    assert first != bootstrap_mean(values, seed=5)
    mean, low, high = first
    assert low < mean < high and mean == pytest.approx(values.mean())
    assert bootstrap_mean([np.nan, 2.0]) == (2.0, 2.0, 2.0)
    assert all(np.isnan(bootstrap_mean([])))


def test_aggregate_averages_seeds_then_songs_and_counts_nans() -> None:
    table = make_results(**SMALL, seeds=(0, 1), songs=("a", "b", "c"))
    table.loc[(table["song"] == "a") & (table["seed"] == 1), "beat.f_measure"] += 0.2
    table.loc[table["song"] == "c", "harmony.majmin"] = np.nan
    songs = per_song(table, ["beat.f_measure"])
    assert len(songs) == table[["model", "config_id", "song"]].drop_duplicates().shape[0]
    summary = aggregate(table, ["beat.f_measure", "harmony.majmin"], n_boot=200)
    row = summary[(summary["model"] == "mymodel") & (summary["config_id"] == "tf+0_k2")].set_index("metric")
    expected = table[(table["model"] == "mymodel") & (table["config_id"] == "tf+0_k2")]
    expected = expected.groupby("song")["beat.f_measure"].mean().mean()
    assert row.loc["beat.f_measure", "mean"] == pytest.approx(expected)
    assert row.loc["harmony.majmin", "n_songs"] == 2 and row.loc["harmony.majmin", "n_nan"] == 1
    assert row.loc["beat.f_measure", "direction"] == "higher"
    assert (summary["ci_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci_high"]).all()
    # Each group's draw depends only on its own key: dropping a model does not move another model's interval.
    alone = aggregate(table[table["model"] == "mymodel"], ["beat.f_measure"], n_boot=200)
    both = summary[(summary["model"] == "mymodel") & (summary["metric"] == "beat.f_measure")]
    assert alone["ci_low"].tolist() == both["ci_low"].tolist()


def test_unregistered_metric_gets_a_defined_answer_with_a_warning() -> None:
    """No direction is guessed from a name: every unknown metric gets the same spec, and a warning."""
    with pytest.warns(UserWarning, match="not in the metric registry"):
        spec = metric_spec("custom.lateness_score_xyz")
    assert (spec.direction, spec.unit, spec.range) == ("higher", "", (-np.inf, np.inf))
    with pytest.warns(UserWarning):
        assert metric_spec("custom.quality_xyz").direction == "higher"
    assert metric_spec("timing.miss_rate").direction == "lower"  # registered: the registry decides


def test_load_run_reads_csv_and_rejects_bad_folders(tmp_path: Path) -> None:
    table = make_results(**SMALL)
    folder = write_run(tmp_path / "csv", table, fmt="csv")
    run = load_run(folder)
    assert run.results["feasible"].dtype == bool and run.results["baseline"].dtype == bool
    assert set(metric_columns(run.results)) == {c for c in table.columns if "." in c}
    assert run.failures.empty and run.manifest["dataset"] == "synthetic"
    with pytest.raises(DataError, match="no results"):
        load_run(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_run(tmp_path / "missing")
    broken = tmp_path / "broken"
    broken.mkdir()
    pd.DataFrame({"model": ["m"]}).to_csv(broken / "results.csv", index=False)
    with pytest.raises(DataError, match="lacks column"):
        load_run(broken)


def _hostile_run(tmp_path: Path, *, audio: bool = True) -> Path:
    table = make_results(**{**SMALL, "models": (HOSTILE,)}, songs=("s1", "<b>s2</b>"))
    failures = pd.DataFrame(
        [
            {
                "model": HOSTILE,
                "model_version": "1.0",
                "config_id": "tf+0_k2",
                "song": "<script>alert(2)</script>",
                "seed": 0,
                "error": "ModelError: returned <NaN>",
                "call": 3,
                "traceback": "Traceback (most recent call last):\n  <frame>",
            }
        ]
    )
    return write_run(tmp_path / "run", table, failures=failures, audio_seconds=0.5 if audio else 0.0)


def test_build_report_writes_every_file_and_escapes_user_strings(tmp_path: Path) -> None:
    folder = _hostile_run(tmp_path)
    files = build_report(folder, options=FAST)
    assert files.html == folder / "report.html" and files.markdown == folder / "report.md"
    summary = pd.read_csv(files.summary_csv)
    assert set(summary["metric"]) == {"beat.f_measure", "timing.miss_rate"}
    assert {"mean", "ci_low", "ci_high", "direction", "unit", "n_songs"} <= set(summary.columns)
    names = sorted(p.name for p in files.plots)
    assert names == [
        "beat.f_measure__heatmap.png",  # the headline metric: frontier, vs t_f, vs k lead; its heatmap is in "all"
        "beat.f_measure__vs_chunk.png",
        "beat.f_measure__vs_visibility.png",
        "frontier__beat.f_measure.png",
        "timing.miss_rate__vs_visibility.png",  # a timing metric: in "all metrics"
        "timing_vs_inference.png",  # the models' inference times differ
    ]
    page = files.html.read_text()
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>s2" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&quot;model" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "&lt;b&gt;s2&lt;/b&gt;" in page
    assert page.count("data:image/png;base64,") == len(files.plots)
    assert page.count("<audio") == 2 * (1 + 2 * 8)  # per song: input, then output and mix per model x config
    assert "data:audio/mpeg;base64," in page  # compressed clips
    assert re.search(r"https?://", page) is None  # nothing is fetched from the network
    markdown = files.markdown.read_text()
    assert "beat.f_measure ↑" in markdown and "timing.miss_rate ↓" in markdown
    assert "## Failures (1)" in markdown and "<script>" not in markdown and "\\|" not in markdown.split("\n")[0]


def test_audio_beyond_the_budget_is_linked_and_missing_audio_tolerated(tmp_path: Path) -> None:
    folder = _hostile_run(tmp_path)
    (folder / "audio" / "inputs" / "s1.wav").unlink()
    options = ReportOptions(**{**FAST.__dict__, "audio_budget_mb": 0.02, "plots": False})
    page = build_report(folder, options=options).html.read_text()
    assert "linked (over the embedding budget)" in page
    assert 'src="audio/silence/tf-2_k2/s1.wav"' in page
    assert "no audio file" in page
    no_audio = build_report(
        write_run(tmp_path / "silent", make_results(**SMALL)), tmp_path / "elsewhere", options
    ).html.read_text()
    assert "No audio in this run folder" in no_audio


def test_report_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_run(tmp_path / "run", make_results(**SMALL), fmt="csv")
    parser = argparse.ArgumentParser(prog="accbench")
    report_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "report",
            str(folder),
            "--metric",
            "beat.*",
            "--format",
            "png,svg",
            "--n-boot",
            "200",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert args.handler(args) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "r" / "plots" / "beat.f_measure__heatmap.svg").is_file()
    assert (tmp_path / "r" / "plots" / "frontier__beat.f_measure.svg").is_file()
    assert (tmp_path / "r" / "report.html").is_file() and not (folder / "report.html").exists()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="no chromium binary (CI installs Debian's chromium)")
def test_report_opens_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    folder = _hostile_run(tmp_path)
    files = build_report(folder, options=FAST)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]
    url = files.html.resolve().as_uri()
    env = {**os.environ, "HOME": str(tmp_path)}

    def chromium(*extra: str) -> subprocess.CompletedProcess[str]:
        profile = tempfile.mkdtemp(dir=tmp_path)
        return subprocess.run(
            [_chromium(), *flags, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    shot = tmp_path / "screenshot.png"
    taken = chromium("--window-size=1300,1800", f"--screenshot={shot}")
    assert shot.is_file() and shot.read_bytes()[:4] == b"\x89PNG", taken.stderr[-2000:]
    dumped = chromium("--dump-dom")
    console = [line for line in (taken.stderr + dumped.stderr).splitlines() if ":CONSOLE" in line]
    assert console == [], "\n".join(console)
    dom = dumped.stdout
    assert 'data-ready="1"' in dom  # the inline script ran to its end
    assert dom.count("<img") == len(files.plots)
    primary = re.findall(r'data-kind="(\w+)" data-section="primary"', dom)
    assert primary == ["frontier", "vs_visibility", "vs_chunk"]  # the headline figures lead, frontier first
    assert dom.index('id="primary-figures"') < dom.index('id="all-metrics"') < dom.index('id="summary-table"')
    assert '<table id="summary-table" class="sortable">' in dom and 'id="failures-table"' in dom
    assert "<script>alert" not in dom


def test_manifest_dataset_as_a_dict_and_plot_metric_choice(tmp_path: Path) -> None:
    from test_report_support import make_manifest

    from accbench.reports.build import plot_metric_choice

    table = make_results(**SMALL)
    manifest = make_manifest(table, dataset={"spec": "demo", "options": {"songs": 2}, "name": "demo"})
    folder = write_run(tmp_path / "run", table, manifest=manifest)
    files = build_report(folder, options=ReportOptions(plots=False, audio_songs=0, n_boot=200))
    assert files.markdown.read_text().startswith("# accbench report: demo\n")
    assert "<title>accbench report: demo</title>" in files.html.read_text()
    metrics = ["beat.amlt", "beat.f_measure", "harmony.root", "timing.miss_rate"]
    assert plot_metric_choice(metrics, []) == ["beat.f_measure", "timing.miss_rate"]
    assert plot_metric_choice(metrics, ["harmony.*"]) == ["harmony.root"]
    assert plot_metric_choice(["x.a", "x.b"], []) == ["x.a", "x.b"]
