"""Parity of accbench's Beat This path with the ``beat-this`` package (1.1.0, real torchaudio), measured.

Both run on the same random-weight checkpoint, saved by the package's own network class in the published
Lightning format (``hyper_parameters`` + ``state_dict`` with the ``model.`` prefix) and loaded by both with
``torch.load(weights_only=True)``, and on the same audio: lengths below and above one inference chunk (30 s),
input rates 16, 22.05 and 44.1 kHz, mono and stereo. Compared: the log-mel spectrogram (max |difference|
relative to the spectrogram's peak, and elementwise where the value exceeds 1e-3), the frame logits (max
|difference|) and the beat and downbeat times (identical). The upstream side is the package's
``Audio2Beats`` (``signal2spect``, ``spect2frames``, ``frames2beats``), i.e. ``File2Beats`` without the file.

The upstream package needs torchaudio, which cannot be installed beside accbench's torch, so it runs in a
separate virtual environment (outside CI, ~2.7 GB)::

    python3.11 -m venv /work/side/upstream
    /work/side/upstream/bin/pip install torch==2.11.0 torchaudio==2.11.0 beat-this==1.1.0

and this script (in accbench's environment, ``pip install -e '.[beat-this]'``) drives it through a
subprocess, exchanging ``.npz`` files in a temporary folder::

    python scripts/parity_beat_this.py --upstream-python /work/side/upstream/bin/python [--full]

``--full`` adds the published ``final`` network size (512-wide, 6 layers; slower) to the small one
(``small``-like: 128-wide). Exit status 1 when a tolerance is exceeded or a time differs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MEL_TOLERANCE = 1e-4
LOGIT_TOLERANCE = 1e-4

# The upstream side: builds the checkpoint with the package's class, then runs Audio2Beats on each case.
UPSTREAM = r"""
import inspect, json, sys
import numpy as np, torch
from beat_this.inference import Audio2Beats
from beat_this.model.beat_tracker import BeatThis
from beat_this.preprocessing import LogMelSpect
import soxr

job = json.load(open(sys.argv[1]))
if job["build"]:
    hyper = dict(spect_dim=128, fps=50, ff_mult=4, stem_dim=32, dropout={"frontend": 0.1, "transformer": 0.2},
                 lr=0.0008, weight_decay=0.01, pos_weights={"beat": 1, "downbeat": 1}, head_dim=32,
                 loss_type="shift_tolerant_weighted_bce", warmup_steps=1000, max_epochs=100, use_dbn=False,
                 eval_trim_beats=5, sum_head=True, partial_transformers=True, **job["dims"])
    torch.manual_seed(job["seed"])
    model = BeatThis(**{k: v for k, v in hyper.items() if k in inspect.signature(BeatThis).parameters})
    generator = torch.Generator().manual_seed(job["seed"])
    with torch.no_grad():  # trained-looking statistics: nothing at its initial value
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point() or name.endswith("rotary_embed.freqs"):
                continue
            noise = torch.randn(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(0.5 + noise.abs())
            elif name.endswith(("gamma", "norm.weight", "bn1d.weight", "bn2d.weight")):
                tensor.copy_(1.0 + 0.2 * noise)
            elif name.endswith("running_mean") and "bn1d" in name:
                tensor.copy_(1.5 + 0.5 * noise)  # log-mel values are positive
            else:
                tensor.add_(0.05 * noise)
        # centre the head on the first case's spectrogram so that about half its frames have positive logits
        first = np.load(job["cases"][0]["audio"])
        mono = soxr.resample(first["audio"].mean(axis=0), int(first["sample_rate"]), 22050)
        probe = LogMelSpect()(torch.tensor(mono, dtype=torch.float32))[:1500]
        out = model.eval()(probe[None])
        bias = model.task_heads.beat_downbeat_lin.bias
        bias[1] -= out["downbeat"].median()
        bias[0] -= (out["beat"] - out["downbeat"].median()).median()
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 0, "global_step": 0, "pytorch-lightning_version": "2.3.0", "state_dict": state,
                "hparams_name": "kwargs", "hyper_parameters": hyper}, job["checkpoint"])
tracker = Audio2Beats(checkpoint_path=job["checkpoint"], device="cpu", dbn=False)
torch.set_num_threads(1)
for case in job["cases"]:
    data = np.load(case["audio"])
    signal = data["audio"].T  # (n, channels) as the package's loader gives it; (n,) for mono
    signal = signal[:, 0] if signal.shape[1] == 1 else signal
    spect = tracker.signal2spect(signal, int(data["sample_rate"]))
    beat, downbeat = tracker.spect2frames(spect)
    beats, downbeats = tracker.frames2beats(beat, downbeat)
    np.savez(case["upstream"], spect=spect.numpy(), beat=beat.numpy(), downbeat=downbeat.numpy(),
             beats=np.asarray(beats, dtype=np.float64), downbeats=np.asarray(downbeats, dtype=np.float64))
print(torch.__version__)
"""


def synthetic_audio(seconds: float, sample_rate: int, channels: int, seed: int) -> np.ndarray:
    """Clicks at a drifting tempo, a bass tone and noise, float64 ``(channels, n)`` within [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    bpm = 96 + 20 * rng.random()
    phase = 2 * np.pi * bpm / 60 * (t + 0.3 * np.sin(2 * np.pi * t / 17))
    clicks = np.exp(-40 * ((phase / (2 * np.pi)) % 1.0)) * np.sin(2 * np.pi * 1800 * t)
    bass = 0.3 * np.sin(2 * np.pi * (55 + 20 * rng.random()) * t)
    out = np.empty((channels, n))
    for channel in range(channels):
        out[channel] = 0.5 * clicks + bass * (1 + 0.2 * channel) + 0.05 * rng.standard_normal(n)
    return np.clip(out, -1.0, 1.0)


def _cases(folder: Path, full: bool) -> list[dict]:
    cases = []
    for dims_name in ("small", "final") if full else ("small",):
        for seconds in (12.5, 71.3):
            for sample_rate in (16000, 22050, 44100):
                for channels in (1, 2):
                    if dims_name == "final" and (sample_rate, channels) != (44100, 2):
                        continue
                    name = f"{dims_name}-{seconds:g}s-{sample_rate}Hz-{channels}ch"
                    audio = synthetic_audio(seconds, sample_rate, channels, seed=len(cases))
                    path = folder / f"{name}.npz"
                    np.savez(path, audio=audio, sample_rate=sample_rate)
                    cases.append(
                        {
                            "name": name,
                            "dims": dims_name,
                            "audio": str(path),
                            "upstream": str(folder / f"{name}.up.npz"),
                        }
                    )
    return cases


DIMS = {"small": {"transformer_dim": 128, "n_layers": 6}, "final": {"transformer_dim": 512, "n_layers": 6}}


def _run_upstream(python: str, folder: Path, cases: list[dict]) -> str:
    version = ""
    for dims_name, dims in DIMS.items():
        mine = [case for case in cases if case["dims"] == dims_name]
        if not mine:
            continue
        job = {"build": True, "seed": 7, "dims": dims, "checkpoint": str(folder / f"{dims_name}.ckpt"), "cases": mine}
        (folder / "job.json").write_text(json.dumps(job))
        done = subprocess.run([python, "-c", UPSTREAM, str(folder / "job.json")], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"upstream side failed:\n{done.stderr[-3000:]}")
        version = done.stdout.strip().splitlines()[-1]
    return version


def _compare(case: dict, folder: Path) -> dict:
    import torch

    from accbench.metrics import beat_this

    data = np.load(case["audio"])
    up = np.load(case["upstream"])
    model = beat_this.load_model(folder / f"{case['dims']}.ckpt")
    spect = beat_this.log_mel(beat_this.resample_mono(data["audio"], int(data["sample_rate"])))
    beat, downbeat = beat_this.frame_logits(model, spect)
    beats, downbeats = beat_this.postprocess(beat, downbeat)
    spect = spect.numpy()
    torch.set_num_threads(1)
    big = up["spect"] > 1e-3
    return {
        "case": case["name"],
        "frames": int(spect.shape[0]),
        "mel_rel_to_peak": float(np.max(np.abs(spect - up["spect"])) / np.max(np.abs(up["spect"]))),
        "mel_rel_elementwise": float(np.max(np.abs(spect - up["spect"])[big] / up["spect"][big])),
        "logit_abs": float(max(np.max(np.abs(beat - up["beat"])), np.max(np.abs(downbeat - up["downbeat"])))),
        "beats": int(up["beats"].size),
        "downbeats": int(up["downbeats"].size),
        "beats_identical": bool(np.array_equal(beats, up["beats"])),
        "downbeats_identical": bool(np.array_equal(downbeats, up["downbeats"])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream-python", default="/work/side/upstream/bin/python")
    parser.add_argument("--full", action="store_true", help="also the published final network size")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        cases = _cases(folder, args.full)
        upstream_torch = _run_upstream(args.upstream_python, folder, cases)
        rows = [_compare(case, folder) for case in cases]
    print(f"upstream: beat-this 1.1.0, torch {upstream_torch} with torchaudio; accbench: torch {torch.__version__}")
    header = ("case", "frames", "mel_rel_to_peak", "mel_rel_elementwise", "logit_abs", "beats", "downbeats")
    print("  ".join(header) + "  times")
    failed = False
    for row in rows:
        same = row["beats_identical"] and row["downbeats_identical"]
        ok = same and row["mel_rel_to_peak"] <= MEL_TOLERANCE and row["logit_abs"] <= LOGIT_TOLERANCE
        failed |= not ok
        cells = [row["case"], str(row["frames"])] + [f"{row[key]:.2e}" for key in header[2:5]]
        cells += [str(row["beats"]), str(row["downbeats"]), "identical" if same else "DIFFER"]
        print("  ".join(cells))
    worst = {key: max(row[key] for row in rows) for key in ("mel_rel_to_peak", "mel_rel_elementwise", "logit_abs")}
    print("worst: " + ", ".join(f"{key} {value:.2e}" for key, value in worst.items()))
    print("PASS" if not failed else "FAIL")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
