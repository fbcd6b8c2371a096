"""``accbench doctor``: the bug-report block (text and JSON), without network and without heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from accbench.cli import main
from accbench.commands import doctor

PACKAGES = ("numpy", "scipy", "torch", "librosa", "numba", "mir_eval", "soundfile", "soxr", "pandas", "pyarrow")
EXTRAS = ("matplotlib", "transformers", "ray", "madmom")


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("ACCBENCH_CACHE", str(root))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    monkeypatch.delenv("ACCBENCH_CLAP_MODEL", raising=False)
    return root


def test_text_block_lists_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--no-gpu"]) == 0
    text = capsys.readouterr().out
    for name in ("python", "accbench", *PACKAGES, *EXTRAS, "libsndfile"):
        assert f"\n  {name}: " in text, name
    for line in ("model files:", "clap ($ACCBENCH_CLAP_MODEL)", "caches:", "gpu: ", "platform: ", "cpus: "):
        assert line in text, line
    assert "chromium: " in text
    assert "numba: " in text and "$NUMBA_CACHE_DIR" in text


def test_json_parses_and_reports_cache_sizes_in_mb(_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = _cache / "demo" / "key"
    demo.mkdir(parents=True)
    (demo / "input.wav").write_bytes(b"\0" * 1_500_000)
    assert main(["doctor", "--format", "json", "--no-gpu"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"versions", "model_files", "caches", "gpu", "machine"}
    assert report["versions"]["accbench"] == "0.1.0"
    assert report["caches"]["demo"] == {
        "path": str(_cache / "demo"),
        "exists": True,
        "size_mb": pytest.approx(1.5),
        "note": "rendered demo songs",
    }
    assert report["caches"]["analysis"]["exists"] is False and report["caches"]["analysis"]["size_mb"] is None
    assert report["caches"]["numba"]["kernels"] == 0
    assert report["gpu"]["status"].startswith("not checked")
    assert report["machine"]["cpus"] >= 1


def test_missing_distributions_read_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(doctor.PACKAGES, "madmom", ("no-such-distribution-accbench",))
    assert doctor.versions()["madmom"] == doctor.NOT_INSTALLED


def test_clap_model_folder_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCBENCH_CLAP_MODEL", str(tmp_path / "absent"))
    assert doctor.model_files()["clap"]["status"].startswith("missing")
    folder = tmp_path / "clap"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    monkeypatch.setenv("ACCBENCH_CLAP_MODEL", str(folder))
    assert doctor.model_files()["clap"]["status"].startswith("found")


def test_gpu_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = doctor.importlib.util.find_spec
    monkeypatch.setattr(doctor.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    assert doctor.gpu() == {"status": "torch not installed", "cuda": False, "devices": []}


def test_cli_imports_no_heavy_package_for_versions() -> None:
    # Versions come from package metadata: without the GPU check, neither torch nor librosa (numba) is imported.
    code = (
        "import sys\n"
        "from accbench.cli import main\n"
        "assert main(['doctor', '--no-gpu']) == 0\n"
        "heavy = [name for name in ('torch', 'librosa', 'numba', 'transformers', 'ray') if name in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, capture_output=True)
