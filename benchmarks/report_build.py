"""Report build time and size of a run folder: wall and CPU seconds per stage, report.html and run folder MB.

Usage::

    accbench run --out accbench-out            # the default sweep (or any run folder)
    python benchmarks/report_build.py accbench-out

Targets (issue 16): report.html <= 5 MB, build <= 10 s on 2 cores, run folder <= 50 MB. Timings on a shared
machine swing: the CPU seconds of this process are the steadier figure.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from accbench.reports.build import build_report


def _mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--repeat", type=int, default=2, help="builds (the first warms caches and imports)")
    args = parser.parse_args()
    size_before = _mb(args.run_dir)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "run"
        shutil.copytree(args.run_dir, copy, ignore=shutil.ignore_patterns("report.*", "plots", "summary.csv"))
        for attempt in range(args.repeat):
            wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
            files = build_report(copy)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            children = _children_cpu() - children
            print(
                f"build {attempt + 1}: {wall:.1f} s wall; CPU {cpu:.1f} s here + {children:.1f} s in drawing "
                f"workers; {len(files.plots)} plot files; report.html {_mb(files.html):.2f} MB"
            )
        print(f"run folder: {size_before:.1f} MB before the report, {_mb(copy):.1f} MB with it")


if __name__ == "__main__":
    main()
