"""The ``assistant`` command: parses arguments and dispatches to one module per command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from assistant import __version__
from assistant.errors import AssistantError


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--config", metavar="FILE", default=default, help="config file (default: XDG, then /etc)"
    )
    parser.add_argument(
        "--state-dir", metavar="DIR", default=default, help="state directory (default: XDG state)"
    )
    parser.add_argument(
        "--runtime-dir",
        metavar="DIR",
        default=default,
        help="where the control socket is (default: $RUNTIME_DIRECTORY, else $XDG_RUNTIME_DIR/hearkend)",
    )
    parser.add_argument("--log-format", choices=("text", "json"), default=default, help="log line format")
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=default,
        help="least severe log level",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    from assistant.cli import bench_cmd, config_cmd, control_cmd, models_cmd, skills_cmd, turns_cmd

    parser = argparse.ArgumentParser(
        prog="assistant", description="hearkend: a local, private voice assistant."
    )
    _global_options(parser, default=None)
    # Subcommands accept the same options after their name; SUPPRESS keeps a value given
    # before the subcommand from being reset by the subparser's default.
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, default=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"hearkend {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    turns_cmd.register(sub, common)
    bench_cmd.register(sub, common)
    config_cmd.register(sub, common)
    models_cmd.register(sub)
    skills_cmd.register(sub, common)
    control_cmd.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``assistant models list | head``): not an error of ours.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
