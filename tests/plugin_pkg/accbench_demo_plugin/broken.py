"""A plugin module that fails at import time (for the error tests)."""

raise ImportError("accbench_demo_plugin.broken needs a GPU driver that is not installed")
