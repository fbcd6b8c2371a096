"""What ``accbench gate`` prints: a verdict line first, the regressions only, one message for changed configs.

The Markdown and JUnit files keep every check (see ``test_gate.py``); these tests pin the terminal summary.
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from test_report_support import make_manifest, make_results, register_specs, write_run

from accbench.commands import gate as gate_command
from accbench.reports.baseline import load_baseline, save_baseline
from accbench.reports.gate import (
    EXIT_ERROR,
    EXIT_PASS,
    EXIT_REGRESSION,
    GateConfig,
    config_change_message,
    run_gate,
    to_terminal,
)
from accbench.reports.load import load_run

#: 6 models x 36 configs x 6 metrics = 1296 checks.
LARGE = {
    "models": ("follower", "mymodel", "third", "fourth"),
    "future_visibility": tuple(range(-4, 5)),
    "chunk_frames": (2, 3, 5, 8),
}
SMALL = {"future_visibility": (-2, 0), "chunk_frames": (2,), "baselines": ("silence",)}


@pytest.fixture(autouse=True)
def _specs() -> None:
    register_specs()


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="accbench")
    gate_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def _saved(tmp_path: Path, table: pd.DataFrame) -> tuple[Path, Path]:
    folder = write_run(tmp_path / "base", table)
    save_baseline(load_run(folder), tmp_path / "baseline.json")
    return folder, tmp_path / "baseline.json"


def _changed_latency(table_kwargs: dict) -> pd.DataFrame:
    """The same sweep with a slower model: a new latency, hence new config ids (the id hashes the latency)."""
    table = make_results(**table_kwargs, inference_ms=25.0)
    table["config_id"] = table["config_id"] + "_slow"
    return table


def test_a_passing_1000_check_gate_prints_a_few_lines_starting_with_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, baseline = _saved(tmp_path, make_results(**LARGE))
    markdown = tmp_path / "gate.md"
    assert _cli(["gate", str(base), "--baseline", str(baseline), "--markdown", str(markdown)]) == EXIT_PASS
    out = capsys.readouterr().out.strip().splitlines()
    checks = len(run_gate(load_run(base), load_baseline(baseline)).verdicts)
    assert checks >= 1000
    assert len(out) < 15, out
    assert out[0] == (
        f"gate: PASS - {checks} checks passed, 0 regressions, 0 skipped (model x config x metric) "
        f"against {baseline}; exit 0"
    )
    # The file keeps the full table: one row per check.
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| ") and "| pass |" in line]
    assert len(rows) == checks


def test_a_regression_shows_in_the_table_and_the_files_keep_every_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, baseline = _saved(tmp_path, make_results(**SMALL))
    worse = write_run(tmp_path / "worse", make_results(**SMALL, quality={"mymodel": -0.4}))
    junit, markdown = tmp_path / "gate.xml", tmp_path / "gate.md"
    argv = ["gate", str(worse), "--baseline", str(baseline), "--junit", str(junit), "--markdown", str(markdown)]
    assert _cli(argv) == EXIT_REGRESSION
    lines = capsys.readouterr().out.strip().splitlines()
    result = run_gate(load_run(worse), load_baseline(baseline))
    n = len(result.regressions)
    assert lines[0].startswith(f"gate: FAIL - {len(result.verdicts) - n} checks passed, {n} regressions, ")
    assert lines[1].startswith("regressions (")
    table = lines[2 : 3 + n]
    header = ["model", "config", "metric", "baseline", "current", "Δ", "mean", "[interval]", "tolerance", "n"]
    assert table[0].split() == header
    assert any(
        re.match(r"\s+mymodel\s+tf-2_k2 \(t_f=-40ms, k=40ms, fixed:15ms\)\s+beat\.f_measure ↑", r) for r in table
    )
    assert all("follower" not in line for line in lines)  # passing checks are not listed
    assert len(lines) == 3 + n
    assert ET.parse(junit).getroot().find("testsuite").get("tests") == str(len(result.verdicts))
    assert "<details><summary>All checks</summary>" in markdown.read_text()


def test_the_regression_table_is_capped(tmp_path: Path) -> None:
    _, baseline = _saved(tmp_path, make_results(**SMALL))
    worse = write_run(tmp_path / "worse", make_results(**SMALL, quality={"mymodel": -0.4, "follower": -0.4}))
    result = run_gate(load_run(worse), load_baseline(baseline))
    assert len(result.regressions) > 3
    lines = to_terminal(result, max_rows=3).splitlines()
    assert lines[-1] == f"  ... {len(result.regressions) - 3} more regression(s): --markdown FILE lists them all"
    assert len(lines) == 2 + 1 + 3 + 1


def test_a_run_with_changed_configs_gets_one_message_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, baseline = _saved(tmp_path, make_results(**SMALL))
    manifest = make_manifest(make_results(**SMALL))
    slow = write_run(tmp_path / "slow", _changed_latency(SMALL), manifest=manifest)
    assert _cli(["gate", str(slow), "--baseline", str(baseline)]) == EXIT_ERROR
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("gate: ERROR - 36 checks not comparable, 0 checks passed, 0 regressions")
    assert lines[1:] == [
        "configs differ from the baseline: 6 missing from the run, 6 added; an error (exit 2; --allow-missing "
        "makes it a note)",
        "  missing (in the baseline, not in the run):",
        "    tf+0_k2 (t_f=0ms, k=40ms, fixed:15ms): follower, mymodel, silence",
        "    tf-2_k2 (t_f=-40ms, k=40ms, fixed:15ms): follower, mymodel, silence",
        "  added (not gated):",
        "    tf+0_k2_slow (t_f=0ms, k=40ms, fixed:25ms): follower, mymodel, silence",
        "    tf-2_k2_slow (t_f=-40ms, k=40ms, fixed:25ms): follower, mymodel, silence",
        "  the missing and added configs differ in: latency",
    ]
    assert "missing_config" not in out and "beat.f_measure" not in out  # not one line per metric


def test_allowed_missing_configs_pass_and_still_say_what_changed(tmp_path: Path) -> None:
    _, baseline = _saved(tmp_path, make_results(**SMALL))
    slow = write_run(tmp_path / "slow", _changed_latency(SMALL), manifest=make_manifest(make_results(**SMALL)))
    result = run_gate(load_run(slow), load_baseline(baseline), GateConfig(allow_missing=True))
    assert result.exit_code == EXIT_PASS
    text = to_terminal(result, baseline="b.json")
    assert text.startswith("gate: PASS - 0 checks passed, 0 regressions, 36 skipped")
    assert "6 missing from the run, 6 added; allowed (--allow-missing)" in config_change_message(result)
    # Only added configs (a new config next to the old ones) are not an error either.
    both = pd.concat([make_results(**SMALL), _changed_latency(SMALL)], ignore_index=True)
    extra = run_gate(load_run(write_run(tmp_path / "both", both)), load_baseline(baseline))
    assert config_change_message(extra).startswith("configs differ from the baseline: 0 missing from the run, 6 added")
    assert "differ in" not in config_change_message(extra)


def test_each_kind_of_error_is_one_line_and_notes_are_counted(tmp_path: Path) -> None:
    _, baseline = _saved(tmp_path, make_results(**SMALL))
    fewer = make_results(**SMALL, songs=("song-a", "song-b", "song-c"))
    fewer["model_version"] = "2.0"
    result = run_gate(load_run(write_run(tmp_path / "fewer", fewer)), load_baseline(baseline))
    assert result.exit_code == EXIT_ERROR
    lines = to_terminal(result).splitlines()
    missing = [line for line in lines if line.startswith("error missing_song")]
    assert len(missing) == 1 and "e.g. " in missing[0] and "'song-d'" in missing[0]
    assert lines[-1] == "notes (not errors): model_version 3"
    assert len(lines) < 6
