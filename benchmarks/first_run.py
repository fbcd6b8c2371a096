"""What the first run costs: cold versus warm wall time of the steps a newcomer's first ``accbench run`` pays.

Usage: ``python benchmarks/first_run.py [--repeat 2] [--steps import,metrics,analysis,demo,run]``

Each step runs in a fresh Python subprocess, with ``NUMBA_CACHE_DIR`` and ``ACCBENCH_CACHE`` pointing at new
temporary folders (numba then reads and writes its on-disk cache there only, not in ``site-packages``):

- **cold**: the first run with empty folders (numba compiles librosa's functions, the demo songs are
  rendered, analyses computed);
- **warm**: the same step again with the folders the cold run filled (best of ``--repeat`` runs).

The steps, each timed inside its subprocess (the imports a step needs, other than its own, are paid before
its clock starts):

- ``import``: ``import accbench``;
- ``metrics``: ``import accbench.metrics``;
- ``analysis``: the first ``beats`` + ``chords`` analysis of a 10 s synthetic signal (librosa import and
  numba compilation or cache loading included; the analysis cache is in memory only);
- ``demo``: rendering (cold) or reading from the cache (warm) the first 4 demo songs;
- ``run``: a tiny ``accbench run`` (1 demo song, ``follower`` and ``oracle-delayed``, 1 grid point, serial),
  the whole command line as a newcomer starts it;
- ``run-local``: the same on 2 songs with the default executor and 2 worker processes (each worker loads
  librosa, and with an empty numba cache each compiles it).

It prints seconds per step, cold minus warm and the cold/warm ratio, and the load average at the start and
the end: the figures are wall times, and on a shared machine they grow with the load.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

_CLOCK = "import time\n_began = time.perf_counter()\n"
_REPORT = "print('SECONDS', time.perf_counter() - _began)\n"

#: step -> (code run before the clock starts, the timed code).
STEPS: dict[str, tuple[str, str]] = {
    "import": ("", "import accbench\n"),
    "metrics": ("import accbench\n", "import accbench.metrics\n"),
    "analysis": (
        "import numpy as np\nfrom accbench.metrics import analysis\nfrom accbench.metrics.cache import AnalysisCache\n"
        "sr = 22050\nt = np.arange(10 * sr) / sr\n"
        "x = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sign(np.sin(2 * np.pi * 2 * t)))).astype(np.float32)\n",
        "cache = AnalysisCache()\nanalysis.beats(x, sr, cache=cache)\nanalysis.chords(x, sr, cache=cache)\n",
    ),
    "demo": (
        "from accbench.datasets.demo import load_demo\n",
        "songs = list(load_demo(4))\n",
    ),
}

#: ``accbench run`` steps -> (demo songs, executor options).
RUN_STEPS: dict[str, tuple[int, list[str]]] = {
    "run": (1, ["--executor", "serial"]),
    "run-local": (2, ["--executor", "local", "--workers", "2"]),
}

_RUN_CONFIG = """\
out = "{out}"
seeds = [0]
metrics = ["beat", "harmony", "timing", "reaction"]
[dataset]
spec = "demo"
options = {{ songs = {songs}, split = "test" }}
[[models]]
spec = "follower"
[[models]]
spec = "oracle-delayed"
[grid]
future_visibility = [0]
chunk_frames = [10]
latency = ["fixed:5ms"]
"""


def _environment(folder: Path) -> dict[str, str]:
    """The subprocess environment: caches under ``folder``, offline, one BLAS thread."""
    env = dict(os.environ)
    env.update(
        NUMBA_CACHE_DIR=str(folder / "numba"),
        ACCBENCH_CACHE=str(folder / "accbench"),
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


def _time_step(step: str, folder: Path) -> float:
    """Wall seconds of one step in a fresh subprocess using the caches under ``folder``."""
    env = _environment(folder)
    if step in RUN_STEPS:
        songs, executor = RUN_STEPS[step]
        config = folder / "tiny.toml"
        out = Path(tempfile.mkdtemp(prefix="out-", dir=folder))  # a new folder each time: nothing to resume
        config.write_text(_RUN_CONFIG.format(out=out.as_posix(), songs=songs))
        command = [sys.executable, "-m", "accbench.cli", "run", "--config", str(config), "-q", *executor]
        code = f"{_CLOCK}import subprocess\nsubprocess.run({command!r}, check=True, capture_output=True)\n{_REPORT}"
    else:
        setup, timed = STEPS[step]
        code = setup + _CLOCK + timed + _REPORT
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired:
        print(f"first_run: step {step!r} ran past 600 s", file=sys.stderr)
        return math.nan
    if done.returncode != 0:  # e.g. workers killed by a broken numba cache (see accbench.metrics.warmup)
        print(f"first_run: step {step!r} failed:\n{textwrap.indent(done.stderr[-3000:], '  ')}", file=sys.stderr)
        return math.nan
    return float(done.stdout.split("SECONDS")[-1])


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def measure(steps: list[str], repeat: int) -> list[tuple[str, float, float]]:
    """Cold and best-of-``repeat`` warm wall seconds of each step, each with its own fresh cache folders.

    Returns
    -------
    figures : list of (step, cold_s, warm_s)
    """
    figures = []
    for step in steps:
        with tempfile.TemporaryDirectory(prefix=f"accbench-first-run-{step}-") as name:
            folder = Path(name)
            cold = _time_step(step, folder)
            warm = min(_time_step(step, folder) for _ in range(repeat))
        figures.append((step, cold, warm))
        print(f"  {step:<9} cold {cold:6.1f} s  warm {warm:6.1f} s", file=sys.stderr, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="warm runs per step (the best is reported)")
    parser.add_argument("--steps", default="import,metrics,analysis,demo,run,run-local", help="comma-separated steps")
    args = parser.parse_args()
    steps = [step.strip() for step in args.steps.split(",") if step.strip()]
    known = [*STEPS, *RUN_STEPS]
    unknown = [step for step in steps if step not in known]
    if unknown:
        parser.error(f"unknown step(s) {unknown}; known: {known}")
    began_load = _load()
    figures = measure(steps, args.repeat)
    print(f"load average at start {began_load}, at end {_load()}; {os.cpu_count()} CPUs; {sys.version.split()[0]}")
    print(f"{'step':<10}{'cold s':>8}{'warm s':>8}{'cold-warm s':>13}{'cold/warm':>11}")
    for step, cold, warm in figures:
        print(f"{step:<10}{cold:8.2f}{warm:8.2f}{cold - warm:13.2f}{cold / max(warm, 1e-9):11.1f}")


if __name__ == "__main__":
    main()
