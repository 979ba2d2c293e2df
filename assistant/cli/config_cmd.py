"""``assistant config check|show``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.config import find_config_file, load_config, render_config


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``config`` command and its subcommands."""
    parser = sub.add_parser("config", help="check or show the configuration")
    config_sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", parents=[common], help="validate a config file")
    check.add_argument("file", nargs="?", help="file to check (default: the effective config file)")
    check.set_defaults(func=_check)
    show = config_sub.add_parser("show", parents=[common], help="print the effective config")
    show.set_defaults(func=_show)


def _check(args: argparse.Namespace) -> int:
    target = args.file or args.config
    path = find_config_file(target)
    if path is None:
        print("no config file found; the built-in defaults are in effect (assistant config show)")
        return 0
    load_config(path)
    print(f"{path}: ok")
    return 0


def _show(args: argparse.Namespace) -> int:
    sys.stdout.write(render_config(load_config(args.config)))
    return 0
