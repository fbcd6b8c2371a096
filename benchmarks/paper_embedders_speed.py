"""Speed of the paper's embedders: COCOLA and VGGish, in times real time per CPU core, batched.

Random-weight checkpoints in the published formats (a Lightning-style ``.ckpt`` for COCOLA, a torchvggish state
dict for VGGish) are written to a temporary folder and loaded through :class:`accbench.metrics.cocola.CocolaModel`
and :class:`accbench.metrics.vggish.VggishModel`, so the measured path is the real one (loading, 16 kHz
resampling, features, batching, inference). Weights do not change the cost. One stem of ``--seconds`` of audio
at 32 kHz is embedded without cache; "x real time" is audio seconds per wall-clock second with
``torch.set_num_threads(--threads)`` (1 = per core).

Usage::

    python benchmarks/paper_embedders_speed.py [--seconds 30] [--threads 1] [--batch-size 16] [--device cpu]

Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _cocola_checkpoint(folder: Path) -> Path:
    import torch

    from accbench.metrics import cocola

    torch.manual_seed(0)
    network = cocola._network(512)
    upstream = {ours: theirs for theirs, ours in cocola._PREFIXES.items()}
    state = {}
    for key, value in network.state_dict().items():
        prefix = next(p for p in upstream if key.startswith(p))
        state[upstream[prefix] + key[len(prefix) :]] = value
    path = folder / "cocola.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": {"embedding_dim": 512}}, path)
    return path


def _vggish_weights(folder: Path) -> Path:
    import torch
    from torchvggish.torchvggish import VGG, make_layers

    torch.manual_seed(0)
    path = folder / "vggish-10086976.pth"
    torch.save(VGG(make_layers(), postprocess=False).state_dict(), path)
    return path


def _timed(function, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the stem, seconds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: per core)")
    parser.add_argument("--batch-size", type=int, default=16, help="COCOLA chunks / VGGish examples per pass")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from accbench.audio import resample
    from accbench.metrics import cocola, vggish
    from accbench.metrics.cache import AnalysisCache

    torch.set_num_threads(args.threads)
    rate = 32000
    rng = np.random.default_rng(0)
    t = np.arange(round(args.seconds * rate)) / rate
    stem = (0.2 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.normal(size=t.size)).astype(np.float32)[None]
    seconds = args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        options = {"device": args.device, "batch_size": args.batch_size, "threads": args.threads}
        model = cocola.CocolaModel(_cocola_checkpoint(folder), **options)
        chunks = cocola.chunk_audio(resample(stem, rate, 16000)[0])
        cocola.hpss_features(chunks[:1])  # warm-up (librosa's lazy imports)
        features_s = _timed(lambda: cocola.hpss_features(chunks))
        features = cocola.hpss_features(chunks)
        model.embed(features[:1])
        encoder_s = _timed(lambda: model.embed(features, "both"), repeat=2)
        total_s = _timed(lambda: cocola.cocola_embeddings(stem, rate, model, ["both"], cache=AnalysisCache()))
        all_modes_s = _timed(lambda: cocola.cocola_embeddings(stem, rate, model, cocola.MODES, cache=AnalysisCache()))
        print(f"COCOLA ({len(chunks)} chunks of 5 s, hop 2.5 s; threads={args.threads}, batch={args.batch_size})")
        print(f"  HPSS log-mel features : {seconds / features_s:7.1f} x real time")
        print(f"  encoder, one mode     : {seconds / encoder_s:7.1f} x real time")
        print(
            f"  stem, one mode        : {seconds / total_s:7.1f} x real time (loudness, resampling, features, encoder)"
        )
        print(f"  stem, three modes     : {seconds / all_modes_s:7.1f} x real time")

        vgg = vggish.VggishModel(_vggish_weights(folder), **{**options, "batch_size": max(args.batch_size, 1)})
        audio16 = resample(stem, rate, 16000)[0]
        vggish.vggish_examples(audio16[:16000])
        examples_s = _timed(lambda: vggish.vggish_examples(audio16), repeat=2)
        examples = vggish.vggish_examples(audio16)
        vgg.embed(examples[:1])
        network_s = _timed(lambda: vgg.embed(examples), repeat=2)
        total_s = _timed(lambda: vggish.vggish_embeddings(stem, rate, vgg, cache=AnalysisCache()))
        print(f"VGGish ({len(examples)} examples of 0.96 s; threads={args.threads}, batch={vgg.batch_size})")
        print(f"  log-mel examples      : {seconds / examples_s:7.1f} x real time")
        print(f"  network               : {seconds / network_s:7.1f} x real time")
        print(
            f"  stem                  : {seconds / total_s:7.1f} x real time (loudness, resampling, examples, network)"
        )


if __name__ == "__main__":
    main()
