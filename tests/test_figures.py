"""The report's figure plan and honesty flags, paper export (``accbench plot``), lean baselines, compressed clips."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_support import make_results, register_specs, write_run

from accbench.commands import plot as plot_command
from accbench.errors import DataError
from accbench.reports.aggregate import aggregate
from accbench.reports.baseline import FORMAT_VERSION, load_baseline, save_baseline
from accbench.reports.figures import headline_metrics, make_plots, plan_figures
from accbench.reports.gate import run_gate
from accbench.reports.honesty import metric_flags
from accbench.reports.load import load_run
from accbench.reports.players import audio_data_uri, collect_clips
from accbench.reports.plot_style import PAPER_STYLE, REPORT_STYLE
from accbench.reports.plots import IDENTICAL_LABEL, plot_metric_vs_chunk

METRICS = ["beat.f_measure", "harmony.majmin", "timing.miss_rate", "timing.underrun_fraction"]
LOW_DPI = dataclasses.replace(REPORT_STYLE, dpi=30)


@pytest.fixture(autouse=True)
def _specs() -> None:
    register_specs()


def _summary(table: pd.DataFrame, metrics=METRICS) -> pd.DataFrame:
    return aggregate(table, metrics, n_boot=100)


def _kinds(flags, metric: str) -> list[str]:
    return [flag.kind for flag in flags[metric]]


def test_flags_say_which_metrics_cannot_carry_a_finding() -> None:
    table = make_results(songs=("a", "b", "c"), future_visibility=(-4, -2), chunk_frames=(2,), inference_ms=0.0)
    table["harmony.majmin"] = np.where(table["model"] == "silence", 0.9, table["harmony.majmin"])  # silence wins
    table["embedding.cosine_mix"] = 0.5  # one value everywhere
    table["timing.underrun_fraction"] = np.nan
    flags = metric_flags(_summary(table, [*METRICS, "embedding.cosine_mix"]))
    assert flags["beat.f_measure"] == []  # silence far below the oracle: a real metric
    assert _kinds(flags, "harmony.majmin") == ["silence_above_oracle"]
    assert _kinds(flags, "embedding.cosine_mix") == ["no_variation"] and not flags["embedding.cosine_mix"][0].draw
    assert _kinds(flags, "timing.underrun_fraction") == ["no_values"]
    assert _kinds(flags, "timing.miss_rate") == ["no_variation"]  # every config feasible, every miss rate 0


def test_silence_inside_the_oracle_interval_and_censored_reactions() -> None:
    register_specs()
    table = make_results(songs=("a", "b", "c", "d"), future_visibility=(-4, -2), chunk_frames=(2, 5))
    oracle = table.loc[table["model"] == "oracle", "beat.f_measure"].to_numpy()
    table.loc[table["model"] == "silence", "beat.f_measure"] = oracle  # indistinguishable from the oracle
    table["reaction.chord_median_s"] = np.where(table["model"] == "oracle", 0.02, 0.664)  # all others censored
    flags = metric_flags(_summary(table, ["beat.f_measure", "reaction.chord_median_s"]))
    assert _kinds(flags, "beat.f_measure") == ["silence_not_separated", "like_silence"]  # the oracle = silence
    (censored,) = flags["reaction.chord_median_s"]
    assert censored.kind == "like_silence" and censored.message.startswith("follower, mymodel equal silence's")
    assert "censored" in censored.message
    varied = np.where(table["model"] == "silence", np.nan, table["beat.f_measure"])
    nan_silence = table.assign(**{"reaction.chord_median_s": varied})
    assert metric_flags(_summary(nan_silence, ["reaction.chord_median_s"]))["reaction.chord_median_s"] == []


def test_a_metric_the_same_for_every_model_is_one_panel() -> None:
    table = make_results(songs=("a", "b"), future_visibility=(-4, -2, 0), chunk_frames=(2, 5))
    table["timing.miss_rate"] = np.where(table["future_visibility_frames"] >= 0, 1.0, 0.0)  # the schedule's
    summary = _summary(table)
    assert _kinds(metric_flags(summary), "timing.miss_rate") == ["same_for_every_model"]
    figure = plot_metric_vs_chunk(summary, "timing.miss_rate")
    assert [a.get_title() for a in figure.axes if a.get_visible()] == [IDENTICAL_LABEL]


def test_the_plan_leads_with_the_headline_figures_and_skips_what_has_no_variation(tmp_path: Path) -> None:
    table = make_results(songs=("a", "b", "c"), future_visibility=(-4, -2, 0, 2), chunk_frames=(2, 5))
    table["embedding.cosine_mix"] = 0.25
    summary = _summary(table, [*METRICS, "embedding.cosine_mix"])
    flags = metric_flags(summary)
    assert headline_metrics([*METRICS, "embedding.cosine_mix"], flags) == ["harmony.majmin", "beat.f_measure"]
    specs = plan_figures(summary, [*METRICS, "embedding.cosine_mix"], flags=flags)
    primary = [(s.kind, s.metrics) for s in specs if s.section == "primary"]
    assert primary == [
        ("frontier", ("harmony.majmin", "beat.f_measure")),
        ("vs_visibility", ("harmony.majmin",)),
        ("vs_chunk", ("harmony.majmin",)),
        ("vs_visibility", ("beat.f_measure",)),
        ("vs_chunk", ("beat.f_measure",)),
    ]
    assert not any("embedding.cosine_mix" in s.metrics for s in specs)  # one value: no figure
    assert ("vs_visibility", ("timing.miss_rate",), "all") in [(s.kind, s.metrics, s.section) for s in specs]
    one = make_plots(summary, tmp_path / "one", specs, style=LOW_DPI, workers=1)
    two = make_plots(summary, tmp_path / "two", specs, style=LOW_DPI, workers=2)
    assert [p.png for p in one] == [p.png for p in two]  # drawing in worker processes changes no byte


def test_vector_exports_are_deterministic_and_paper_sized(tmp_path: Path) -> None:
    summary = _summary(make_results(songs=("a", "b"), models=("mymodel",)))
    specs = plan_figures(summary, ["beat.f_measure"])[:2]
    first = make_plots(summary, tmp_path / "a", specs, formats=("pdf", "svg", "png"), style=PAPER_STYLE)
    again = make_plots(summary, tmp_path / "b", specs, formats=("pdf", "svg", "png"), style=PAPER_STYLE)
    for one, two in zip(first, again, strict=True):
        assert [p.read_bytes() for p in one.paths] == [p.read_bytes() for p in two.paths]
        pdf, svg, _ = (p.read_bytes() for p in one.paths)
        assert pdf.startswith(b"%PDF-") and b"<svg" in svg and b"beat.f_measure" in svg  # text stays text
    assert PAPER_STYLE.figure_size(1)[0] == pytest.approx(3.4)  # one panel: a one-column figure


def _run(tmp_path: Path, **options) -> Path:
    return write_run(tmp_path / "run", make_results(songs=("a", "b", "c"), **options))


def test_plot_command_redraws_chosen_metrics_models_and_configs(tmp_path: Path, capsys) -> None:
    folder = _run(tmp_path)
    parser = argparse.ArgumentParser(prog="accbench")
    plot_command.register(parser.add_subparsers(dest="command"))
    chosen = ["--model", "mymodel", "--config", "tf-*", "--format", "pdf,png", "--n-boot", "50"]
    args = parser.parse_args(
        ["plot", str(folder), "--metric", "harmony.majmin", "--kind", "vs_visibility", "--kind", "frontier", *chosen]
    )
    assert args.handler(args) == 0
    written = sorted(Path(line.split(" ", 1)[1]).name for line in capsys.readouterr().out.splitlines())
    assert written == [
        "frontier__harmony.majmin.pdf",
        "frontier__harmony.majmin.png",
        "harmony.majmin__vs_visibility.pdf",
        "harmony.majmin__vs_visibility.png",
    ]
    assert all((folder / "figures" / name).is_file() for name in written)
    bad = parser.parse_args(["plot", str(folder), "--metric", "harmony.majmn"])
    with pytest.raises(DataError, match="did you mean 'harmony.majmin'"):
        bad.handler(bad)


def test_a_lean_baseline_holds_what_the_gate_needs(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    path = save_baseline(load_run(folder), tmp_path / "baseline.json")
    document = json.loads(path.read_text())
    assert document["format_version"] == FORMAT_VERSION == 2
    assert set(document["entries"][0]) == {
        "model",
        "model_version",
        "baseline",
        "config_id",
        "config",
        "songs",
        "values",
    }
    baseline = load_baseline(path)
    results = load_run(folder).results
    first = baseline.values.iloc[0]
    row = results[(results["model"] == first["model"]) & (results["config_id"] == first["config_id"])]
    assert row.loc[row["song"] == first["song"], first["metric"]].iloc[0] == first["value"]  # full precision
    assert run_gate(load_run(folder), baseline).exit_code == 0
    version_1 = {
        "format": "accbench-baseline",
        "format_version": 1,
        "manifest": {},
        "entries": [{"model": "m", "config_id": "c", "metric": "beat.f_measure", "values": {"a": 0.5, "b": None}}],
    }
    (tmp_path / "v1.json").write_text(json.dumps(version_1))
    old = load_baseline(tmp_path / "v1.json")
    assert old.values["value"].tolist()[0] == 0.5 and np.isnan(old.values["value"].tolist()[1])


def test_clips_are_compressed_and_past_the_budget_linked_unread(tmp_path: Path) -> None:
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    uri = audio_data_uri(tone, 16000)
    assert uri.startswith(("data:audio/mpeg;base64,", "data:audio/flac;base64,"))
    assert len(base64.b64decode(uri.split(",", 1)[1])) < 16000 * 2 / 4  # well under a quarter of 16-bit PCM
    assert uri == audio_data_uri(tone, 16000)  # the same bytes every time
    folder = write_run(tmp_path / "run", make_results(songs=("a",)), audio_seconds=1.0)
    results = load_run(folder).results
    (song,) = collect_clips(folder, results, songs=1, budget_bytes=30_000)
    embedded = [o for _, _, o, _ in song.outputs if o.embedded]
    linked = [o for _, _, o, _ in song.outputs if not o.embedded]
    assert embedded and linked and all(o.src.startswith("audio/") for o in linked)
