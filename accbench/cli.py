"""The ``accbench`` command line."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence

from accbench import __version__
from accbench.commands import (
    data,
    doctor,
    gate,
    listen,
    models,
    plot,
    profile,
    report,
    run,
    score,
    simulate,
    train_reference,
)
from accbench.commands.common import report_error
from accbench.errors import AccbenchError

_NEGATIVE = re.compile(r"^-\.?\d")

COMMANDS = (simulate, run, score, data, report, plot, gate, models, profile, train_reference, doctor, listen)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accbench",
        description="Evaluate streaming music-accompaniment models under realistic system delays.",
    )
    parser.add_argument("--version", action="version", version=f"accbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def _join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--future-visibility -200ms`` -> ``--future-visibility=-200ms``.

    argparse reads a token such as ``-200ms`` (a negative duration with a unit) as an unknown option; joining
    it to the option before it lets users write negative durations the natural way.
    """
    joined: list[str] = []
    for token in argv:
        previous = joined[-1] if joined else ""
        if _NEGATIVE.match(token) and previous.startswith("--") and "=" not in previous:
            joined[-1] = f"{previous}={token}"
        else:
            joined.append(token)
    return joined


#: The project's packages, whose loggers follow ``-v`` / ``-q`` even where logging was set up before ``main``.
_LOGGERS = ("accbench", "metrics", "simulators", "reports")


def _log_level(args: argparse.Namespace) -> int:
    """DEBUG with ``-v``, WARNING with a command's ``-q`` (``accbench run -q``), INFO otherwise."""
    if args.verbose:
        return logging.DEBUG
    return logging.WARNING if getattr(args, "quiet", False) else logging.INFO


@contextlib.contextmanager
def _logging(args: argparse.Namespace) -> Iterator[None]:
    """Log to stderr at the level the arguments ask for; the project's loggers get their levels back after."""
    level = _log_level(args)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, previous, strict=True):
            logger.setLevel(old)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    with _logging(args):
        try:
            return int(args.handler(args) or 0)
        except AccbenchError as error:
            return report_error(args.command, error)
        except KeyboardInterrupt:
            print(f"accbench {args.command}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # output piped into a reader that stopped early (| head): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
            return 0


if __name__ == "__main__":
    sys.exit(main())
