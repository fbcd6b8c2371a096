"""Plots for every grid shape, with NaN metrics and a single song; the frontier rule; the timeline figure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from test_report_support import HOP, SAMPLE_RATE, make_events, make_results, register_specs

from accbench import ModelInfo
from accbench.errors import DataError
from accbench.reports.aggregate import aggregate
from accbench.reports.figures import make_plots, plan_figures
from accbench.reports.plot_style import REPORT_STYLE
from accbench.reports.plots import (
    frontier_table,
    plot_frontier,
    plot_heatmap,
    plot_metric_vs_chunk,
    plot_metric_vs_visibility,
    plot_timing_vs_inference,
)
from accbench.reports.timeline import plot_timeline, save_timeline
from accbench.simulators import SimulationConfig, run_stream

GRIDS = {
    "1x1": ((0,), (2,)),
    "1xN": ((0,), (1, 2, 5)),
    "Nx1": ((-4, -2, 0), (2,)),
    "NxM": ((-4, -2, 0, 2), (2, 5)),
}
METRICS = ["beat.f_measure", "timing.miss_rate"]
LOW_DPI = dataclasses.replace(REPORT_STYLE, dpi=40)


@pytest.fixture(autouse=True)
def _specs() -> None:
    register_specs()


def _png_ok(path: Path) -> None:
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("grid", list(GRIDS))
def test_plots_for_every_grid_shape_with_nan_metric(tmp_path: Path, grid: str) -> None:
    future_visibility, chunk_frames = GRIDS[grid]
    table = make_results(
        future_visibility=future_visibility,
        chunk_frames=chunk_frames,
        songs=("a", "b", "c"),
        models=("mymodel",),
        nan_metrics=("harmony.majmin",),
    )
    table.loc[table["model"] == "mymodel", "inference_time_ms"] = 30.0  # inference times differ: a timing figure
    summary = aggregate(table, [*METRICS, "harmony.majmin"], n_boot=200)
    formats = ("png", "svg", "pdf") if grid == "NxM" else ("png",)
    specs = plan_figures(summary, [*METRICS, "harmony.majmin"])
    plots = make_plots(summary, tmp_path, specs, formats=formats, style=LOW_DPI)
    kinds = {p.kind for p in plots}
    assert kinds == {"vs_visibility", "vs_chunk", "heatmap", "frontier", "timing"}
    assert [p.spec.section for p in plots][:3] == ["primary"] * 3 and plots[0].kind == "frontier"
    assert not any(p.metric == "harmony.majmin" for p in plots)  # an all-NaN metric has nothing to draw
    for plot in plots:
        assert [p.suffix for p in plot.paths] == [f".{f}" for f in formats]
        _png_ok(plot.paths[0])
        if grid == "NxM":
            assert plot.paths[1].read_text().lstrip().startswith("<?xml")
            assert plot.paths[2].read_bytes()[:5] == b"%PDF-"


def test_single_song_gives_point_intervals_and_plots(tmp_path: Path) -> None:
    table = make_results(songs=("only",), models=("mymodel",), future_visibility=(-2, 0), chunk_frames=(2, 5))
    summary = aggregate(table, ["beat.f_measure"], n_boot=200)
    assert (summary["ci_low"] == summary["mean"]).all() and (summary["ci_high"] == summary["mean"]).all()
    assert (summary["n_songs"] == 1).all()
    plots = make_plots(summary, tmp_path, plan_figures(summary, ["beat.f_measure"]), style=LOW_DPI)
    assert [p.kind for p in plots] == ["frontier", "vs_visibility", "vs_chunk", "heatmap"]
    for plot in plots:
        _png_ok(plot.paths[0])


def test_figures_say_what_they_show() -> None:
    summary = aggregate(make_results(songs=("a", "b")), METRICS, n_boot=200)
    figure = plot_metric_vs_visibility(summary, "beat.f_measure")
    assert isinstance(figure, Figure)
    assert "higher is better" in figure.get_suptitle()
    visible = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title() for a in visible] == ["follower", "mymodel"]  # baselines are lines, not panels
    assert all(a.get_xlabel() == "future visibility t_f [ms]" for a in visible)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "k = 40 ms" in legend and "silence (baseline)" in legend
    assert "live, misses deadlines (past the bound)" in legend
    assert any("oracle" in t and "non-causal" in t for t in legend)
    assert "lower is better" in plot_metric_vs_chunk(summary, "timing.miss_rate").get_suptitle()
    heat = plot_heatmap(summary, "beat.f_measure")
    assert len([a for a in heat.axes if a.get_label() != "<colorbar>"]) >= 4
    assert plot_timing_vs_inference(summary).axes
    assert plot_frontier(summary, "beat.f_measure").axes[0].get_xlabel().startswith("inference time")


def test_frontier_follows_the_feasibility_rule() -> None:
    """t_f <= floor((-L_in - L_out - d) * R) and d <= k: with L_in = L_out = 10 ms and R = 50 Hz."""
    table = make_results(models=("m",), baselines=(), future_visibility=(-4, -2, -1, 0), chunk_frames=(2, 5))
    summary = aggregate(table, ["beat.f_measure"], n_boot=200)
    means = summary.set_index("config_id")["mean"]
    frontier = frontier_table(summary, "beat.f_measure", [0.0, 20.0, 25.0, 45.0, 60.0, 61.0, 101.0]).set_index(
        "inference_ms"
    )
    # d = 0: bound floor(-20 ms * 50 Hz) = -1 frame, best is t_f = -1 with the smaller chunk.
    assert frontier.loc[0.0, "config_id"] == "tf-1_k2" and frontier.loc[0.0, "best"] == means["tf-1_k2"]
    assert frontier.loc[20.0, "config_id"] == "tf-2_k2"  # bound floor(-40 ms * 50 Hz) = -2
    assert frontier.loc[25.0, "config_id"] == "tf-4_k2"  # bound -3: only t_f = -4
    assert frontier.loc[45.0, "config_id"] == "tf-4_k5"  # d > k = 40 ms rules out the small chunk
    assert frontier.loc[60.0, "config_id"] == "tf-4_k5"
    assert np.isnan(frontier.loc[61.0, "best"])  # bound -5: nothing is feasible
    assert np.isnan(frontier.loc[101.0, "best"])  # slower than real time for every chunk


class _Constant:
    """A model at the support tables' rate (8 kHz, hop 160: one frame is 20 ms)."""

    def __init__(self) -> None:
        self.info = ModelInfo("constant", "1", SAMPLE_RATE, HOP)

    def reset(self, session) -> None:
        pass

    def step(self, new_input, ctx):
        return np.zeros((1, ctx.chunk_frames * ctx.hop), dtype=np.float32)

    def close(self) -> None:
        pass


def test_frontier_bound_is_exact_at_a_whole_frame_boundary() -> None:
    """L_in = L_out = 10 ms = 80 samples, hop 160: d = 60 ms = 480 samples puts -(80 + 80 + 480) / 160 at -4
    exactly, so t_f = -4 is still feasible; any d above it rounds up to 481 samples and the bound drops to -5."""
    table = make_results(models=("m",), baselines=(), future_visibility=(-5, -4), chunk_frames=(5,))
    summary = aggregate(table, ["beat.f_measure"], n_boot=50)
    d = [60.0, 60.0 + 1e-9, 60.125, 80.0, 80.125, 100.0, 100.125]
    frontier = frontier_table(summary, "beat.f_measure", d).set_index("inference_ms")
    assert frontier.loc[60.0, "config_id"] == "tf-4_k5"
    assert frontier.loc[60.0 + 1e-9, "config_id"] == "tf-5_k5"  # no rounding tolerance: 480.000008 -> 481
    assert frontier.loc[60.125, "config_id"] == "tf-5_k5"
    assert frontier.loc[80.0, "config_id"] == "tf-5_k5"  # -(160 + 640) / 160 = -5 exactly
    assert np.isnan(frontier.loc[80.125, "best"])
    assert np.isnan(frontier.loc[100.0, "best"]) and np.isnan(frontier.loc[100.125, "best"])  # d = K, d > K


@pytest.mark.parametrize(("input_latency_ms", "inference_ms"), [(10.0, 60.0), (10.0, 60.125), (10.01, 59.98)])
def test_frontier_agrees_with_the_simulator(input_latency_ms: float, inference_ms: float) -> None:
    """The frontier counts delays in whole samples rounded up, as the simulator does: with L_in = 10.01 ms
    (80.08 -> 81 samples) and d = 59.98 ms (479.84 -> 480), t_f = -4 misses by one sample although the delays
    in milliseconds, -(10.01 + 10 + 59.98) / 20 = -3.9995, would allow it."""
    table = make_results(
        models=("m",), baselines=(), future_visibility=(-4,), chunk_frames=(5,), input_latency_ms=input_latency_ms
    )
    summary = aggregate(table, ["beat.f_measure"], n_boot=50)
    frontier = frontier_table(summary, "beat.f_measure", [inference_ms])
    config = SimulationConfig(-4, 5, f"fixed:{inference_ms}ms", input_latency_ms, 10.0, "ignore")
    events = run_stream(_Constant(), np.zeros((1, 8000), dtype=np.float32), config).events
    on_time = bool(events["on_time"].all())
    assert (frontier["config_id"].iloc[0] == "tf-4_k5") == on_time
    assert on_time == (inference_ms == 60.0)


def _song(n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * 3 * t) * np.sin(2 * np.pi * 220 * t)).astype(np.float32)[np.newaxis]


@pytest.mark.parametrize("on_miss", ["truncate", "drop", "ignore"])
def test_timeline_marks_misses_and_underruns(tmp_path: Path, on_miss: str) -> None:
    events = make_events(n_calls=10, future_visibility=-4, inference_samples=[300, 300, 900, 300], on_miss=on_miss)
    audio = _song(events.attrs["n_samples"])
    figure = plot_timeline(audio, events)
    misses = int((~events["on_time"]).sum())
    assert misses > 0
    assert f"{misses} of 10 calls missed" in figure.get_suptitle()
    assert "t_f = -4 frames (-80 ms)" in figure.get_suptitle()
    _, calls, output = figure.axes[:3]
    hatched = [p for p in output.patches if p.get_hatch() == "//"]
    assert len(hatched) == int((events["underrun_samples"] > 0).sum())
    assert (len(hatched) == 0) == (on_miss == "ignore")
    assert [t.get_text() for t in calls.get_yticklabels()][:2] == ["j=0", "j=1"]
    late_labels = [t for t in calls.texts if t.get_text() == "late"]
    assert len(late_labels) == misses
    for path in (tmp_path / "timeline.png", tmp_path / "timeline.svg"):
        save_timeline(path, audio, events, max_calls=6)
        assert path.stat().st_size > 1000


def test_timeline_window_and_bad_input() -> None:
    events = make_events(n_calls=30, chunk_frames=2, future_visibility=-3)
    audio = _song(events.attrs["n_samples"])
    figure = plot_timeline(audio[0], events, first_call=10, max_calls=5)
    labels = [t.get_text() for t in figure.axes[1].get_yticklabels()]
    assert labels == ["j=10", "j=11", "j=12", "j=13", "j=14"]
    left, right = figure.axes[2].get_xlim()
    assert left < 10 * 2 * HOP / SAMPLE_RATE < right < 20 * 2 * HOP / SAMPLE_RATE
    with pytest.raises(DataError, match="lacks column"):
        plot_timeline(audio, events.drop(columns=["deadline"]))
    bare = events.copy()
    bare.attrs = {}
    with pytest.raises(DataError, match="sample_rate"):
        plot_timeline(audio, bare)


def test_timeline_from_the_simulator(tmp_path: Path) -> None:
    """The real simulator's event log draws (skipped while the simulator is not importable)."""
    api = pytest.importorskip("accbench.api")
    n = SAMPLE_RATE
    audio = _song(n)
    result = api.simulate(
        "oracle-delayed",
        audio,
        sample_rate=SAMPLE_RATE,
        reference=audio,
        future_visibility=-2,
        chunk_frames=5,
        latency="fixed:30ms",
        input_latency_ms=10,
        output_latency_ms=10,
        model_options={"sample_rate": SAMPLE_RATE, "hop": HOP},
    )
    path = save_timeline(tmp_path / "timeline.png", result.input, result.events)
    _png_ok(path)


def test_a_policy_that_follows_from_future_visibility_stays_on_one_line():
    import pandas as pd

    from accbench.reports.plots import _varies

    table = pd.DataFrame(
        {
            "model": ["m"] * 4,
            "future_visibility_frames": [-5, 0, 5, 5],
            "chunk_frames": [1, 1, 1, 2],
            "on_miss": ["truncate", "truncate", "ignore", "ignore"],
        }
    )
    assert not _varies(table, "on_miss")
    both = pd.concat([table, table.assign(on_miss="drop")])
    assert _varies(both, "on_miss")


def _auto_policy_summary(**options):
    """An ``on_miss = "auto"`` sweep: ``ignore`` (offline) for t_f > 0, ``truncate`` (live) otherwise."""
    table = make_results(future_visibility=(-4, -2, 0, 2, 4), songs=("a", "b"), **options)
    offline = table["future_visibility_frames"] > 0
    table["on_miss"] = np.where(offline, "ignore", "truncate")
    table.loc[offline, "feasible"] = False
    return aggregate(table, ["beat.f_measure"], n_boot=50)


def _data_lines(axis) -> list:
    return [line for line in axis.lines if line.get_gid() in ("live", "offline")]


def test_live_and_offline_regimes_are_separate_lines_with_the_bound() -> None:
    """No line joins t_f <= 0 (live, truncate) to t_f > 0 (offline, ignore); the bound is the schedule's:
    L_in = L_out = 10 ms (80 samples), d = 15 ms (120 samples), hop 160: floor(-280 / 160) = -2 frames = -40 ms."""
    figure = plot_metric_vs_visibility(_auto_policy_summary(), "beat.f_measure")
    panels = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title() for a in panels] == ["follower", "mymodel"]
    for axis in panels:
        lines = _data_lines(axis)
        assert sorted(line.get_gid() for line in lines) == ["live", "live", "offline", "offline"]  # 2 k each
        for line in lines:
            xs = np.asarray(line.get_xdata(), dtype=float)
            if line.get_gid() == "live":
                assert (xs <= 0).all() and line.get_linestyle() == "-"
            else:
                assert (xs > 0).all() and line.get_linestyle() == "--"
        for line in axis.lines:  # baselines too: no segment crosses the regime boundary
            xs = np.asarray(line.get_xdata(), dtype=float)
            if line.get_gid() != "bound":
                assert (xs <= 0).all() or (xs > 0).all(), line.get_gid()
        bounds = [line for line in axis.lines if line.get_gid() == "bound"]
        assert len(bounds) == 1 and np.allclose(bounds[0].get_xdata(), -40.0)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "offline (on_miss=ignore)" in legend and "feasibility bound" in legend


def test_visibility_panels_share_one_y_axis() -> None:
    summary = _auto_policy_summary(quality={"mymodel": 2.5, "follower": -1.0})
    figure = plot_metric_vs_visibility(summary, "beat.f_measure")
    limits = {a.get_ylim() for a in figure.axes if a.get_visible()}
    assert len(limits) == 1
    low, high = limits.pop()
    values = summary.loc[summary["metric"] == "beat.f_measure", ["ci_low", "ci_high"]].to_numpy()
    assert low <= values.min() and high >= values.max()


def test_baselines_are_drawn_per_chunk_not_averaged_over_it() -> None:
    from accbench.reports.plot_style import OKABE_ITO

    summary = _auto_policy_summary()
    figure = plot_metric_vs_visibility(summary, "beat.f_measure")
    rows = summary[(summary["model"] == "silence") & (summary["metric"] == "beat.f_measure")]
    for axis in [a for a in figure.axes if a.get_visible()]:
        for chunk_ms, color in ((40.0, OKABE_ITO[0]), (100.0, OKABE_ITO[1])):
            line = next(line for line in axis.lines if line.get_gid() == f"baseline:silence:{chunk_ms:g}:live")
            live = (rows["on_miss"] != "ignore") & rows["feasible"].astype(bool)  # past the bound: its own segment
            expected = rows[(rows["chunk_ms"] == chunk_ms) & live]
            expected = expected.sort_values("future_visibility_ms")["mean"].to_numpy()
            assert np.allclose(line.get_ydata(), expected)  # the k's own values, not a mean over k
            assert line.get_color() == color
        # per k: the live, the missed (past the bound) and the offline segment, never joined
        assert len([line for line in axis.lines if str(line.get_gid()).startswith("baseline:oracle:")]) == 6
    only = plot_metric_vs_visibility(
        aggregate(make_results(models=(), songs=("a",)), ["beat.f_measure"], n_boot=20), "beat.f_measure"
    )
    panels = [a for a in only.axes if a.get_visible()]
    assert [a.get_title() for a in panels] == ["oracle (non-causal)", "silence"]
    for axis in panels:  # a run of baselines only: each is its own panel, no reference lines at all
        assert _data_lines(axis) and not [line for line in axis.lines if str(line.get_gid()).startswith("baseline:")]
