"""What the subcommands share: making a subcommand, the argument definitions several of them take, exit codes.

Every subcommand module has ``register(subparsers)``; it makes its parser with :func:`add_command` (or a group of
actions with :func:`add_group`) and takes the shared arguments from here, so that an option is spelled, typed
and explained once. A command is declared by its name, its one-line ``help`` and its handler, whose docstring
is the description ``accbench COMMAND --help`` prints. Options named like the fields of a config dataclass
reach it by name (:func:`option_fields`).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "EXIT_ERROR",
    "add_bootstrap_arguments",
    "add_command",
    "add_delay_arguments",
    "add_group",
    "add_model_arguments",
    "add_patterns",
    "option_fields",
    "positive_int",
    "report_error",
]

#: Exit status of a command that stopped on an error (bad input, bad config); also argparse's usage error.
EXIT_ERROR = 2

Handler = Callable[[argparse.Namespace], int]


def add_command(
    subparsers: argparse._SubParsersAction, name: str, handler: Handler, *, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` run by ``handler(args) -> exit status``; returns its parser for the arguments.

    The description under the usage line is ``description``, else the handler's docstring, else ``help``
    (argparse folds its white space, so a docstring reads as one paragraph).
    """
    description = description or inspect.getdoc(handler) or help
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def add_group(
    subparsers: argparse._SubParsersAction, name: str, *, help: str, dest: str, description: str | None = None
) -> argparse._SubParsersAction:
    """Add ``name`` with actions (``accbench data demo``); without an action it prints its help and exits 2.

    Returns the subparsers to :func:`add_command` the actions to.
    """
    parser = subparsers.add_parser(name, help=help, description=description or help)
    actions = parser.add_subparsers(dest=dest, metavar="ACTION")

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return EXIT_ERROR

    parser.set_defaults(handler=usage)
    return actions


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model SPEC`` (required) and repeatable ``--model-option KEY=VALUE`` (read with ``parse_model_options``)."""
    parser.add_argument("--model", required=True, help="built-in name, package.module:factory, adapter spec or plugin")
    parser.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option for the model factory (repeatable; VALUE is parsed as JSON when possible)",
    )


def add_delay_arguments(parser: argparse.ArgumentParser) -> None:
    """``--input-latency-ms`` (``L_in``) and ``--output-latency-ms`` (``L_out``): the system's fixed delays.

    Both are floats in milliseconds, default 0, destinations ``input_latency_ms`` and ``output_latency_ms``
    (the field names of :class:`~accbench.simulators.SimulationConfig`).
    """
    parser.add_argument(
        "--input-latency-ms",
        type=float,
        default=0.0,
        help="L_in, ms from a sample being sung to the model being able to read it (capture, transport; default 0)",
    )
    parser.add_argument(
        "--output-latency-ms",
        type=float,
        default=0.0,
        help="L_out, ms a finished chunk needs before it sounds (playback buffer; default 0)",
    )


def option_fields(config_class: type, args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options whose destination is a field of the dataclass ``config_class``, by field name.

    ``--on-miss`` reaches ``on_miss``; an option declared with ``default=argparse.SUPPRESS`` and not given is
    absent, so that field keeps the dataclass's default.
    """
    given = vars(args)
    return {field.name: given[field.name] for field in dataclasses.fields(config_class) if field.name in given}


def add_patterns(parser: argparse.ArgumentParser, flag: str, help: str, *, dest: str | None = None) -> None:
    """A repeatable ``flag PATTERN`` (glob of metric or model names), collected in a list (empty: all).

    ``dest`` names the list (default: from the flag, ``--metric`` -> ``metric``).
    """
    parser.add_argument(flag, action="append", default=[], metavar="PATTERN", help=help, dest=dest)


def add_bootstrap_arguments(parser: argparse.ArgumentParser, defaults: Any, *, given_only: bool = False) -> None:
    """``--n-boot``, ``--confidence`` and ``--seed`` of the seeded bootstrap intervals.

    Parameters
    ----------
    parser : ArgumentParser
    defaults : object
        Has ``n_boot``, ``confidence`` and ``seed`` (e.g. ``ReportOptions()``, ``GateConfig()``): the defaults.
    given_only : bool
        Leave an option that is not given ``None`` (a config file decides), still naming the default in the help.
    """
    for flag, name, kind, metavar, what in (
        ("--n-boot", "n_boot", int, "N", "bootstrap resamples of the confidence intervals"),
        ("--confidence", "confidence", float, "P", "coverage of the confidence intervals, in (0, 1)"),
        ("--seed", "seed", int, "SEED", "seed of the bootstrap resampling"),
    ):
        default = getattr(defaults, name)
        said = f"default: the config file's, else {default}" if given_only else f"default {default}"
        parser.add_argument(
            flag, type=kind, default=None if given_only else default, metavar=metavar, help=f"{what} ({said})"
        )


def report_error(command: str, error: BaseException) -> int:
    """Print ``accbench COMMAND: error: MESSAGE`` on stderr; returns :data:`EXIT_ERROR`."""
    print(f"accbench {command}: error: {error}", file=sys.stderr)
    return EXIT_ERROR
