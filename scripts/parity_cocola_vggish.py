"""Measured parity of accbench's COCOLA, VGGish FAD and loudness pipeline with the authors' code.

Runs the upstream implementations side by side with accbench's on the same random-weight checkpoints and the
same audio, and prints the largest differences:

- COCOLA: gladia-research-group/cocola as forked by maswang32/cocola-stem-gen (``CoCola``, a real Lightning
  checkpoint written by ``Trainer.fit``) and the seed paper's ``stream_music_gen/eval/cocola_eval.py``
  (``extract_hpss_features``, ``cocola_score``), against :mod:`accbench.metrics.cocola`.
- VGGish FAD: maswang32/frechet-audio-distance (``FrechetAudioDistance(model_name="vggish", use_pca=False,
  use_activation=False)``, which loads harritaylor/torchvggish through ``torch.hub`` from a prepared local hub
  folder holding random weights in the published file names), against :mod:`accbench.metrics.vggish`.
- Loudness: the paper's ``loudness_normalize_audio`` and ``mix_with_generated_stem``
  (``stream_music_gen/utils/audio_utils.py``) against :mod:`accbench.loudness`.
- Resampling: the paper resamples 32 kHz stems to 16 kHz with torchaudio's Kaiser-windowed sinc, accbench
  with soxr; the effect on the COCOLA scores and the FAD is measured (not a parity figure).

Targets: features and embeddings <= 1e-4 absolute, scores and FAD <= 1e-4 relative.

Setting up the side environment (the upstream code never enters accbench; it runs in its own venv)::

    python -m venv /work/side/upstream
    /work/side/upstream/bin/pip install torch torchaudio efficientnet_pytorch==0.7.1 librosa soundfile \
        resampy lightning pqdm pyloudnorm scipy tqdm
    mkdir -p /work/side/src/{cocola-stem-gen,stream-music-gen,frechet-audio-distance,torchvggish}
    # unpack the four repositories there (git archive of maswang32/cocola-stem-gen, lukewys/stream-music-gen,
    # maswang32/frechet-audio-distance, harritaylor/torchvggish)

Run from the repository root with accbench's venv (``pip install -e ".[paper]"``)::

    python scripts/parity_cocola_vggish.py [--side-python /work/side/upstream/bin/python] [--src /work/side/src]

In the side process ``torchaudio.load`` (which needs torchcodec and FFmpeg since torchaudio 2.9) is replaced by a
soundfile reader with the same result for float WAV files. Modules that ``frechet_audio_distance`` imports
for its other models only (encodec, audiotools, laion_clap, torchlibrosa) are replaced by empty placeholder
modules in the side process; the VGGish path does not use them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

SONGS = {"00000": 5.0, "00001": 7.3, "00002": 12.6, "00003": 10.0}  # durations, s: 1, 2, 5 and 4 chunks
DEMO_SONGS = 3  # plus 20 s of accbench's demo chorales (pred: another song's accompaniment), "demo0".."demo2"


def _songs(root: Path) -> list[str]:
    """Example folders in the order the authors' ``cocola_score`` visits them (sorted names)."""
    return sorted(p.name for p in root.iterdir() if p.is_dir())


MODES = ["both", "harmonic", "percussive"]


# ---------------------------------------------------------------------------------------------------------
# Shared: the audio (deterministic; written by the accbench side, read by both)


def _song_audio(seed: int, seconds: float, sample_rate: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    root = rng.uniform(110, 330)
    tones = sum(np.sin(2 * np.pi * root * ratio * t + rng.uniform(0, 6)) for ratio in (1.0, 1.25, 1.5))
    beat = (np.sin(2 * np.pi * 2.0 * t) > 0.995).astype(float) * rng.normal(size=t.size)
    accompaniment = 0.3 * np.sin(2 * np.pi * root * 0.5 * t) + 0.2 * beat
    other = rng.normal(scale=0.05, size=t.size) + 0.2 * np.sin(2 * np.pi * rng.uniform(200, 900) * t)
    return {
        "input": (0.2 * tones + 0.3 * beat).astype(np.float32),
        "gt": accompaniment.astype(np.float32),
        "pred": (0.5 * accompaniment + other).astype(np.float32),
    }


def _write_audio(root: Path) -> None:
    import soundfile as sf

    for index, (song, seconds) in enumerate(SONGS.items()):
        for rate, suffix in ((16000, "_16000"), (32000, "")):
            audio = _song_audio(index, seconds, rate)
            folder = root / song
            (folder / "ground_truth").mkdir(parents=True, exist_ok=True)
            (folder / "pred").mkdir(parents=True, exist_ok=True)
            sf.write(folder / f"input_audio{suffix}.wav", audio["input"], rate, subtype="FLOAT")
            sf.write(folder / "ground_truth" / f"pred{suffix}.wav", audio["gt"], rate, subtype="FLOAT")
            sf.write(folder / "pred" / f"pred{suffix}.wav", audio["pred"], rate, subtype="FLOAT")
    _write_demo_audio(root)


def _write_demo_audio(root: Path) -> None:
    """Music-like examples: accbench's demo chorales (melody and accompaniment), 20 s each."""
    import soundfile as sf

    from accbench.datasets import load_dataset

    songs = list(load_dataset("demo", songs=DEMO_SONGS + 1))[: DEMO_SONGS + 1]
    for rate, suffix in ((16000, "_16000"), (32000, "")):
        loaded = [song.load(rate, duration_s=20.0, channels=1) for song in songs]
        for index in range(DEMO_SONGS):
            folder = root / f"demo{index}"
            (folder / "ground_truth").mkdir(parents=True, exist_ok=True)
            (folder / "pred").mkdir(parents=True, exist_ok=True)
            this, other = loaded[index], loaded[index + 1]
            n = min(this.input.shape[1], other.reference.shape[1])
            sf.write(folder / f"input_audio{suffix}.wav", this.input[0, :n], rate, subtype="FLOAT")
            sf.write(folder / "ground_truth" / f"pred{suffix}.wav", this.reference[0, :n], rate, subtype="FLOAT")
            sf.write(folder / "pred" / f"pred{suffix}.wav", other.reference[0, :n], rate, subtype="FLOAT")


# ---------------------------------------------------------------------------------------------------------
# Upstream side (runs in the side venv; imports nothing of accbench)


def _stub_unused_imports() -> None:
    for name in ("encodec", "audiotools", "audiotools.core", "audiotools.core.loudness", "laion_clap"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["encodec"].EncodecModel = None
    sys.modules["audiotools.core.loudness"].Meter = None
    for name in ("torchlibrosa", "torchlibrosa.stft", "torchlibrosa.augmentation"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["torchlibrosa.stft"].Spectrogram = sys.modules["torchlibrosa.stft"].LogmelFilterBank = None
    sys.modules["torchlibrosa.augmentation"].SpecAugmentation = None


def _patch_torchaudio_load() -> None:
    """torchaudio >= 2.9 reads files only through torchcodec (FFmpeg); read them with soundfile instead.

    Same result as the old ``torchaudio.load`` for float WAV files: float32, ``(channels, n_samples)``.
    """
    import soundfile as sf
    import torch
    import torchaudio

    def load(path, *args, **kwargs):
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return torch.from_numpy(np.ascontiguousarray(data.T)), rate

    torchaudio.load = load


def _upstream_checkpoint(work: Path, root: Path) -> Path:
    """A real Lightning checkpoint of the upstream CoCola with random weights and calibrated BatchNorm."""
    import lightning as L
    import torch
    from contrastive_model import constants
    from contrastive_model.contrastive_model import CoCola
    from lightning.pytorch.callbacks import ModelCheckpoint
    from stream_music_gen.eval import cocola_eval
    from stream_music_gen.eval.eval_utils import load_and_chunk

    torch.manual_seed(0)
    chunks = [load_and_chunk(str(p), 80000, 40000, 16000).numpy() for p in sorted(root.glob("*/*_16000.wav"))]
    features = torch.from_numpy(cocola_eval.extract_hpss_features(np.concatenate(chunks)))
    model = CoCola(learning_rate=0.0, embedding_mode=constants.EmbeddingMode.RANDOM)
    # Random BatchNorm statistics would make every embedding the same: calibrate them on the features.
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    with torch.no_grad():
        model.encoder(features)

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {"anchor": features[i].clone(), "positive": features[i + 1].clone()}

    for norm in norms:  # keep the calibrated statistics through the one training step
        norm.momentum = 0.0
    callback = ModelCheckpoint(dirpath=work / "ckpt", filename="checkpoint-{epoch:02d}", save_top_k=1)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, logger=False, callbacks=[callback], accelerator="cpu",
                        enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(model, torch.utils.data.DataLoader(Pairs(), batch_size=2))
    return Path(callback.best_model_path or callback.last_model_path or next((work / "ckpt").glob("*.ckpt")))


def _upstream_cocola(work: Path, root: Path, out: dict) -> None:
    import torch
    from contrastive_model import constants
    from contrastive_model.contrastive_model import CoCola
    from stream_music_gen.eval import cocola_eval
    from stream_music_gen.eval.eval_utils import load_and_chunk

    # torch >= 2.6 loads with weights_only=True; the authors' code predates that and needs its enums allowed.
    torch.serialization.add_safe_globals([constants.EmbeddingMode, constants.ModelInputType])
    checkpoint = _upstream_checkpoint(work, root)
    out["cocola_checkpoint"] = str(checkpoint)
    cocola_eval.MODEL_PATH = str(checkpoint)
    gt, pred = cocola_eval.cocola_score(str(root), embedding_modes=MODES, n_jobs=1, device="cpu")
    for mode in MODES:
        out[f"cocola_gt_{mode}"] = np.asarray(gt[mode])
        out[f"cocola_pred_{mode}"] = np.asarray(pred[mode])
    model = CoCola.load_from_checkpoint(str(checkpoint), map_location="cpu").eval()
    for song in _songs(root):
        chunks = load_and_chunk(str(root / song / "pred" / "pred_16000.wav"), 80000, 40000, 16000).numpy()
        features = cocola_eval.extract_hpss_features(chunks)
        features = features[None] if features.ndim == 3 else features
        out[f"features_{song}"] = features
        for mode, masked in (("both", None), ("harmonic", 1), ("percussive", 0)):
            data = torch.from_numpy(features.copy())
            if masked is not None:  # the fork's CoCola.score masking
                data[:, masked] = 0
            with torch.no_grad():
                embedding = model.tanh(model.layer_norm(model.encoder(data)))
            out[f"embedding_{song}_{mode}"] = embedding.numpy()


def _upstream_vggish(work: Path, root: Path, src: Path, out: dict) -> None:
    import torch

    hub = work / "torch_home" / "hub"
    shutil.copytree(src / "torchvggish", hub / "harritaylor_torchvggish_master", dirs_exist_ok=True)
    (hub / "checkpoints").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(hub / "harritaylor_torchvggish_master"))
    from torchvggish import vggish_input
    from torchvggish.vggish import VGG, make_layers

    torch.manual_seed(1)
    network = VGG(make_layers())
    with torch.no_grad():  # random init gives tiny embeddings (FAD ~1e-4): scale the last layer to FAD ~1
        network.embeddings[4].weight.mul_(100.0)
    torch.save(network.state_dict(), hub / "checkpoints" / "vggish-10086976.pth")
    rng = np.random.default_rng(2)
    pca = {"pca_eigen_vectors": rng.normal(size=(128, 128)), "pca_means": rng.normal(size=128)}
    torch.save(pca, hub / "checkpoints" / "vggish_pca_params-970ea276.pth")
    out["vggish_weights"] = str(hub / "checkpoints" / "vggish-10086976.pth")
    os.environ["TORCH_HOME"] = str(work / "torch_home")
    _stub_unused_imports()
    from frechet_audio_distance import FrechetAudioDistance

    fad = FrechetAudioDistance(model_name="vggish", sample_rate=16000, use_pca=False, use_activation=False,
                               verbose=False, audio_load_worker=1)  # fmt: skip
    fad.device = torch.device("cpu")
    fad.model.device = torch.device("cpu")
    fad.model.to("cpu")
    ref_files = sorted(str(p) for p in root.glob("*/ground_truth/pred_16000.wav"))
    gen_files = sorted(str(p) for p in root.glob("*/pred/pred_16000.wav"))
    out["fad"] = np.float64(fad.score(background_paths=ref_files, eval_paths=gen_files, dtype="float32"))
    import soundfile as sf

    for song in _songs(root):
        audio, _ = sf.read(root / song / "pred" / "pred_16000.wav", dtype="float32")
        out[f"vggish_examples_{song}"] = vggish_input.waveform_to_examples(audio, 16000, return_tensor=False)
        out[f"vggish_embedding_{song}"] = fad.get_embeddings([audio], sr=16000)


def _upstream_loudness_and_resampling(root: Path, out: dict) -> None:
    import soundfile as sf
    import torch
    from stream_music_gen.eval.eval_utils import resample
    from stream_music_gen.utils.audio_utils import loudness_normalize_audio, mix_with_generated_stem

    for song in _songs(root):
        x, rate = sf.read(root / song / "input_audio.wav", dtype="float32")
        y, _ = sf.read(root / song / "ground_truth" / "pred.wav", dtype="float32")
        out[f"norm_input_{song}"] = loudness_normalize_audio(x, rate)
        out[f"mix_{song}"] = mix_with_generated_stem(x, y, 2, rate)
        for name, path in (("input", "input_audio.wav"), ("gt", "ground_truth/pred.wav"), ("pred", "pred/pred.wav")):
            audio, rate = sf.read(root / song / path, dtype="float32")
            out[f"torchaudio16k_{name}_{song}"] = resample(torch.from_numpy(audio)[None], rate, 16000)[0].numpy()


def upstream_main(work: Path, src: Path) -> None:
    import torch

    torch.set_num_threads(1)
    _patch_torchaudio_load()
    root = work / "examples"
    sys.path[:0] = [str(src / "cocola-stem-gen" / "src"), str(src / "stream-music-gen"),
                    str(src / "frechet-audio-distance")]  # fmt: skip
    out: dict = {}
    _upstream_cocola(work, root, out)
    _upstream_vggish(work, root, src, out)
    _upstream_loudness_and_resampling(root, out)
    paths = {k: out.pop(k) for k in ("cocola_checkpoint", "vggish_weights")}
    np.savez(work / "upstream.npz", **out)
    (work / "upstream.json").write_text(json.dumps(paths))


# ---------------------------------------------------------------------------------------------------------
# accbench side


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def _compare_cocola(work: Path, up: dict, checkpoint: str, report: dict) -> dict:
    import soundfile as sf

    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.cocola import CocolaModel, chunk_audio, evaluate, hpss_features

    model = CocolaModel(checkpoint)
    root = work / "examples"
    feature_err = embedding_err = score_err = score_abs = 0.0
    scores: dict[str, dict[str, float]] = {}
    for index, song in enumerate(_songs(root)):
        pred, _ = sf.read(root / song / "pred" / "pred_16000.wav", dtype="float32")
        features = hpss_features(chunk_audio(pred))
        feature_err = max(feature_err, float(np.abs(features - up[f"features_{song}"]).max()))
        for mode in MODES:
            ours = model.embed(features, mode)
            embedding_err = max(embedding_err, float(np.abs(ours - up[f"embedding_{song}_{mode}"]).max()))
        x, _ = sf.read(root / song / "input_audio_16000.wav", dtype="float32")
        r, _ = sf.read(root / song / "ground_truth" / "pred_16000.wav", dtype="float32")
        found = evaluate(x, pred, 16000, r, checkpoint=model, normalize_lufs=None, cache=AnalysisCache())
        scores[song] = found
        for mode, name in zip(MODES, ("score", "harmonic", "percussive"), strict=True):
            pairs = (
                (found[f"cocola.{name}"], float(up[f"cocola_pred_{mode}"][index])),
                (found[f"cocola.reference_{name}"], float(up[f"cocola_gt_{mode}"][index])),
            )
            for ours, theirs in pairs:
                score_err = max(score_err, _rel(ours, theirs))
                score_abs = max(score_abs, abs(ours - theirs))
    report["cocola features max abs diff (dB)"] = feature_err
    report["cocola embeddings max abs diff"] = embedding_err
    report["cocola scores max rel diff (3 modes, output and GT rows)"] = score_err
    report["cocola scores max abs diff (informative)"] = score_abs
    report["cocola upstream pred scores (both)"] = [round(float(v), 6) for v in up["cocola_pred_both"]]
    return {"model": model, "scores": scores}


def _compare_vggish(work: Path, up: dict, weights: str, report: dict) -> dict:
    import soundfile as sf

    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.vggish import VggishModel, fad_over_songs, vggish_embeddings, vggish_examples

    model = VggishModel(weights)
    root = work / "examples"
    example_err = embedding_err = 0.0
    generated, reference = [], []
    for song in _songs(root):
        pred, _ = sf.read(root / song / "pred" / "pred_16000.wav", dtype="float32")
        examples = vggish_examples(pred)
        example_err = max(example_err, float(np.abs(examples - up[f"vggish_examples_{song}"]).max()))
        ours = vggish_embeddings(pred, 16000, model, normalize_lufs=None, cache=AnalysisCache())
        embedding_err = max(embedding_err, float(np.abs(ours - up[f"vggish_embedding_{song}"]).max()))
        gt, _ = sf.read(root / song / "ground_truth" / "pred_16000.wav", dtype="float32")
        generated.append(ours)
        reference.append(vggish_embeddings(gt, 16000, model, normalize_lufs=None, cache=AnalysisCache()))
    fad = fad_over_songs(generated, reference, bootstrap=0, infinity=False)["vggish.fad"]
    report["vggish log-mel examples max abs diff"] = example_err
    report["vggish embeddings max abs diff"] = embedding_err
    report["vggish FAD: accbench, upstream, rel diff"] = [fad, float(up["fad"]), _rel(fad, float(up["fad"]))]
    return {"model": model, "fad": fad}


def _compare_loudness(work: Path, up: dict, report: dict) -> None:
    import soundfile as sf

    from accbench.loudness import mix_with_stem, normalize_loudness

    norm_err = mix_err = 0.0
    root = work / "examples"
    for song in _songs(root):
        x, rate = sf.read(work / "examples" / song / "input_audio.wav", dtype="float32")
        y, _ = sf.read(work / "examples" / song / "ground_truth" / "pred.wav", dtype="float32")
        norm_err = max(norm_err, float(np.abs(normalize_loudness(x, rate).audio - up[f"norm_input_{song}"]).max()))
        mixed = mix_with_stem(x, y, rate, num_input_stems=2).audio
        mix_err = max(mix_err, float(np.abs(mixed - up[f"mix_{song}"]).max()))
    report["loudness_normalize_audio max abs diff"] = norm_err
    report["mix_with_generated_stem max abs diff"] = mix_err


def _resampling_effect(work: Path, up: dict, cocola: dict, vggish: dict, report: dict) -> None:
    """COCOLA scores and FAD from soxr-resampled vs torchaudio-resampled 32 kHz stems, per example set."""
    import soundfile as sf

    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.cocola import evaluate
    from accbench.metrics.vggish import fad_over_songs, vggish_embeddings

    root = work / "examples"
    for label, songs in (("synthetic", list(SONGS)), ("demo chorales", [s for s in _songs(root) if s not in SONGS])):
        cocola_diff = cocola_abs = 0.0
        theirs_all = []
        gen: dict[str, list] = {"soxr": [], "torchaudio": []}
        ref: dict[str, list] = {"soxr": [], "torchaudio": []}
        for song in songs:
            stems = {}
            for name, path in (
                ("input", "input_audio.wav"),
                ("gt", "ground_truth/pred.wav"),
                ("pred", "pred/pred.wav"),
            ):
                stems[name], rate = sf.read(root / song / path, dtype="float32")
            options = {"checkpoint": cocola["model"], "normalize_lufs": None, "modes": ["both"]}
            ours = evaluate(stems["input"], stems["pred"], rate, cache=AnalysisCache(), **options)
            up_x, up_y = up[f"torchaudio16k_input_{song}"], up[f"torchaudio16k_pred_{song}"]
            theirs = evaluate(up_x, up_y, 16000, cache=AnalysisCache(), **options)
            cocola_diff = max(cocola_diff, _rel(ours["cocola.score"], theirs["cocola.score"]))
            cocola_abs = max(cocola_abs, abs(ours["cocola.score"] - theirs["cocola.score"]))
            theirs_all.append(theirs["cocola.score"])
            for key, (g, r, sr) in {
                "soxr": (stems["pred"], stems["gt"], rate),
                "torchaudio": (up[f"torchaudio16k_pred_{song}"], up[f"torchaudio16k_gt_{song}"], 16000),
            }.items():
                options = {"normalize_lufs": None, "cache": AnalysisCache()}
                gen[key].append(vggish_embeddings(g, sr, vggish["model"], **options))
                ref[key].append(vggish_embeddings(r, sr, vggish["model"], **options))
        fads = {k: fad_over_songs(gen[k], ref[k], bootstrap=0, infinity=False)["vggish.fad"] for k in gen}
        what = f"resampling 32k->16k ({label}), soxr vs torchaudio kaiser"
        report[f"{what}: COCOLA score max rel diff"] = cocola_diff
        report[f"{what}: COCOLA score max abs diff, std over songs"] = [cocola_abs, float(np.std(theirs_all))]
        report[f"{what}: FAD (soxr, torchaudio, rel diff)"] = [
            fads["soxr"], fads["torchaudio"], _rel(fads["soxr"], fads["torchaudio"])]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side-python", default="/work/side/upstream/bin/python")
    parser.add_argument("--src", default="/work/side/src", help="folder holding the unpacked upstream repositories")
    parser.add_argument("--work", default=None, help="working folder (default: a temporary one)")
    parser.add_argument("--upstream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        upstream_main(Path(args.work), Path(args.src))
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="accbench-parity-"))
    _write_audio(work / "examples")
    command = [args.side_python, __file__, "--upstream", "--work", str(work), "--src", args.src]
    subprocess.run(command, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    with np.load(work / "upstream.npz") as stored:
        up = dict(stored)
    paths = json.loads((work / "upstream.json").read_text())
    import torch

    torch.set_num_threads(1)
    report: dict = {}
    cocola = _compare_cocola(work, up, paths["cocola_checkpoint"], report)
    vggish = _compare_vggish(work, up, paths["vggish_weights"], report)
    _compare_loudness(work, up, report)
    _resampling_effect(work, up, cocola, vggish, report)
    for name, value in report.items():
        print(f"{name}: {value}")
    failed = [
        name
        for name, value in report.items()
        if "resampling" not in name
        and "upstream" not in name
        and "informative" not in name
        and (value[-1] if isinstance(value, list) else value) > 1e-4
    ]
    print("PARITY OK" if not failed else f"PARITY FAILED: {failed}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
