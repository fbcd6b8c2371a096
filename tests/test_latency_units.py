"""Every duration inside a latency spec needs its unit: a bare ``30`` is refused, never taken as milliseconds.

The shipped examples, the README and the docs (every latency spec they show) are checked too, so no newcomer
copies a unit-less spec.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from accbench.config import load_sweep_config
from accbench.errors import ConfigError
from accbench.simulators.latency import Fixed, Jitter, Linear, parse_latency

ROOT = Path(__file__).resolve().parent.parent
SPEC = re.compile(r"\b(?:fixed|linear|zero|measured)(?::[^\s\"'`)\]|]+)?(?:,jitter=[^\s\"'`)\]|,]+)?")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fixed:30", "invalid latency spec 'fixed:30': '30' has no unit; write 30ms or 0.03s"),
        ("fixed: 7.5", "invalid latency spec 'fixed: 7.5': '7.5' has no unit; write 7.5ms or 0.0075s"),
        ("linear:20,2ms/frame", "invalid latency spec 'linear:20,2ms/frame': '20' has no unit; write 20ms or 0.02s"),
        ("linear:20ms,2/frame", "invalid latency spec 'linear:20ms,2/frame': '2' has no unit; write 2ms or 0.002s"),
        (
            "linear:base=20ms,per_frame=2",
            "invalid latency spec 'linear:base=20ms,per_frame=2': '2' has no unit; write 2ms or 0.002s",
        ),
        ("fixed:30ms,jitter=5", "invalid latency spec 'fixed:30ms,jitter=5': '5' has no unit; write 5ms or 0.005s"),
    ],
)
def test_unit_less_durations_are_refused_with_the_spec_named(spec, message):
    with pytest.raises(ConfigError) as info:
        parse_latency(spec)
    assert str(info.value) == message


def test_durations_with_units_still_parse_exactly():
    assert parse_latency("fixed:30ms") == Fixed(Fraction(3, 100))
    assert parse_latency("fixed:0.03s") == Fixed(Fraction(3, 100))
    assert parse_latency("linear:20ms,2ms/frame") == Linear(Fraction(1, 50), Fraction(1, 500))
    assert parse_latency("fixed:30ms,jitter=5ms") == Jitter(Fixed(Fraction(3, 100)), Fraction(1, 200))


def test_a_sweep_config_with_a_unit_less_latency_is_an_error_naming_the_key(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(
        'models = ["silence"]\n[grid]\nfuture_visibility = [0]\nchunk_frames = [4]\nlatency = ["zero", "fixed:30"]\n'
    )
    with pytest.raises(ConfigError) as info:
        load_sweep_config(config)
    assert str(info.value).endswith(
        "grid.latency: invalid latency spec 'fixed:30': '30' has no unit; write 30ms or 0.03s"
    )


def _documented_specs() -> list[tuple[str, str]]:
    examples = [path for path in sorted((ROOT / "examples").iterdir()) if path.suffix in (".toml", ".py", ".yml")]
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *examples]
    found = []
    for path in files:
        for match in SPEC.finditer(path.read_text()):
            spec = match.group(0).rstrip(".,;:")
            if "{" not in spec and (":" in spec or "," in spec):
                found.append((path.name, spec))
    return found


def test_examples_and_docs_use_units_in_every_latency_spec():
    specs = _documented_specs()
    assert len(specs) >= 5  # the README, docs and examples do show latency specs
    for name, spec in specs:
        try:
            parse_latency(spec)
        except ConfigError as error:
            pytest.fail(f"{name}: {error}")


def test_a_model_declaring_a_unitless_latency_is_named_in_the_error():
    from accbench.errors import ConfigError
    from accbench.protocol import ModelInfo
    from accbench.simulators import SimulationConfig

    info = ModelInfo("my-model", "1", 22050, 441, latency="fixed:30")
    with pytest.raises(ConfigError, match=r"model 'my-model' declares latency 'fixed:30': .*'30' has no unit"):
        SimulationConfig(0, 1).latency_model(info)
