"""The regression gate: statistics, verdicts, issues, outputs and the CLI."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from test_report_support import make_manifest, make_results, register_specs, write_run

from accbench.commands import gate as gate_command
from accbench.errors import ConfigError
from accbench.reports.baseline import load_baseline, save_baseline
from accbench.reports.gate import (
    EXIT_ERROR,
    EXIT_PASS,
    EXIT_REGRESSION,
    GateConfig,
    Verdict,
    load_gate_config,
    paired_bootstrap,
    resolve_tolerance,
    run_gate,
    to_junit,
    to_markdown,
)
from accbench.reports.load import load_run

SMALL = {"future_visibility": (-2, 0), "chunk_frames": (2,), "baselines": ("silence",)}


@pytest.fixture(autouse=True)
def _specs() -> None:
    register_specs()


def _baseline(tmp_path: Path, **kwargs: object):
    folder = write_run(tmp_path / "base", make_results(**{**SMALL, **kwargs}))
    save_baseline(load_run(folder), tmp_path / "baseline.json")
    return load_baseline(tmp_path / "baseline.json")


def test_paired_bootstrap_is_seeded_and_degenerate_cases_are_explicit() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=12), rng.normal(size=12)
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
    mean, low, high = paired_bootstrap(a, b, seed=3)
    assert low < mean < high
    assert mean == pytest.approx(float(np.mean(a - b)))
    assert paired_bootstrap(a, a) == (0.0, 0.0, 0.0)
    assert all(np.isnan(paired_bootstrap(np.array([np.nan]), np.array([1.0]))))


def test_tolerance_rules() -> None:
    assert resolve_tolerance(0.03, "beat.f_measure", 0.5) == 0.03
    assert resolve_tolerance("10%", "beat.f_measure", 0.5) == pytest.approx(0.05)
    assert resolve_tolerance("auto", "beat.f_measure", 0.5) == pytest.approx(0.02)  # 2% of the [0, 1] range
    assert resolve_tolerance("auto", "embedding.cosine_mix", 0.5) == pytest.approx(0.04)  # range [-1, 1]
    for bad in ("-1", "abc", "nan%", True):
        with pytest.raises(ConfigError):
            GateConfig(default_tolerance=bad)
    config = GateConfig(tolerance={"timing.*": "10%", "beat.f_measure": 0.1})
    assert config.tolerance_spec("timing.miss_rate") == "10%"
    assert config.tolerance_spec("harmony.majmin") == "auto"


def test_identical_run_passes(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    run = load_run(tmp_path / "base")
    result = run_gate(run, baseline)
    assert result.exit_code == EXIT_PASS, to_markdown(result)
    assert result.verdicts and all(v.status == "pass" for v in result.verdicts)
    assert all(v.delta_low == v.delta_high == 0 for v in result.verdicts)


def test_degraded_model_fails_and_only_it(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    worse = write_run(tmp_path / "worse", make_results(**SMALL, quality={"mymodel": -0.4}))
    result = run_gate(load_run(worse), baseline)
    assert result.exit_code == EXIT_REGRESSION
    failing = {(v.model, v.metric) for v in result.regressions}
    assert {m for m, _ in failing} == {"mymodel"}
    assert ("mymodel", "beat.f_measure") in failing
    # Timing metrics did not change, so they do not regress.
    assert not any(metric.startswith("timing.") for _, metric in failing)
    for verdict in result.regressions:
        assert verdict.delta_mean < 0 and verdict.delta_high < -verdict.tolerance


def test_improvement_is_not_a_regression(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    better = write_run(tmp_path / "better", make_results(**SMALL, quality={"mymodel": 0.8}))
    result = run_gate(load_run(better), baseline)
    assert result.exit_code == EXIT_PASS
    assert any(v.status == "improvement" and v.model == "mymodel" for v in result.verdicts)


def test_lower_is_better_direction(tmp_path: Path) -> None:
    """A higher miss rate is a regression; the same change of a higher-is-better metric would not be."""
    baseline = _baseline(tmp_path, inference_ms=15.0)
    slower = make_results(**SMALL, inference_ms=15.0)
    slower["timing.miss_rate"] = slower["timing.miss_rate"] + 0.2 * (~slower["baseline"])
    result = run_gate(load_run(write_run(tmp_path / "slow", slower)), baseline, GateConfig(metrics=["timing.*"]))
    assert result.exit_code == EXIT_REGRESSION
    assert {v.metric for v in result.regressions} == {"timing.miss_rate"}


def test_same_model_rerun_20_times_never_fails(tmp_path: Path) -> None:
    """Deterministic reruns are identical; noisy reruns (a non-deterministic model) stay within tolerance."""
    baseline = _baseline(tmp_path, noise=0.01, noise_seed=0)
    config = GateConfig(n_boot=500)
    for rerun in range(20):
        table = make_results(**SMALL, noise=0.01, noise_seed=0 if rerun % 2 == 0 else 100 + rerun)
        result = run_gate(load_run(write_run(tmp_path / f"rerun{rerun}", table)), baseline, config)
        assert result.exit_code == EXIT_PASS, f"rerun {rerun}:\n{to_markdown(result)}"


def test_missing_songs_and_configs_are_errors_unless_allowed(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    fewer = make_results(**{**SMALL, "future_visibility": (0,)}, songs=("song-a", "song-b", "song-c"))
    manifest = make_manifest(make_results(**SMALL))  # same hashes for the songs that remain
    folder = write_run(tmp_path / "fewer", fewer, manifest=manifest)
    result = run_gate(load_run(folder), baseline)
    assert result.exit_code == EXIT_ERROR
    kinds = {i.kind for i in result.errors}
    assert {"missing_config", "missing_song"} <= kinds
    allowed = run_gate(load_run(folder), baseline, GateConfig(allow_missing=True))
    assert allowed.exit_code == EXIT_PASS
    assert any(v.status == "skipped" for v in allowed.verdicts)
    assert any(i.kind == "missing_song" and not i.error for i in allowed.issues)


def test_values_that_became_nan_are_missing(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    nan = write_run(tmp_path / "nan", make_results(**SMALL, nan_metrics=("harmony.majmin",)))
    result = run_gate(load_run(nan), baseline)
    assert result.exit_code == EXIT_ERROR
    assert any(i.kind == "no_data" and i.metric == "harmony.majmin" for i in result.errors)


def test_changed_data_and_metric_versions_are_errors_unless_allowed(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    table = make_results(**SMALL)
    manifest = make_manifest(table)
    manifest["songs"]["song-b"] = "sha256:changed"
    manifest["metric_versions"]["beat"] = "2"
    folder = write_run(tmp_path / "changed", table, manifest=manifest)
    result = run_gate(load_run(folder), baseline)
    assert result.exit_code == EXIT_ERROR
    assert {i.kind for i in result.errors} == {"data_changed", "metric_version"}
    relaxed = GateConfig(allow_data_change=True, allow_metric_version_change=True)
    assert run_gate(load_run(folder), baseline, relaxed).exit_code == EXIT_PASS


def test_a_changed_analyzer_is_a_version_change_of_the_metrics_that_read_it(tmp_path: Path) -> None:
    # A run records the analyzer versions (analysis.ANALYZER_VERSIONS); a new beat tracker changes the version
    # of the beat metrics only.
    table = make_results(**SMALL)
    recorded = {"onset_envelope": "2", "beats": "3", "chroma": "2", "chords": "3", "key": "2"}
    old = write_run(tmp_path / "old", table, manifest=make_manifest(table, metric_versions=recorded))
    save_baseline(load_run(old), tmp_path / "baseline.json")
    baseline = load_baseline(tmp_path / "baseline.json")
    assert run_gate(load_run(old), baseline).exit_code == EXIT_PASS
    changed = make_manifest(table, metric_versions={**recorded, "beats": "4", "onset_envelope": "3"})
    folder = write_run(tmp_path / "new", table, manifest=changed)
    result = run_gate(load_run(folder), baseline)
    assert result.exit_code == EXIT_ERROR
    flagged = {i.metric for i in result.errors if i.kind == "metric_version"}
    assert flagged == {"beat.f_measure"}
    assert "beats=3" in next(i.message for i in result.errors if i.kind == "metric_version")


def test_run_without_manifest_is_an_error(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    folder = write_run(tmp_path / "bare", make_results(**SMALL))
    (folder / "manifest.json").unlink()
    result = run_gate(load_run(folder), baseline)
    assert result.exit_code == EXIT_ERROR
    assert result.errors[0].kind == "no_manifest"


def test_metric_and_model_selection(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    worse = load_run(write_run(tmp_path / "worse", make_results(**SMALL, quality={"mymodel": -0.4})))
    assert run_gate(worse, baseline, GateConfig(metrics=["timing.*"])).exit_code == EXIT_PASS
    assert run_gate(worse, baseline, GateConfig(exclude_metrics=["beat.*", "harmony.*", "embedding.*"])).exit_code == 0
    assert run_gate(worse, baseline, GateConfig(models=["follower"])).exit_code == EXIT_PASS
    assert run_gate(worse, baseline, GateConfig(tolerance={"*": 1.0})).exit_code == EXIT_PASS


def test_junit_and_markdown_outputs(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, models=("m|odel<x>",))
    worse = make_results(**SMALL, models=("m|odel<x>",), quality={"m|odel<x>": -0.6})
    result = run_gate(load_run(write_run(tmp_path / "worse", worse)), baseline)
    root = ET.fromstring(to_junit(result))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(result.verdicts) == int(suite.get("tests"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(result.regressions) == int(suite.get("failures")) > 0
    assert failures[0].get("classname").startswith("accbench.gate.m|odel<x>.")
    markdown = to_markdown(result)
    assert "FAIL: regression" in markdown
    assert "m\\|odel&lt;x&gt;" in markdown and "<x>" not in markdown


def test_gate_config_file_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text('[gate]\nmetrics = ["beat.*"]\nn_boot = 300\n[gate.tolerance]\n"beat.f_measure" = 0.05\n')
    config = load_gate_config(path, tolerance={"beat.cemgil": "5%"}, seed=7, allow_missing=None)
    assert config.metrics == ["beat.*"] and config.n_boot == 300 and config.seed == 7
    assert config.tolerance == {"beat.f_measure": 0.05, "beat.cemgil": "5%"}
    assert config.allow_missing is False
    (tmp_path / "bad.json").write_text(json.dumps({"tolerances": {}}))
    with pytest.raises(ConfigError, match="unknown key"):
        load_gate_config(tmp_path / "bad.json")


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="accbench")
    gate_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_baseline_save_and_gate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write_run(tmp_path / "base", make_results(**SMALL))
    baseline = tmp_path / "reports" / "baselines" / "demo.json"
    assert _cli(["baseline", "save", str(base), "--to", str(baseline)]) == 0
    document = json.loads(baseline.read_text())
    assert document["format"] == "accbench-baseline" and document["manifest"]["dataset"] == "synthetic"
    assert _cli(["gate", str(base), "--baseline", str(baseline), "--quiet"]) == EXIT_PASS
    worse = write_run(tmp_path / "worse", make_results(**SMALL, quality={"mymodel": -0.4}))
    junit, markdown = tmp_path / "gate.xml", tmp_path / "gate.md"
    code = _cli(["gate", str(worse), "--baseline", str(baseline), "--junit", str(junit), "--markdown", str(markdown)])
    assert code == EXIT_REGRESSION
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("gate: FAIL - ") and "regressions (" in out and "mymodel" in out
    assert ET.parse(junit).getroot().find("testsuite").get("failures") != "0"
    assert "FAIL" in markdown.read_text()
    tolerant = ["--tolerance", "*=0.5", "--quiet"]
    assert _cli(["gate", str(worse), "--baseline", str(baseline), *tolerant]) == EXIT_PASS
    assert _cli(["gate", str(tmp_path / "nowhere"), "--baseline", str(baseline), "--quiet"]) == EXIT_ERROR
    assert _cli(["gate", str(worse), "--baseline", str(tmp_path / "none.json"), "--quiet"]) == EXIT_ERROR
    assert _cli(["gate", str(worse), "--baseline", str(baseline), "--tolerance", "oops", "--quiet"]) == EXIT_ERROR


def test_a_verdict_that_compared_nothing_has_no_numbers():
    verdict = Verdict("m", "c", "c (k=1ms)", "beat.f_measure", "higher", "", "skipped", baseline_mean=0.5)
    assert verdict.n_songs == 0 and verdict.baseline_mean == 0.5
    numbers = (verdict.current_mean, verdict.delta_mean, verdict.delta_low, verdict.delta_high, verdict.tolerance)
    assert all(np.isnan(numbers))


def test_every_bootstrap_default_comes_from_one_home():
    from accbench.reports import aggregate, baseline, build, html, markdown

    assert (GateConfig().n_boot, GateConfig().confidence) == (aggregate.N_BOOT, aggregate.CONFIDENCE)
    assert (build.ReportOptions().n_boot, build.ReportOptions().confidence) == (aggregate.N_BOOT, aggregate.CONFIDENCE)
    for function in (aggregate.bootstrap_mean, aggregate.aggregate, baseline.make_baseline):
        parameters = inspect.signature(function).parameters
        assert parameters["n_boot"].default == aggregate.N_BOOT
        assert parameters["confidence"].default == aggregate.CONFIDENCE
    for function in (markdown.render_markdown, html.render_html):
        assert inspect.signature(function).parameters["confidence"].default == aggregate.CONFIDENCE


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\xff\xfe", "binary data, not UTF-8 text"),
        (b"", "the file is empty"),
        (b"index,chunk_frames\n0,1\n", "invalid JSON"),
        (b"[1, 2]", "the top level is an array, not an object"),
        (b'{"results": []}', "its 'format' field is None, not 'accbench-baseline'"),
        (b'{"format": "accbench-baseline", "format_version": "one"}', "'format_version' is 'one', not an integer"),
        (b'{"format": "accbench-baseline", "entries": {"a": 1}}', "'entries' is an object, not an array"),
        (b'{"format": "accbench-baseline", "entries": [3]}', "entry 0 is malformed: it is a number, not an object"),
        (b'{"format": "accbench-baseline", "entries": [{"metric": "m"}]}', "entry 0 lacks the key 'model'"),
        (
            b'{"format": "accbench-baseline", "entries": [{"model": "a", "config_id": "c", "metric": "m", '
            b'"values": [0.5]}]}',
            "entry 0 is malformed: 'values' is an array",
        ),
    ],
)
def test_a_file_that_is_no_baseline_is_a_one_line_error_naming_it(tmp_path: Path, content: bytes, detail: str) -> None:
    from accbench.errors import DataError
    from accbench.reports.baseline import NOT_A_BASELINE

    path = tmp_path / "in.wav"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        load_baseline(path)
    message = str(caught.value)
    assert message.startswith(f"file {str(path)!r}: {NOT_A_BASELINE}: {detail}")
    assert "\n" not in message and "codec" not in message
    assert "expected JSON written by 'accbench baseline save'" in message


def test_gate_with_a_wav_as_baseline_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", make_results(**SMALL))
    wav = tmp_path / "in.wav"
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\xff\xfe\x00\x80")
    assert _cli(["gate", str(run), "--baseline", str(wav), "--quiet"]) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "in.wav" in err and "not an accbench baseline file" in err
    assert err.startswith("accbench gate: error: ")


def test_every_gate_and_baseline_save_option_has_help_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="accbench")
    gate_command.register(parser.add_subparsers(dest="command"))
    for argv in (["gate", "--help"], ["baseline", "save", "--help"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
        text = " ".join(capsys.readouterr().out.split())
        for flag, default in (("--n-boot N", "2000"), ("--confidence P", "0.95"), ("--seed SEED", "0")):
            assert re.search(rf"{flag} [a-z][^-]*\(default[^)]*{re.escape(default)}\)", text), (argv, flag)
    subparsers = parser._subparsers._group_actions[0]
    save = subparsers.choices["baseline"]._subparsers._group_actions[0].choices["save"]
    for command in (subparsers.choices["gate"], save):
        for action in command._actions:
            if action.option_strings and action.dest != "help" and not action.required:
                assert action.help and "default" in action.help, (command.prog, action.option_strings)
