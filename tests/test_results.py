"""The results schema (accbench.results): row builders, tables on disk, validation, metric columns, Run."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from accbench import results
from accbench.errors import DataError, ModelError
from accbench.protocol import ModelInfo
from accbench.results import (
    CONFIG_COLUMNS,
    FAILURE_COLUMNS,
    ROW_COLUMNS,
    Run,
    config_columns,
    failure_row,
    failures_frame,
    metric_columns,
    metric_spec,
    read_results,
    read_run,
    results_frame,
    results_row,
    write_table,
)
from accbench.simulators import SimulationConfig

INFO = ModelInfo(name="m", version="2.1", sample_rate=16000, hop=160, causal=False)


def _row(song: str = "s", tf: int = -2, seed: int = 0, **scores: object) -> dict:
    config = SimulationConfig(tf, 4, "fixed:5ms", 10.0, 20.0, "truncate", seed)
    summary = SimpleNamespace(feasible=True, mean_inference_time_ms=5.0, deterministic=True, repairs=0)
    return results_row(
        model="mine",
        model_spec="pkg:Model",
        baseline=False,
        song=song,
        seed=seed,
        config=config,
        info=INFO,
        summary=summary,  # type: ignore[arg-type]
        scores={"beat.f_measure": 0.5, "timing.feasible_future_visibility_frames": -3.0, "ref_source": "x", **scores},
        task_id=f"id-{song}-{tf}-{seed}",
    )


def test_config_columns_are_the_schema_and_in_physical_units() -> None:
    config = SimulationConfig(-2, 4, "fixed:5ms", 10.0, 20.0, "truncate")
    columns = config_columns(config, INFO)
    assert tuple(columns) == CONFIG_COLUMNS and CONFIG_COLUMNS[0] == "config_id"
    assert columns["config_id"] == results.config_id(config) and columns["config_id"].startswith("tf-2_k4_")
    assert columns["future_visibility_ms"] == -20.0 and columns["chunk_ms"] == 40.0
    assert columns["frame_rate_hz"] == 100.0 and columns["sample_rate"] == 16000
    assert (columns["input_latency_ms"], columns["output_latency_ms"], columns["on_miss"]) == (10.0, 20.0, "truncate")
    assert columns["latency"] == str(config.latency_model(INFO))


def test_results_row_has_every_part_and_no_duplicated_timing_column() -> None:
    row = _row()
    assert row["model"] == "mine" and row["model_version"] == "2.1" and row["causal"] is False
    assert row["inference_time_ms"] == 5.0 and row["repairs"] == 0 and row["task_id"] == "id-s--2-0"
    assert "feasible_future_visibility_frames" not in row
    assert row["timing.feasible_future_visibility_frames"] == -3.0
    assert set(results.IDENTITY_COLUMNS + CONFIG_COLUMNS + results.RUN_COLUMNS) <= set(row)


def test_failure_row_from_an_exception_and_from_text() -> None:
    try:
        raise ModelError("returned NaN", model="m", call=3)
    except ModelError as error:
        row = failure_row(error, model="m", config_id="c", song="s", seed=1)
        bare = failure_row(error, model="m", traceback=False)
    assert tuple(row) == FAILURE_COLUMNS
    assert row["error"].startswith("ModelError: ") and "returned NaN" in row["error"] and row["call"] == 3
    assert "test_results.py" in row["traceback"] and len(row["traceback"]) <= 2000
    assert bare["traceback"] == "" and bare["song"] == "" and bare["seed"] is None
    text = failure_row("DataError: song skipped: no input", song="gone")
    assert text["error"] == "DataError: song skipped: no input" and text["call"] is None and text["model"] == ""
    assert list(failures_frame([]).columns) == list(FAILURE_COLUMNS)


def test_results_frame_orders_columns_and_rows() -> None:
    rows = [_row("b", 0, **{"harmony.majmin": 0.1}), _row("a", 0), _row("a", -4), {**_row("c", 0), "legacy": 1}]
    rows[1]["feasible_future_visibility_frames"] = -3.0  # an older journal's row
    frame = results_frame(rows)
    names = list(frame.columns)
    labels = [c for c in names if c in ROW_COLUMNS]
    assert labels == [c for c in ROW_COLUMNS if c in names] and names[: len(labels)] == labels
    assert names[len(labels) :] == sorted(names[len(labels) :])  # metrics (and unknowns) follow, sorted
    assert "feasible_future_visibility_frames" not in names
    assert list(zip(frame["future_visibility_frames"], frame["song"], strict=True)) == [
        (-4, "a"),
        (0, "a"),
        (0, "b"),
        (0, "c"),
    ]
    assert list(results_frame([]).columns) == list(ROW_COLUMNS)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tables_round_trip_and_older_files_are_accepted(tmp_path: Path, suffix: str) -> None:
    frame = results_frame([_row("a"), _row("b"), _row("c", **{"embedding.embedder": "spectral"})])
    frame["feasible_future_visibility_frames"] = -3.0  # written by an older accbench
    path = tmp_path / f"results{suffix}"
    write_table(frame, path)
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file
    table = read_results(path)
    assert "feasible_future_visibility_frames" not in table.columns
    assert table["timing.feasible_future_visibility_frames"].tolist() == [-3.0] * 3
    assert table["feasible"].dtype == bool and table["causal"].dtype == bool and table["deterministic"].dtype == bool
    assert metric_columns(table) == ["beat.f_measure", "timing.feasible_future_visibility_frames"]
    assert table["model_version"].tolist() == ["2.1"] * 3


def test_validation_names_the_file_and_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    pd.DataFrame({"model": ["m"], "song": ["s"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"lacks column\(s\) config_id") as info:
        read_results(path)
    assert info.value.path == str(path) and "results.csv" in str(info.value)
    minimal = results.validate_results(pd.DataFrame({"model": ["m"], "config_id": ["c"], "song": [1]}))
    assert minimal.loc[0, "song"] == "1" and minimal.loc[0, "model_version"] == "" and bool(minimal.loc[0, "causal"])
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read results table"):
        read_results(tmp_path / "broken.parquet")


def test_read_run_gives_the_one_run_class(tmp_path: Path) -> None:
    import accbench.reports.load as load
    import accbench.runner as runner

    assert runner.Run is Run is load.Run and runner.FAILURE_COLUMNS is FAILURE_COLUMNS is load.FAILURE_COLUMNS
    assert load.metric_spec is metric_spec and load.metric_columns is metric_columns
    write_table(results_frame([_row("a")]), tmp_path / "results.csv")
    pd.DataFrame({"model": ["m"], "error": ["boom"]}).to_csv(tmp_path / "failures.csv", index=False)
    (tmp_path / "manifest.json").write_text(json.dumps({"dataset": "d"}))
    run = load.load_run(tmp_path)
    assert run.path == run.out_dir == tmp_path and run.manifest == {"dataset": "d"}
    assert not run.ok and list(run.failures.columns)[:2] == ["model", "error"]
    assert set(FAILURE_COLUMNS) <= set(run.failures.columns) and run.failures.loc[0, "song"] == ""
    assert run.metrics == ["beat.f_measure", "timing.feasible_future_visibility_frames"]
    assert run.set_metrics.empty
    (tmp_path / "manifest.json").write_text("[1]")
    with pytest.raises(DataError, match="not a JSON object"):
        read_run(tmp_path)


def test_metric_columns_skip_labels_and_metric_spec_never_guesses() -> None:
    table = pd.DataFrame(
        {"model": ["m"], "embedding.embedder": ["clap"], "ref_source": ["x"], "beat.f_measure": [0.5], "note": [1.0]}
    )
    assert metric_columns(table) == ["beat.f_measure"]
    assert metric_spec("timing.miss_rate").direction == "lower"
    assert metric_spec("timing.feasible_future_visibility_frames").unit == "frames"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unknown = [metric_spec(name, warn=False) for name in ("x.miss_count", "x.quality", "x.latency_ms")]
    assert {(spec.direction, spec.unit) for spec in unknown} == {("higher", "")}
    assert all(spec.range == (-np.inf, np.inf) for spec in unknown)
    with pytest.warns(UserWarning, match="'x.error' is not in the metric registry"):
        assert metric_spec("x.error").direction == "higher"
