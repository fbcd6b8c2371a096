"""Speed of the reference model on one CPU thread: training frames per second and streaming real-time factor.

Run from the repository root::

    python benchmarks/reference_model_speed.py [--steps 20] [--seconds 20]

Training uses a few demo train songs (rendered and cached on first use) with the default network; streaming
runs an untrained checkpoint (speed does not depend on the weights) through the simulator for each chunk size
and reports wall time over audio duration (< 1 keeps up with the input).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps to time")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of audio to stream")
    parser.add_argument("--songs", type=int, default=4, help="demo train songs to train on")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from accbench.datasets import load_dataset
    from accbench.models.reference_model import ReferenceTransformer
    from accbench.models.reference_training import load_training_data, train_reference
    from accbench.simulators import SimulationConfig, run_stream

    data = load_training_data("train", args.songs)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = train_reference(
            0, 1, folder, epochs=1000, max_steps=args.steps, train_data=data, valid_data=[], threads=1
        )
        elapsed = time.perf_counter() - started
        batch = result.config["training"]["batch_size"] * result.config["training"]["crop_frames"]
        print(f"training: {args.steps / elapsed:.2f} steps/s, {args.steps * batch / elapsed:.0f} frames/s (1 thread)")
        song = load_dataset("demo", split="test", songs=1)[0].load(22050)
        audio = song.input[:, : int(args.seconds * 22050)]
        model = ReferenceTransformer(result.path, threads=1)
        for chunk in (1, 10, 40):
            started = time.perf_counter()
            run_stream(model, audio, SimulationConfig(0, chunk))
            factor = (time.perf_counter() - started) / (audio.shape[1] / 22050)
            print(f"streaming k={chunk}: {factor:.3f} x real time ({audio.shape[1] / 22050:.0f} s of audio)")


if __name__ == "__main__":
    main()
