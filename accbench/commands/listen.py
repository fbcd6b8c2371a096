"""``accbench listen``: a pairwise listening study of a run's systems, and its analysis.

- ``accbench listen build RUN_DIR --out STUDY`` writes a static study site from a run folder's audio.
- ``accbench listen serve STUDY --port P`` serves it on 127.0.0.1 and records each answer as it comes.
- ``accbench listen analyze STUDY [ANSWERS ...]`` writes win rates, Bradley-Terry strengths, the seed
  paper's tests and each metric's agreement with the listeners.
- ``accbench listen simulate STUDY`` writes answers of simulated listeners, to rehearse the analysis.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accbench.commands.common import add_bootstrap_arguments, add_command, add_group, add_patterns, option_fields
from accbench.errors import ConfigError
from accbench.listen.analyze import AnalysisOptions
from accbench.listen.build import BuildOptions
from accbench.listen.design import CHECK_KINDS
from accbench.listen.render import FORMATS

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``listen`` (with ``build``, ``serve``, ``analyze`` and ``simulate``) to the CLI."""
    actions = add_group(
        subparsers,
        "listen",
        help="a pairwise listening study of a run: build the site, serve it, analyse the answers",
        dest="listen_command",
        description=__doc__.split("\n\n")[0],
    )
    _register_build(actions)
    serve = add_command(actions, "serve", _run_serve, help="serve a study on 127.0.0.1 and record the answers")
    serve.add_argument("study", type=Path, help="the study folder (from 'listen build')")
    serve.add_argument("--port", type=int, default=8000, help="TCP port on 127.0.0.1 (default 8000; 0: any free)")
    _register_analyze(actions)
    _register_simulate(actions)


def _register_build(actions: argparse._SubParsersAction) -> None:
    d = BuildOptions()
    build = add_command(actions, "build", _run_build, help="write a listening-study site from a run folder")
    build.add_argument("run_dir", type=Path, help="the sweep's output folder (results table and audio/)")
    build.add_argument("--out", type=Path, help="the study folder (default: RUN_DIR/listening-study)")
    add_patterns(build, "--model", "models to compare, e.g. 'follower' (repeatable; default all)", dest="models")
    add_patterns(build, "--config", "config ids to compare (repeatable; default all)", dest="configs")
    add_patterns(build, "--song", "songs to use (repeatable; default all with audio)", dest="songs")
    build.add_argument("--trials", type=int, help="comparisons, a multiple of the pairs (default: every pair per song)")
    build.add_argument("--checks", type=int, default=d.checks, help="attention checks to add (default 0)")
    build.add_argument(
        "--check-kind",
        dest="check_kinds",
        action="append",
        choices=CHECK_KINDS,
        help="kind of attention check, used in turn (repeatable; default: silence and mismatch)",
    )
    build.add_argument("--excerpt-seconds", type=float, default=d.excerpt_seconds, help="clip length (default 10)")
    build.add_argument("--start-seconds", type=float, help="excerpt start in every song (default: its middle)")
    build.add_argument("--sample-rate", type=int, default=d.sample_rate, help="clip rate, Hz (default 22050)")
    build.add_argument("--audio-format", choices=tuple(FORMATS), default=d.audio_format, help="clip format (mp3)")
    build.add_argument("--target-lufs", type=float, default=d.target_lufs, help="clip loudness, LUFS (default -23)")
    build.add_argument("--no-ratings", dest="ratings", action="store_false", help="ask only the preference")
    build.add_argument("--seed", type=int, default=d.seed, help="seed of the design (default 0)")
    build.add_argument("--title", default=d.title, help="study title shown to participants")


def _register_analyze(actions: argparse._SubParsersAction) -> None:
    d = AnalysisOptions()
    analyze = add_command(actions, "analyze", _run_analyze, help="analyse a study's answers against the metrics")
    analyze.add_argument("study", type=Path, help="the study folder")
    analyze.add_argument("answers", nargs="*", type=Path, help="answers files or folders (default: STUDY/answers)")
    analyze.add_argument("--out", type=Path, help="write the files here (default: STUDY/analysis)")
    add_bootstrap_arguments(analyze, d)
    analyze.add_argument(
        "--max-failed-checks",
        type=int,
        default=d.max_failed_checks,
        help=f"leave out participants failing more attention checks (default {d.max_failed_checks})",
    )
    analyze.add_argument(
        "--prior",
        type=float,
        default=d.prior,
        help=f"Bradley-Terry pseudo-wins per direction of each compared pair (default {d.prior:g}; 0: plain MLE)",
    )


def _register_simulate(actions: argparse._SubParsersAction) -> None:
    simulate = add_command(actions, "simulate", _run_simulate, help="write answers of simulated listeners")
    simulate.add_argument("study", type=Path, help="the study folder")
    simulate.add_argument("--out", type=Path, help="answers folder (default: STUDY/simulated)")
    simulate.add_argument("--participants", type=int, default=24, help="simulated listeners (default 24)")
    simulate.add_argument(
        "--strength",
        action="append",
        default=[],
        metavar="SYSTEM=THETA",
        help="Bradley-Terry log-strength of a system (repeatable; unnamed systems get 0)",
    )
    simulate.add_argument("--from-metric", help="strengths from a metric: its z-scored system means (better is up)")
    simulate.add_argument("--lapse", type=float, default=0.0, help="probability of failing each attention check")
    simulate.add_argument("--seed", type=int, default=0, help="seed of the simulated choices (default 0)")


def _run_build(args: argparse.Namespace) -> int:
    """Choose a balanced set of pairwise trials among a run's systems (model x config), render the same
    excerpt of every system as input + accompaniment (loudness-matched, compressed) and write a static,
    self-contained study site: open STUDY/index.html directly or serve it with 'accbench listen serve'.
    """
    from accbench.listen.build import build_study

    given = option_fields(BuildOptions, args)
    given["check_kinds"] = tuple(args.check_kinds or CHECK_KINDS)
    study = build_study(args.run_dir, args.out or args.run_dir / "listening-study", BuildOptions(**given))
    checks = sum(1 for t in study.trials if t.check)
    print(f"systems ({len(study.systems)}): {', '.join(s.label for s in study.systems)}")
    print(f"songs with audio of every system ({len(study.songs)}): {', '.join(study.songs)}")
    for song, reason in study.skipped_songs.items():
        print(f"  skipped {song}: {reason}")
    if study.skipped_songs:
        print('  (rerun the sweep with write_audio = "all" to keep audio of every song)')
    print(
        f"{len(study.trials) - checks} comparisons + {checks} attention checks, "
        f"{study.clip_bytes / 1e6:.2f} MB of audio, {study.seconds:.1f} s -> {study.folder / 'index.html'}"
    )
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    """Serve the study page and clips on 127.0.0.1 and append every answer to STUDY/answers/<participant>.jsonl
    (atomically; duplicates and bad answers are refused with 409 and 400). Stop with Ctrl-C.
    """
    from accbench.listen.serve import make_server

    server = make_server(args.study, args.port)
    host, port = server.server_address[:2]
    print(f"serving {args.study} on http://{host}:{port}/  (answers -> {server.answers_dir}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(f"stopped; {len(server.recorded)} answers recorded", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def _run_analyze(args: argparse.Namespace) -> int:
    """Read the answers (downloaded files, the server's answers/ folder), leave out participants who failed
    the attention checks, and write win rates and Bradley-Terry strengths with bootstrap intervals, the seed
    paper's tests (Kruskal-Wallis, pairwise Wilcoxon with Bonferroni) and each metric's agreement with the
    listeners (pairwise accuracy, Kendall tau) as Markdown, CSV and a figure; prints the Markdown.
    """
    from accbench.listen.analyze import analyze_study
    from accbench.listen.report import render_markdown, write_analysis

    options = AnalysisOptions(**option_fields(AnalysisOptions, args))
    if not 0 < options.confidence < 1:
        raise ConfigError(f"--confidence must be in (0, 1), got {options.confidence}")
    analysis = analyze_study(args.study, args.answers, options)
    files = write_analysis(analysis, args.out or args.study / "analysis")
    print(render_markdown(analysis))
    print(f"wrote {files.markdown}, {len(files.tables)} CSV tables and {files.figure}", file=sys.stderr)
    return 0


def _strengths(args: argparse.Namespace, design: dict) -> dict[str, float]:
    import numpy as np

    labels = [s["label"] for s in design["systems"]]
    strengths = dict.fromkeys(labels, 0.0)
    if args.from_metric:
        entry = design["metrics"].get(args.from_metric)
        if entry is None:
            raise ConfigError(f"the study has no metric {args.from_metric!r}; it has: {', '.join(design['metrics'])}")
        sign = 1.0 if entry["direction"] == "higher" else -1.0
        means = np.array([sign * np.mean(list(entry["values"][label].values())) for label in labels])
        spread = means.std() or 1.0
        strengths.update(zip(labels, ((means - means.mean()) / spread).tolist(), strict=True))
    for item in args.strength:
        label, sep, value = item.rpartition("=")
        if not sep or label not in strengths:
            raise ConfigError(f"--strength expects SYSTEM=THETA with SYSTEM one of {', '.join(labels)}, got {item!r}")
        try:
            strengths[label] = float(value)
        except ValueError:
            raise ConfigError(f"--strength {item!r}: THETA must be a number") from None
    return strengths


def _run_simulate(args: argparse.Namespace) -> int:
    """Write one answers file per simulated listener who chooses by a Bradley-Terry model (given strengths or
    a metric's), for rehearsing 'listen analyze' before the real study.
    """
    from accbench.listen.answers import load_study
    from accbench.listen.simulate import simulate_answers, write_simulated

    design = load_study(args.study)
    documents = simulate_answers(
        design, _strengths(args, design), participants=args.participants, seed=args.seed, lapse=args.lapse
    )
    paths = write_simulated(documents, args.out or args.study / "simulated")
    print(f"wrote {len(paths)} answers files in {paths[0].parent if paths else args.out}")
    return 0
