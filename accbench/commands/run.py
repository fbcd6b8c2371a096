"""``accbench run``: sweep models x (t_f, k, latency) x songs and write the results table."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from accbench.commands.common import add_command

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``run`` to the CLI."""
    parser = add_command(
        subparsers, "run", run, help="run a sweep (default: demo set, built-in baselines, a small grid)"
    )
    parser.add_argument("--config", type=Path, help="sweep TOML file (default: the embedded demo sweep)")
    parser.add_argument("--out", type=Path, help="output folder (overrides the config's 'out')")
    parser.add_argument(
        "--dataset",
        metavar="SPEC",
        help="dataset spec, e.g. demo-band (overrides the config's [dataset] spec; its options stay)",
    )
    parser.add_argument("--executor", choices=["local", "serial", "ray"], default="local")
    parser.add_argument("--workers", type=int, help="worker processes (local) or actors per model (ray)")
    parser.add_argument("--address", help="Ray cluster address, e.g. 'auto' (with --executor ray)")
    parser.add_argument("--cache-dir", type=Path, help="analysis cache (default $ACCBENCH_CACHE or ~/.cache/accbench)")
    parser.add_argument("--retry-failed", action="store_true", help="run again the tasks that failed before")
    parser.add_argument("--overwrite", action="store_true", help="replace results of a different sweep in --out")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only warnings and errors (CI)")
    files = parser.add_argument_group("the seed paper's checkpoint files (override the config's keys)")
    files.add_argument("--cocola-checkpoint", type=Path, help="COCOLA_HP_v1 .ckpt (cocola_checkpoint)")
    files.add_argument("--vggish-weights", type=Path, help="vggish-10086976.pth (vggish_weights)")
    files.add_argument("--beat-this-checkpoint", help="Beat This .ckpt or a name such as final0 (beat_this_checkpoint)")


def _file_or_name(value: str | None) -> Path | str | None:
    """A Beat This checkpoint argument: a file path (``/`` or a suffix in it) as a Path, a name (final0) as is."""
    return Path(value) if value is not None and ("/" in value or Path(value).suffix) else value


def run(args: argparse.Namespace) -> int:
    """Run every model on every song at every grid point; resumes an interrupted run of the same sweep.

    Exit status: 0 all tasks succeeded, 1 some failed, 2 error.
    """
    from accbench.config import load_sweep_config
    from accbench.executors import make_executor
    from accbench.runner import sweep

    config = load_sweep_config(args.config)
    if args.dataset:
        config = dataclasses.replace(config, dataset=dataclasses.replace(config.dataset, spec=args.dataset))
    files = {  # command-line paths are relative to the working directory, not to the config file
        key: str(value.absolute()) if isinstance(value, Path) else value
        for key, value in (
            ("cocola_checkpoint", getattr(args, "cocola_checkpoint", None)),
            ("vggish_weights", getattr(args, "vggish_weights", None)),
            ("beat_this_checkpoint", _file_or_name(getattr(args, "beat_this_checkpoint", None))),
        )
        if value is not None
    }
    config = dataclasses.replace(config, **files) if files else config
    result = sweep(
        config,
        out=args.out,
        executor=make_executor(args.executor, args.workers, args.address),
        cache_dir=args.cache_dir,
        retry_failed=args.retry_failed,
        overwrite=args.overwrite,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    tasks = result.manifest.get("tasks", {})
    print(
        f"{tasks.get('succeeded', len(result.results))} of {tasks.get('total', '?')} tasks succeeded, "
        f"{len(result.failures)} failed -> {result.out_dir}"
    )
    for failure in result.failures.head(10).itertuples():
        print(f"  FAILED {failure.model} {failure.config_id} {failure.song}: {failure.error}")
    if len(result.failures) > 10:
        print(f"  ... {len(result.failures) - 10} more in {result.out_dir / 'failures.csv'}")
    return 0 if result.ok else 1
