"""Speed of the CLAP embedder: clips per second batched vs one at a time, and the cost of a cache hit.

A random-weight model of LAION's HTSAT-base size (the audio tower of ``larger_clap_music``: patch dimension
128, depths 2-2-12-2, 1024-d features, 512-d projection; 68.6M parameters) is built, saved to a temporary
folder and loaded through :class:`accbench.metrics.embedders.ClapEmbedder`, so the measured path is the real one
(feature extraction, batching, inference, normalisation). Weights do not change the cost.

Usage::

    python benchmarks/embedding_speed.py [--clips 8] [--threads 1] [--batch-size 8] [--device cpu]

Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def build_htsat_base(folder: Path) -> Path:
    """Save a random-weight HTSAT-base CLAP audio tower and LAION's music feature-extractor settings."""
    import torch
    from transformers import ClapAudioConfig, ClapAudioModelWithProjection, ClapFeatureExtractor

    torch.manual_seed(0)
    config = ClapAudioConfig(
        patch_embeds_hidden_size=128,
        depths=[2, 2, 12, 2],
        num_attention_heads=[4, 8, 16, 32],
        hidden_size=1024,
        projection_dim=512,
        enable_fusion=False,
    )
    ClapAudioModelWithProjection(config).save_pretrained(folder)
    ClapFeatureExtractor(frequency_min=50, frequency_max=14000, truncation="rand_trunc").save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8, help="10 s clips per measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.embedders import ClapEmbedder, embed_audio

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    clips = (rng.normal(size=(args.clips, 480_000)) * 0.1).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_htsat_base(Path(tmp) / "htsat-base")
        start = time.perf_counter()
        batched = ClapEmbedder(folder, batch_size=args.batch_size, threads=args.threads, device=args.device)
        single = ClapEmbedder(folder, batch_size=1, threads=args.threads, device=args.device)
        load_s = (time.perf_counter() - start) / 2
        n_params = sum(p.numel() for p in batched._network.parameters())
        print(f"model: HTSAT-base size, {n_params / 1e6:.1f}M parameters, load {load_s:.2f} s, device {args.device}")
        batched.embed(clips[:1])  # warm-up

        start = time.perf_counter()
        batched._features(clips)
        features_s = (time.perf_counter() - start) / args.clips
        print(f"feature extraction alone: {features_s * 1000:.0f} ms per clip")

        results = {}
        for name, embedder in (("one at a time", single), (f"batch {args.batch_size}", batched)):
            start = time.perf_counter()
            embedder.embed(clips)
            elapsed = time.perf_counter() - start
            results[name] = args.clips / elapsed
            print(f"{name}: {results[name]:.2f} clips/s ({elapsed / args.clips * 1000:.0f} ms per 10 s clip)")

        # Cache: a 60 s song at 48 kHz, 10 s windows, 5 s hop (11 windows).
        song = (rng.normal(size=(1, 60 * 48_000)) * 0.1).astype(np.float32)
        with tempfile.TemporaryDirectory() as cache_dir:
            cache = AnalysisCache(cache_dir)
            start = time.perf_counter()
            embed_audio(song, 48_000, batched, cache=cache)
            miss_s = time.perf_counter() - start
            start = time.perf_counter()
            embed_audio(song, 48_000, batched, cache=cache)
            memory_hit_s = time.perf_counter() - start
            cache.clear_memory()
            start = time.perf_counter()
            embed_audio(song, 48_000, batched, cache=cache)
            disk_hit_s = time.perf_counter() - start
        print(
            f"60 s song (11 windows): miss {miss_s:.2f} s, memory hit {memory_hit_s * 1000:.1f} ms, "
            f"disk hit {disk_hit_s * 1000:.1f} ms (hashing the audio dominates a hit)"
        )


if __name__ == "__main__":
    main()
