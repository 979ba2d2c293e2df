"""``assistant models list|pull``: show known models and download bigger ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant import models, paths
from assistant.errors import ModelError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``models`` command with its ``list`` and ``pull`` subcommands."""
    parser = sub.add_parser(
        "models",
        help="list or download models",
        description="List the models the assistant knows, or download a bigger one.",
    )
    models_sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    show = models_sub.add_parser("list", help="show known models and where they are installed")
    show.set_defaults(func=run_list)
    get = models_sub.add_parser(
        "pull",
        help="download a model by manifest name or URL",
        description="Download a model into $XDG_DATA_HOME/hearkend/models, checking its sha256.",
    )
    get.add_argument("spec", metavar="NAME|URL", help="a name from `models list`, or an http(s) URL")
    get.add_argument("--sha256", metavar="HEX", help="expected sha256 of the file")
    get.add_argument(
        "--no-verify",
        action="store_true",
        help="accept a download whose sha256 is unknown (not recommended)",
    )
    get.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up when the server sends nothing for this long (default: 30)",
    )
    get.set_defaults(func=run_pull)


def run_list(args: argparse.Namespace) -> int:
    """Print a table of manifest models; `*` marks the defaults."""
    try:
        rows = models.list_models(_data_dir(args))
    except ModelError as exc:
        return _error(exc)
    table = [("", "NAME", "KIND", "SIZE", "LICENCE", "INSTALLED")]
    for entry, where in rows:
        table.append(
            (
                "*" if entry.default else "",
                entry.name,
                entry.kind,
                _size(entry.size_mb),
                entry.license,
                str(where) if where is not None else "not installed",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    print("\n* default. Get another with `assistant models pull NAME`; see models/README.md.")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    """Download one model, showing progress on stderr; print where it went."""
    spec: str = args.spec
    try:
        entry = None if spec.startswith(("http://", "https://")) else models.find_entry(spec)
        label = entry.name if entry is not None else spec.rsplit("/", 1)[-1]
        path = models.pull(
            spec,
            _data_dir(args),
            sha256=args.sha256,
            no_verify=args.no_verify,
            progress=models.progress_bar(sys.stderr, label=label),
            timeout_s=args.timeout,
        )
    except ModelError as exc:
        return _error(exc)
    except KeyboardInterrupt:
        print("\nerror: interrupted; nothing was saved", file=sys.stderr)
        return 1
    if entry is not None and entry.source == "package":
        pip = entry.pip or entry.package
        print(f"{entry.name} is already installed with the package {pip}: {path}")
    else:
        print(f"{label}: {path}")
    if entry is not None:
        print(f"use it with `{models.CONFIG_KEYS[entry.kind]}: {entry.name}` in the config")
    else:
        hint = models.suggested_config(path)
        if hint:
            print(f"use it with `{hint}` in the config")
    return 0


def _data_dir(args: argparse.Namespace) -> Path:
    value = getattr(args, "data_dir", None)
    return Path(value) if value is not None else paths.data_dir()


def _size(size_mb: float) -> str:
    if size_mb >= 1000:
        return f"{size_mb / 1000:.1f} GB"
    if size_mb >= 1:
        return f"{size_mb:.0f} MB"
    return f"{size_mb * 1000:.0f} kB"


def _error(exc: ModelError) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 1
