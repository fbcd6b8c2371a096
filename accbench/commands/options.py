"""Parsing of ``KEY=VALUE`` options shared by subcommands."""

from __future__ import annotations

import json
from typing import Any

from accbench.errors import ConfigError


def parse_model_options(items: list[str]) -> dict[str, Any]:
    """``["sample_rate=22050", "name=x"]`` -> ``{"sample_rate": 22050, "name": "x"}`` (JSON values when valid)."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--model-option expects KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options
