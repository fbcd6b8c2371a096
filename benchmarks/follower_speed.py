"""How fast the follower runs, and what a subprocess boundary costs per call.

Run: ``python benchmarks/follower_speed.py [--calls N]``. Prints, for chunk sizes k = 1 and k = 50 frames
(20 ms and 1 s at 22050 Hz / hop 441):

- the follower's mean/p95 time per call and how many times faster than real time it runs;
- the per-call overhead of the subprocess adapter: the ``silence`` model served over the accbench-stream
  protocol (``python -m accbench.adapters.subprocess_adapter silence``) minus the same model in process.

Timings are wall clock (``time.perf_counter``) through :func:`accbench.commands.profile.profile_model`, the
code ``accbench profile`` uses.
"""

from __future__ import annotations

import argparse
import sys

from accbench.commands.profile import profile_model
from accbench.models import load_model


def _line(label: str, summary: dict) -> str:
    return (
        f"{label:<34} mean {summary['mean_s'] * 1e3:8.3f} ms  p95 {summary['p95_s'] * 1e3:8.3f} ms  "
        f"{summary['x_real_time']:9.1f}x real time"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="timed calls per measurement at k=1 (default 500)")
    args = parser.parse_args(argv)
    for chunk_frames in (1, 50):
        calls = max(20, args.calls // chunk_frames) if chunk_frames > 1 else args.calls
        follower = profile_model(load_model("follower"), chunk_frames=chunk_frames, calls=calls, warmup_calls=10)
        print(_line(f"follower k={chunk_frames}", follower.summary()))
        local = profile_model(load_model("silence"), chunk_frames=chunk_frames, calls=calls, warmup_calls=10)
        remote_model = load_model(f"subprocess:{sys.executable} -m accbench.adapters.subprocess_adapter silence")
        try:
            remote = profile_model(remote_model, chunk_frames=chunk_frames, calls=calls, warmup_calls=10)
        finally:
            remote_model.close()
        print(_line(f"silence in process k={chunk_frames}", local.summary()))
        print(_line(f"silence via subprocess k={chunk_frames}", remote.summary()))
        overhead = remote.summary()["mean_s"] - local.summary()["mean_s"]
        print(f"{'subprocess overhead per call':<34} {overhead * 1e3:8.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
