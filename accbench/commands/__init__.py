"""CLI subcommands; each module has `register(subparsers)` and is wired in `accbench.cli`."""
