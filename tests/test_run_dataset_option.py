"""``accbench run --dataset SPEC`` swaps the dataset of the default (or a given) sweep and keeps its options."""

from __future__ import annotations

import types

import pandas as pd
import pytest

from accbench.cli import main
from accbench.config import SweepConfig


def test_dataset_option_overrides_the_spec_and_keeps_the_options(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    seen: list[SweepConfig] = []

    def fake_sweep(config, **options):
        seen.append(config)
        return types.SimpleNamespace(
            manifest={"tasks": {"succeeded": 0, "total": 0}},
            results=pd.DataFrame(),
            failures=pd.DataFrame(),
            out_dir=tmp_path,
            ok=True,
        )

    monkeypatch.setattr("accbench.runner.sweep", fake_sweep)
    assert main(["run", "--dataset", "demo-band", "--out", str(tmp_path), "-q"]) == 0
    assert main(["run", "--out", str(tmp_path), "-q"]) == 0
    with_band, default = seen
    assert with_band.dataset.spec == "demo-band" and default.dataset.spec == "demo"
    assert with_band.dataset.options == default.dataset.options == {"songs": 4, "split": "test"}
    assert with_band.grid == default.grid and with_band.models == default.models
