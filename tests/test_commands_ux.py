"""What a newcomer reads first: the help texts of the commands and the README's lists match the behaviour."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from accbench.commands import common
from accbench.commands import data as data_command
from accbench.datasets.demo import VARIED_TEMPO_RANGE_BPM, varied_tempo
from accbench.models import BUILTIN_MODELS

README = Path(__file__).resolve().parents[1] / "README.md"


def _help(register, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="accbench")
    register(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_demo_tempo_help_says_each_chorale_has_its_own_tempo(capsys):
    text = _help(data_command.register, ["data", "demo"], capsys)
    low, high = VARIED_TEMPO_RANGE_BPM
    assert "90 for every song" not in text
    assert f"'varied' (default): each chorale its own fixed tempo, {low}-{high} BPM derived from its id" in text
    tempos = {varied_tempo(f"bwv{number}") for number in range(250, 290)}
    assert len(tempos) > 10 and all(low <= tempo <= high for tempo in tempos)  # what the help promises


def test_demo_tempo_option_accepts_bpm_varied_and_score():
    assert data_command._tempo("72.5") == 72.5
    assert data_command._tempo("varied") == "varied" and data_command._tempo("score") == "score"
    with pytest.raises(argparse.ArgumentTypeError, match="beats per minute, 'varied' or 'score', got 'fast'"):
        data_command._tempo("fast")


def test_bootstrap_and_delay_arguments_explain_themselves_and_their_defaults():
    parser = argparse.ArgumentParser()
    defaults = argparse.Namespace(n_boot=500, confidence=0.9, seed=3)
    common.add_bootstrap_arguments(parser, defaults)
    common.add_delay_arguments(parser)
    helps = {action.dest: action.help for action in parser._actions}
    assert helps["n_boot"] == "bootstrap resamples of the confidence intervals (default 500)"
    assert helps["confidence"] == "coverage of the confidence intervals, in (0, 1) (default 0.9)"
    assert helps["seed"] == "seed of the bootstrap resampling (default 3)"
    assert "L_in" in helps["input_latency_ms"] and "default 0" in helps["input_latency_ms"]
    assert "L_out" in helps["output_latency_ms"] and "default 0" in helps["output_latency_ms"]
    args = parser.parse_args([])
    assert (args.n_boot, args.confidence, args.seed, args.input_latency_ms, args.output_latency_ms) == (
        500,
        0.9,
        3,
        0.0,
        0.0,
    )
    given_only = argparse.ArgumentParser()
    common.add_bootstrap_arguments(given_only, defaults, given_only=True)
    assert given_only.parse_args([]).n_boot is None
    assert "(default: the config file's, else 500)" in " ".join(given_only.format_help().split())


def test_readme_lists_every_built_in_model():
    text = README.read_text(encoding="utf-8")
    baselines = text.split("## Baselines", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in BUILTIN_MODELS if not re.search(rf"`{re.escape(name)}`", baselines)]
    assert not missing, f"README 'Baselines' lacks {missing}"


def test_readme_says_what_score_prints_by_default():
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "prints every metric." not in text
    assert "(`beat`, `harmony`, `reaction`, and `timing` with `--events`)" in text
