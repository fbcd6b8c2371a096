"""Wall time of the default ``accbench run`` and where it goes (issue: sweeps).

Runs the embedded default sweep (demo set, built-in baselines, the default grid) with a fresh analysis cache
into a temporary folder, and prints the wall time, the worker-seconds split (analyse / simulate / score /
write) and the number of song analyses. Goal: under 3 minutes on 2 cores; G configs x S songs cost S
reference analyses, not G x S.

    python benchmarks/sweep_speed.py [--workers 2] [--keep-cache]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--keep-cache", action="store_true", help="reuse ACCBENCH_CACHE (demo audio and analyses)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        if not args.keep_cache:
            os.environ["ACCBENCH_CACHE"] = str(Path(folder) / "cache")
        from accbench.config import load_sweep_config
        from accbench.runner import sweep

        config = load_sweep_config(None)
        began = time.perf_counter()
        run = sweep(config, out=Path(folder) / "out", workers=args.workers, progress=False)
        wall = time.perf_counter() - began
        seconds = run.manifest.get("worker_seconds", {})
        songs = len(run.manifest["songs"])
        print(
            f"default sweep: {len(run.manifest['models'])} models x {config.grid.size} configs x {songs} songs "
            f"= {run.manifest['tasks']['total']} tasks, {len(run.failures)} failed, {args.workers} workers"
        )
        print(f"wall time: {wall:.1f} s (goal < 180 s)")
        total = sum(seconds.values()) or 1.0
        for key in ("analyse", "simulate", "score", "write"):
            value = seconds.get(key, 0.0)
            print(f"  {key:<9} {value:7.1f} worker-s ({100 * value / total:4.1f} %)")


if __name__ == "__main__":
    main()
