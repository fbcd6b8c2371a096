"""Reproduce the seed paper's trends with the reference Transformer: train the (t_f, k) grid, sweep, report.

One command, from the repository root::

    python examples/reproduce_tradeoffs.py --jobs 2 --workers 2

1. Trains one checkpoint per (future_visibility, chunk_frames) point of ``examples/reproduce_tradeoffs.toml`` on
   the demo train split (``accbench train-reference`` for each; ``--jobs`` points in parallel, one thread each),
   skipping points whose checkpoint already exists with the same training settings.
2. Runs that sweep (reference model, follower, oracle-delayed) on the test split with the sweep runner.
3. Writes the report (``accbench report``) and ``trends.md``: the reference model's mean metrics per (t_f, k),
   with the mean recency gap, and the training losses of each point.

Everything lands under ``--out`` (default ``accbench-out/tradeoffs``). Interrupted runs resume.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
TREND_METRICS = (
    "harmony.majmin",
    "harmony.chord_tone_ratio",
    "beat.f_measure",
    "reaction.chord_median_s",
)


def _train_point(point: tuple[int, int], out: str, settings: dict[str, Any]) -> dict[str, Any]:
    from accbench.models.reference_training import train_reference

    future_visibility, chunk_frames = point

    def progress(line: str) -> None:
        print(f"[t_f={future_visibility} k={chunk_frames}] {line}", file=sys.stderr, flush=True)

    result = train_reference(future_visibility, chunk_frames, out, progress=progress, **settings)
    return {"point": point, "path": str(result.path), "config": result.config}


def _existing(path: Path, settings: dict[str, Any]) -> bool:
    summary = path.with_suffix(".json")
    if not (path.is_file() and summary.is_file()):
        return False
    training = json.loads(summary.read_text())["training"]
    compared = {key: value for key, value in settings.items() if key not in ("device", "threads")}
    return all(training.get(key) == value for key, value in compared.items() if key in training)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=HERE / "reproduce_tradeoffs.toml")
    parser.add_argument("--out", type=Path, default=Path("accbench-out/tradeoffs"))
    parser.add_argument("--songs", type=int, default=None, help="train songs (default: all 305)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--test-songs", type=int, default=None, help="test songs (default: the config's)")
    parser.add_argument("--jobs", type=int, default=2, help="grid points trained in parallel")
    parser.add_argument("--workers", type=int, default=2, help="sweep worker processes")
    parser.add_argument("--device", default="auto", help="training device: auto (default), cpu or cuda")
    parser.add_argument("--future-visibility", type=int, nargs="+", help="override the config's t_f values (frames)")
    parser.add_argument("--chunk-frames", type=int, nargs="+", help="override the config's k values (frames)")
    parser.add_argument(
        "--anticipation-weight", type=float, default=0.0, help="train with the anticipatory objective (default 0: off)"
    )
    parser.add_argument("--max-steps", type=int, default=None, help="cap steps per point (smoke runs)")
    args = parser.parse_args(argv)

    from accbench.models.reference_model import checkpoint_name
    from accbench.models.reference_training import load_training_data
    from accbench.reports.build import build_report
    from accbench.runner import sweep

    config = tomllib.loads(args.config.read_text())
    checkpoints = args.out / "checkpoints"
    config["models"][0]["options"]["checkpoint"] = str(checkpoints)
    if args.future_visibility:
        config["grid"]["future_visibility"] = args.future_visibility
    if args.chunk_frames:
        config["grid"]["chunk_frames"] = args.chunk_frames
    if args.test_songs is not None:
        config["dataset"]["options"]["songs"] = args.test_songs
    points = [(int(f), int(k)) for f in config["grid"]["future_visibility"] for k in config["grid"]["chunk_frames"]]
    settings = {
        "epochs": args.epochs,
        "songs": args.songs,
        "device": args.device,
        "threads": 1,
        "anticipation_weight": args.anticipation_weight,
    }
    if args.max_steps is not None:
        settings["max_steps"] = args.max_steps

    started = time.perf_counter()
    # Render and analyse the training data once, in this process; the workers read the cache.
    load_training_data("train", args.songs, progress=lambda line: print(line, file=sys.stderr, flush=True))
    load_training_data("valid", 8)
    todo = [p for p in points if not _existing(checkpoints / checkpoint_name(*p), settings)]
    print(f"training {len(todo)} of {len(points)} grid points", file=sys.stderr)
    if todo:
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for done in pool.map(_train_point, todo, [str(checkpoints)] * len(todo), [settings] * len(todo)):
                print(f"trained {done['point']}: {done['config']['training']['seconds']:.0f} s", file=sys.stderr)
    trained = time.perf_counter()

    run_dir = args.out / "run"
    run = sweep(config, out=run_dir, workers=args.workers)
    swept = time.perf_counter()
    build_report(run_dir)
    text = trends_markdown(run.results, checkpoints, points)
    (args.out / "trends.md").write_text(text)
    print(text)
    timings = f"training {trained - started:.0f} s, sweep {swept - trained:.0f} s"
    print(f"{timings}, report {time.perf_counter() - swept:.0f} s", file=sys.stderr)
    return 0 if run.ok else 1


def _markdown(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table of a DataFrame (no optional dependency)."""
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def trends_markdown(results: pd.DataFrame, checkpoints: Path, points: list[tuple[int, int]]) -> str:
    """The per-(t_f, k) means of the trend metrics for every model, and the reference model's training losses."""
    metrics = [m for m in TREND_METRICS if m in results.columns]
    table = (
        results.groupby(["model", "future_visibility_frames", "chunk_frames"])[metrics].mean().round(3).reset_index()
    )
    table.insert(
        3, "recency_gap_s", ((table["chunk_frames"] * 441 - 1) / 2 - table["future_visibility_frames"] * 441) / 22050
    )
    table["recency_gap_s"] = table["recency_gap_s"].round(3)
    lines = ["## Mean over test songs per (t_f, k)", "", _markdown(table), "", "## Training", ""]
    rows = []
    from accbench.models.reference_model import checkpoint_name

    for point in points:
        summary = checkpoints / checkpoint_name(*point)
        summary = summary.with_suffix(".json")
        if not summary.is_file():
            continue
        training = json.loads(summary.read_text())["training"]
        history = training["history"]
        rows.append(
            {
                "t_f": point[0],
                "k": point[1],
                "steps": training["steps"],
                "seconds": training["seconds"],
                "first_loss": round(training["first_loss"], 3),
                "train_loss_per_epoch": ", ".join(f"{h['train_loss']:.3f}" for h in history),
                "valid_loss_per_epoch": ", ".join(
                    "-" if h["valid_loss"] is None else f"{h['valid_loss']:.3f}" for h in history
                ),
            }
        )
    lines.append(_markdown(pd.DataFrame(rows)) if rows else "(no checkpoints)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
