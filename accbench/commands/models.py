"""``accbench models``: list the models accbench can load by name, and the adapter prefixes.

Built-ins come from :data:`accbench.models.BUILTIN_MODELS`; plugins from the entry-point group
``accbench.models`` of installed packages (a name already taken by a built-in is shadowed and reported so).
``--check`` imports every target (without calling the factory) and reports the ones that fail.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from importlib import metadata
from typing import Any

from accbench.commands.common import add_command
from accbench.models import BUILTIN_MODELS, ENTRY_POINT_GROUP

__all__ = ["ADAPTER_PREFIXES", "describe_models", "register"]

#: Generic adapters, spelled as a prefix of the model spec.
ADAPTER_PREFIXES: dict[str, str] = {
    "python": "python:package.module:factory (or just package.module:factory): a factory returning a model",
    "torch": "torch:package.module:factory: a torch.nn.Module with a step method (device, dtype, compile)",
    "subprocess": "subprocess:COMMAND: a model in another process, accbench-stream protocol on stdin/stdout",
}


def _check_target(target: str) -> str:
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            obj = getattr(obj, part)
    except Exception as error:
        return f"error: {type(error).__name__}: {error}"
    return "ok" if callable(obj) else f"error: {target} is not callable"


def describe_models(check: bool = False) -> list[dict[str, str]]:
    """One record per loadable name: ``name``, ``source`` (built-in or the plugin's distribution), ``target``.

    Parameters
    ----------
    check : bool
        Also import each target and add ``status`` (``"ok"`` or the error).

    Returns
    -------
    records : list of dict
        Built-ins first, then plugins sorted by name.
    """
    records = [{"name": name, "source": "built-in", "target": target} for name, target in BUILTIN_MODELS.items()]
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda item: item.name):
        dist = getattr(entry_point, "dist", None)
        source = f"plugin {dist.name} {dist.version}" if dist is not None else "plugin"
        if entry_point.name in BUILTIN_MODELS:
            source += " (shadowed by the built-in)"
        records.append({"name": entry_point.name, "source": source, "target": entry_point.value})
    if check:
        for record in records:
            record["status"] = _check_target(record["target"])
    return records


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``models`` to the CLI."""
    parser = add_command(subparsers, "models", run, help="list built-in and plugin models and the adapter prefixes")
    parser.add_argument("--check", action="store_true", help="import every model's factory and report failures")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """List the model names accbench resolves (built-ins and the 'accbench.models' entry points of installed
    packages) and the generic adapter prefixes.
    """
    records = describe_models(check=args.check)
    failed = [record for record in records if record.get("status", "ok") != "ok"]
    if args.json:
        print(json.dumps({"models": records, "adapters": ADAPTER_PREFIXES}, indent=2))
    else:
        width = max(len(record["name"]) for record in records)
        source_width = max(len(record["source"]) for record in records)
        for record in records:
            line = f"{record['name']:<{width}}  {record['source']:<{source_width}}  {record['target']}"
            if "status" in record:
                line += f"  [{record['status']}]"
            print(line)
        print("\nadapters:")
        for description in ADAPTER_PREFIXES.values():
            print(f"  {description}")
    if failed:
        names = ", ".join(record["name"] for record in failed)
        print(f"accbench models: {len(failed)} model(s) failed to import: {names}", file=sys.stderr)
        return 1
    return 0
