"""Per-call overhead of the simulator with a null model (issue: spine).

Null model, k = 1, 50 frames per second (22050 Hz, hop 441), inputs of 1, 10 and 60 minutes.
Prints microseconds per call and the simulated duration over wall time (x real time). Goal: >= 1000x real
time and linear growth in song length (constant us/call).

    python benchmarks/simulator_overhead.py [--minutes 1 10 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from accbench import ModelInfo
from accbench.simulators import SimulationConfig, run_stream

SAMPLE_RATE, HOP = 22050, 441


class NullModel:
    info = ModelInfo("null", "1", SAMPLE_RATE, HOP)

    def reset(self, session):
        self.out = np.zeros((1, session.chunk_frames * session.hop), dtype=np.float32)

    def step(self, new_input, ctx):
        return self.out

    def close(self):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("--chunk-frames", type=int, default=1)
    args = parser.parse_args()
    model = NullModel()
    config = SimulationConfig(-10, args.chunk_frames, "fixed:5ms", 5.0, 10.0)
    print(f"null model, k={args.chunk_frames}, {SAMPLE_RATE / HOP:g} frames/s, latency fixed:5ms")
    print(f"{'minutes':>8} {'calls':>8} {'wall s':>8} {'us/call':>8} {'x real time':>12}")
    for minutes in args.minutes:
        n = int(minutes * 60 * SAMPLE_RATE)
        x = np.zeros((1, n), dtype=np.float32)
        run_stream(model, x[:, :SAMPLE_RATE], config)  # warm-up
        began = time.perf_counter()
        result = run_stream(model, x, config)
        wall = time.perf_counter() - began
        calls = result.summary.n_calls
        print(f"{minutes:>8g} {calls:>8d} {wall:>8.2f} {wall / calls * 1e6:>8.1f} {minutes * 60 / wall:>12.0f}")


if __name__ == "__main__":
    main()
