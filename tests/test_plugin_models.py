"""Third-party models through the ``accbench.models`` entry-point group, and ``accbench models``.

The plugin in ``tests/plugin_pkg`` ships a ``.dist-info`` with ``entry_points.txt`` next to its package, so
putting that folder on ``sys.path`` makes it discoverable exactly as an installed distribution, with no
``pip install`` and nothing left behind in the environment.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pytest

import accbench
from accbench.commands import models as models_command
from accbench.errors import ModelError
from accbench.models import available_models, load_model


def _cli(argv):
    parser = argparse.ArgumentParser(prog="accbench")
    models_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_a_plugin_is_found_by_name_and_runs(plugin):
    assert available_models()["half-input"] == "accbench_demo_plugin:make_model"
    model = load_model("half-input", level=0.25)
    assert model.info.name == "half-input"
    x = np.ones((1, 22050), dtype=np.float32)
    result = accbench.simulate(model, x, sample_rate=22050, future_visibility=0, chunk_frames=10)
    assert np.all(result.output[:, :4410] == 0) and np.allclose(result.output[:, 4410:], 0.25)


def test_plugins_are_invisible_without_the_distribution():
    assert "half-input" not in available_models()
    with pytest.raises(ModelError, match="unknown model 'half-input'"):
        load_model("half-input")


def test_a_plugin_that_raises_on_import_is_a_clear_error(plugin):
    with pytest.raises(ModelError) as caught:
        load_model("broken-plugin")
    message = str(caught.value)
    assert caught.value.model == "broken-plugin"
    assert "accbench_demo_plugin.broken:make" in message and "needs a GPU driver" in message


def test_a_plugin_factory_returning_the_wrong_type_is_a_clear_error(plugin):
    with pytest.raises(ModelError, match="dict is not a streaming model: missing method"):
        load_model("wrong-type-plugin")


def test_python_factory_specs_load_the_same_model(plugin):
    for spec in ("accbench_demo_plugin:make_model", "python:accbench_demo_plugin:make_model"):
        assert load_model(spec).info.name == "half-input"


def test_models_command_lists_builtins_plugins_and_adapters(plugin, capsys):
    assert _cli(["models"]) == 0
    out = capsys.readouterr().out
    assert "follower" in out and "accbench.models.follower:Follower" in out
    assert "half-input" in out and "plugin accbench-demo-plugin 0.1.0" in out
    assert "subprocess:COMMAND" in out and "torch:package.module:factory" in out


def test_models_check_reports_the_broken_plugin(plugin, capsys):
    assert _cli(["models", "--check", "--json"]) == 1
    captured = capsys.readouterr()
    records = {record["name"]: record for record in json.loads(captured.out)["models"]}
    assert records["half-input"]["status"] == "ok"
    assert records["follower"]["status"] == "ok"
    assert records["broken-plugin"]["status"].startswith("error: ImportError: accbench_demo_plugin.broken needs")
    assert "broken-plugin" in captured.err


def test_models_lists_a_description_per_model_without_importing_torch_or_plugins(plugin, capsys):
    import subprocess

    records = {record["name"]: record for record in models_command.describe_models()}
    assert records["silence"]["description"] == "Plays silence."
    assert records["follower"]["description"].startswith("A causal DSP accompanist")
    assert records["reference-transformer"]["description"]  # read from the source: torch is not imported
    assert records["half-input"]["description"] == "The entry point's factory."
    assert records["broken-plugin"]["description"] == models_command.PLUGIN_DESCRIPTION  # no static docstring
    assert not any(name.startswith("accbench_demo_plugin") for name in sys.modules)  # no plugin code ran
    assert _cli(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("silence "))
    assert lines[first].split() == ["silence", "Plays", "silence."]
    assert lines[first + 1].split() == ["built-in:", "accbench.models.baselines:Silence"]
    code = (
        "import sys; from accbench.commands.models import describe_models; records = describe_models(); "
        "assert all(r['description'] for r in records if r['source'] == 'built-in'); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_docstring_summary_reads_sources_statically(tmp_path, monkeypatch):
    package = tmp_path / "quietpkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('the package must not be imported')\n")
    (package / "mod.py").write_text(
        '"""Module doc."""\n\nraise RuntimeError("nor the module")\n\n\n'
        'class Model:\n    """A model whose summary\n    spans two lines.\n\n    More text.\n    """\n\n'
        '    def make(self):\n        """Uses ``x``."""\n\n\ndef bare():\n    pass\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    summary = models_command.docstring_summary
    assert summary("quietpkg.mod:Model") == "A model whose summary spans two lines."
    assert summary("quietpkg.mod:Model.make") == "Uses x."
    assert summary("quietpkg.mod") == "Module doc."
    assert summary("quietpkg.mod:bare") is None and summary("quietpkg.mod:missing") is None
    assert summary("quietpkg.nothere:Model") is None and summary("no_such_top_level_pkg:f") is None
    assert "quietpkg" not in sys.modules and "quietpkg.mod" not in sys.modules
