"""Speed of the Beat This tracker (accbench.metrics.beat_this), in x real time per core.

Usage: ``python benchmarks/beat_this_speed.py [--seconds 60] [--repeats 3] [--device cpu] [--threads 1]``

Times the three stages on synthetic audio (clicks and a tone at 44.1 kHz, stereo): preparation (down-mix and
soxr resampling to 22.05 kHz) plus the log-mel spectrogram, the network over 30 s chunks, and the
postprocessor, with ``torch.set_num_threads(1)`` by default (per core; the CPU-time figure is the one to quote
on a shared machine, the wall clock also counts time waiting for the core). Without ``ACCBENCH_BEAT_THIS_CHECKPOINT``
(a ``.ckpt`` file or a name in the torch hub cache) the networks are random-weight checkpoints of the two
published sizes (``final``: 512 wide, 6 layers, ~20 M parameters; ``small``: 128 wide): the same arithmetic as
the trained ones, so the same speed; their beats mean nothing. ``--device cuda`` runs the network on a GPU
(the spectrogram stays on the CPU). Prints one line per network and the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from accbench.metrics import beat_this

SIZES = {"final": {"transformer_dim": 512}, "small": {"transformer_dim": 128}}


def synthetic(seconds: float, sample_rate: int = 44100) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    clicks = np.exp(-60 * ((t * 2.0) % 1.0)) * np.sin(2 * np.pi * 2000 * t)
    tone = 0.2 * np.sin(2 * np.pi * 110 * t)
    return np.stack([clicks + tone, 0.8 * clicks + tone]).astype(np.float32)


def measure(model: torch.nn.Module, audio: np.ndarray, sample_rate: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` wall seconds per stage and CPU seconds of the whole call (after one warm-up run)."""
    best = {"spectrogram": np.inf, "network": np.inf, "postprocess": np.inf, "cpu": np.inf}
    for attempt in range(repeats + 1):
        cpu = time.process_time()
        began = time.perf_counter()
        spect = beat_this.log_mel(beat_this.resample_mono(audio, sample_rate))
        after_spect = time.perf_counter()
        beat, downbeat = beat_this.frame_logits(model, spect)
        after_network = time.perf_counter()
        beat_this.postprocess(beat, downbeat)
        done = time.perf_counter()
        if attempt:
            seconds = {"spectrogram": after_spect - began, "network": after_network - after_spect}
            seconds["postprocess"] = done - after_network
            seconds["cpu"] = time.process_time() - cpu
            best = {key: min(best[key], seconds[key]) for key in best}
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length (default 60 s: two chunks)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: per core)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    audio = synthetic(args.seconds)
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {args.device}, {args.seconds:g} s of audio")
    with tempfile.TemporaryDirectory() as folder:
        given = os.environ.get("ACCBENCH_BEAT_THIS_CHECKPOINT")
        if given:
            networks = {f"checkpoint {given}": beat_this.resolve_checkpoint(given)}
        else:
            networks = {
                f"random-weight {name}": beat_this.save_random_checkpoint(Path(folder) / f"{name}.ckpt", seed=0, **dims)
                for name, dims in SIZES.items()
            }
        for label, path in networks.items():
            model = beat_this.load_model(path).to(args.device)
            parameters = sum(p.numel() for p in model.parameters()) / 1e6
            seconds = measure(model, audio, 44100, args.repeats)
            cpu = seconds.pop("cpu")
            total = sum(seconds.values())
            stages = ", ".join(f"{key} {value:.2f} s" for key, value in seconds.items())
            print(
                f"{label} ({parameters:.1f} M parameters): {args.seconds / total:.1f}x real time by the wall clock "
                f"({stages}); {args.seconds / cpu:.1f}x by CPU time ({cpu:.2f} CPU-s)"
            )


if __name__ == "__main__":
    main()
