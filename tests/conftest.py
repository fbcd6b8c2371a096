import os
import sys
from pathlib import Path

import pytest

# Tests never touch the network: model hubs are offline, and nothing downloads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


PLUGIN = Path(__file__).resolve().parent / "plugin_pkg"
"""A folder holding a tiny installed-looking plugin package (with its .dist-info entry points)."""


@pytest.fixture
def plugin(monkeypatch):
    """Put the demo plugin on ``sys.path`` for one test, and forget its modules afterwards."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    yield
    for name in [name for name in sys.modules if name.startswith("accbench_demo_plugin")]:
        del sys.modules[name]
