"""``accbench models``: list the models accbench can load by name, and the adapter prefixes.

Built-ins come from :data:`accbench.models.BUILTIN_MODELS`; plugins from the entry-point group
``accbench.models`` of installed packages (a name already taken by a built-in is shadowed and reported so).
Each name is listed with a one-line description: the first paragraph of its target's docstring, read from the
module's source without importing it (listing never imports torch or runs a plugin's code); a plugin whose
source cannot be read that way is described as ``(plugin)``. ``--check`` imports every target (without
calling the factory) and reports the ones that fail.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.machinery
import importlib.util
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from accbench.commands.common import add_command
from accbench.models import ADAPTERS, BUILTIN_MODELS, ENTRY_POINT_GROUP

__all__ = ["ADAPTER_PREFIXES", "PLUGIN_DESCRIPTION", "describe_models", "docstring_summary", "register"]

#: The description of a plugin whose docstring cannot be read from its source without importing it.
PLUGIN_DESCRIPTION = "(plugin)"

#: Generic adapters by prefix, as listed: ``"SPELLING: DESCRIPTION"`` (from :data:`accbench.models.ADAPTERS`).
ADAPTER_PREFIXES: dict[str, str] = {name: f"{a.spelling}: {a.description}" for name, a in ADAPTERS.items()}


def _check_target(target: str) -> str:
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            obj = getattr(obj, part)
    except Exception as error:
        return f"error: {type(error).__name__}: {error}"
    return "ok" if callable(obj) else f"error: {target} is not callable"


def _module_file(module_name: str) -> Path | None:
    """The ``.py`` file of ``module_name``, found without importing it or its not yet imported parents."""
    parts = module_name.split(".")
    spec = None
    search: list[str] | None = None
    for index in range(len(parts)):
        name = ".".join(parts[: index + 1])
        module = sys.modules.get(name)
        if module is not None:
            spec = getattr(module, "__spec__", None)
        elif index == 0:
            spec = importlib.util.find_spec(name)  # a top-level name: finders only, no module code runs
        else:
            spec = importlib.machinery.PathFinder.find_spec(name, search)
        if spec is None:
            return None
        search = spec.submodule_search_locations
    origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


def docstring_summary(target: str) -> str | None:
    """The first paragraph of the docstring of ``"module:attribute"``, read statically (the module's source
    parsed with :mod:`ast`, nothing imported or run); ``None`` when it cannot be read that way.

    Parameters
    ----------
    target : str
        ``"package.module:Name"`` (a class or function defined at the module's top level, or ``Class.name``);
        without ``:Name`` the module's own docstring.

    Returns
    -------
    summary : str or None
        One line (white space folded, RST double backquotes dropped).
    """
    module_name, _, attribute = target.partition(":")
    try:
        path = _module_file(module_name)
        if path is None:
            return None
        node: Any = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for part in filter(None, attribute.split(".")):
            node = next(
                (
                    child
                    for child in node.body
                    if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and child.name == part
                ),
                None,
            )
            if node is None:
                return None
        doc = ast.get_docstring(node)
    except (ImportError, OSError, SyntaxError, ValueError, AttributeError):
        return None
    if not doc:
        return None
    return " ".join(doc.split("\n\n", 1)[0].split()).replace("``", "")


def describe_models(check: bool = False) -> list[dict[str, str]]:
    """One record per loadable name: ``name``, ``source`` (built-in or the plugin's distribution), ``target``
    and ``description`` (:func:`docstring_summary` of the target, else ``""`` for a built-in and
    :data:`PLUGIN_DESCRIPTION` for a plugin).

    Parameters
    ----------
    check : bool
        Also import each target and add ``status`` (``"ok"`` or the error).

    Returns
    -------
    records : list of dict
        Built-ins first, then plugins sorted by name.
    """
    records = [
        {"name": name, "source": "built-in", "target": target, "description": docstring_summary(target) or ""}
        for name, target in BUILTIN_MODELS.items()
    ]
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda item: item.name):
        dist = getattr(entry_point, "dist", None)
        source = f"plugin {dist.name} {dist.version}" if dist is not None else "plugin"
        if entry_point.name in BUILTIN_MODELS:
            source += " (shadowed by the built-in)"
        description = docstring_summary(entry_point.value) or PLUGIN_DESCRIPTION
        records.append(
            {"name": entry_point.name, "source": source, "target": entry_point.value, "description": description}
        )
    if check:
        for record in records:
            record["status"] = _check_target(record["target"])
    return records


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``models`` to the CLI."""
    parser = add_command(subparsers, "models", run, help="list built-in and plugin models and the adapter prefixes")
    parser.add_argument("--check", action="store_true", help="import every model's factory and report failures")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _print_table(records: list[dict[str, str]]) -> None:
    """Two lines per model: its name and description, then (indented) its source, target and check status."""
    width = max(len(record["name"]) for record in records)
    for record in records:
        print(f"{record['name']:<{width}}  {record['description']}".rstrip())
        line = f"{'':<{width}}  {record['source']}: {record['target']}"
        if "status" in record:
            line += f"  [{record['status']}]"
        print(line)


def run(args: argparse.Namespace) -> int:
    """List the model names accbench resolves (built-ins and the 'accbench.models' entry points of installed
    packages) and the generic adapter prefixes.
    """
    records = describe_models(check=args.check)
    failed = [record for record in records if record.get("status", "ok") != "ok"]
    if args.json:
        print(json.dumps({"models": records, "adapters": ADAPTER_PREFIXES}, indent=2))
    else:
        _print_table(records)
        print("\nadapters:")
        for description in ADAPTER_PREFIXES.values():
            print(f"  {description}")
    if failed:
        names = ", ".join(record["name"] for record in failed)
        print(f"accbench models: {len(failed)} model(s) failed to import: {names}", file=sys.stderr)
        return 1
    return 0
