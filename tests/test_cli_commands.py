"""The shared pieces of the subcommands (accbench.commands.common) and the train-reference option mapping."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from accbench.cli import build_parser, main
from accbench.commands import common
from accbench.commands import train_reference as train_command
from accbench.errors import ConfigError


def _parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(prog="accbench")
    return parser, parser.add_subparsers(dest="command")


def test_add_command_and_add_group(capsys):
    parser, subparsers = _parser()
    one = common.add_command(subparsers, "one", lambda args: 7, help="the first")
    one.add_argument("--x", type=common.positive_int, default=1)
    actions = common.add_group(subparsers, "many", help="a group", dest="action")
    common.add_command(actions, "act", lambda args: 3, help="an action")
    args = parser.parse_args(["one", "--x", "4"])
    assert args.handler(args) == 7 and args.x == 4
    args = parser.parse_args(["many", "act"])
    assert args.handler(args) == 3
    args = parser.parse_args(["many"])
    assert args.handler(args) == common.EXIT_ERROR == 2
    assert "act" in capsys.readouterr().out  # the group's help lists its actions
    assert "the first" in one.description


def test_description_is_the_handlers_docstring_and_options_reach_fields_by_name():
    parser, subparsers = _parser()

    def handler(args: argparse.Namespace) -> int:
        """Do the thing,
        over two lines."""
        return 0

    command = common.add_command(subparsers, "cmd", handler, help="one line")
    assert command.description == "Do the thing,\nover two lines."
    assert "Do the thing, over two lines." in " ".join(command.format_help().split())

    @dataclasses.dataclass
    class Config:
        on_miss: str = "truncate"
        seed: int = 0

    command.add_argument("--on-miss")
    command.add_argument("--seed", type=int, default=argparse.SUPPRESS)  # not given: the field keeps its default
    command.add_argument("--other")
    args = parser.parse_args(["cmd", "--on-miss", "drop", "--other", "x"])
    assert common.option_fields(Config, args) == {"on_miss": "drop"}
    assert common.option_fields(Config, parser.parse_args(["cmd", "--seed", "3"])) == {"on_miss": None, "seed": 3}


@pytest.mark.parametrize("text", ["0", "-3", "two", "1.5"])
def test_positive_int_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"expected a positive integer, got {text!r}"):
        common.positive_int(text)


def test_shared_argument_definitions():
    parser, _ = _parser()
    defaults = SimpleNamespace(n_boot=500, confidence=0.9, seed=3)
    common.add_bootstrap_arguments(parser, defaults)
    common.add_patterns(parser, "--metric", "metrics")
    common.add_model_arguments(parser)
    args = parser.parse_args(["--model", "m", "--metric", "beat.*", "--metric", "timing.*", "--model-option", "a=1"])
    assert (args.n_boot, args.confidence, args.seed) == (500, 0.9, 3)
    assert args.metric == ["beat.*", "timing.*"] and args.model == "m" and args.model_option == ["a=1"]
    given_only, _ = _parser()
    common.add_bootstrap_arguments(given_only, defaults, given_only=True)
    args = given_only.parse_args(["--seed", "5"])
    assert (args.n_boot, args.confidence, args.seed) == (None, None, 5)
    text = " ".join(given_only.format_help().split())  # a config file decides, else the named default
    assert "(default: the config file's, else 500)" in text and "(default: the config file's, else 0.9)" in text


def test_report_error(capsys):
    assert common.report_error("gate", ConfigError("bad tolerance")) == 2
    assert capsys.readouterr().err == "accbench gate: error: bad tolerance\n"


def test_every_command_registers_and_groups_print_help(capsys):
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices
    expected = {"simulate", "run", "score", "data", "report", "gate", "baseline", "models", "profile"}
    assert expected | {"train-reference"} <= set(choices)
    assert main(["data"]) == 2 and main(["baseline"]) == 2
    assert "usage: accbench data" in capsys.readouterr().out


def _train_reference_args(argv: list[str]) -> argparse.Namespace:
    parser, subparsers = _parser()
    train_command.register(subparsers)
    return parser.parse_args(["train-reference", "--future-visibility", "-2", "--chunk-frames", "3", *argv])


def test_train_reference_options_are_training_config_fields(monkeypatch, tmp_path, capsys):
    from accbench.models import reference_training
    from accbench.models.reference_training import TrainingConfig

    calls = []

    def fake(future_visibility, chunk_frames, out, *, config, progress):
        calls.append((future_visibility, chunk_frames, out, config, progress))
        return reference_training.TrainingResult(Path(out) / "tf-2_k3.pt", {})

    monkeypatch.setattr(reference_training, "train_reference", fake)
    args = _train_reference_args(["--out", str(tmp_path), "--epochs", "2", "--learning-rate", "0.01", "--quiet"])
    assert train_command.run(args) == 0
    (future, chunk, out, config, progress), = calls  # fmt: skip
    assert (future, chunk, out, progress) == (-2, 3, tmp_path, None)
    assert config == TrainingConfig(epochs=2, learning_rate=0.01)
    assert capsys.readouterr().out.strip() == str(tmp_path / "tf-2_k3.pt")

    fields = {field.name for field in dataclasses.fields(TrainingConfig)}
    dests = {flag[2:].replace("-", "_") for flag, _, _ in train_command.TRAINING_OPTIONS}
    assert dests <= fields
    defaults = TrainingConfig()
    for flag, _, text in train_command.TRAINING_OPTIONS:  # the help names TrainingConfig's default
        stated = re.search(r"\(default:? ([-0-9.e]+)", text)
        if stated:
            assert float(stated.group(1)) == getattr(defaults, flag[2:].replace("-", "_")), flag
    with pytest.raises(SystemExit):
        _train_reference_args(["--out", str(tmp_path), "--threads", "0"])
