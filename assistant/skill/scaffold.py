"""A new third-party skill package from templates: ``assistant skill new NAME``."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from string import Template

from assistant.errors import AssistantError

NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
"""A skill name: it becomes part of a Python package name and a config section, so no dashes."""

# Template (in assistant/skill/templates) → where it goes in the new package; $package is filled in.
_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "skill.py.tmpl": "src/$package/__init__.py",
    "test_skill.py.tmpl": "tests/test_$name.py",
}


class ScaffoldError(AssistantError):
    """The new skill cannot be created: a bad name or a target that already exists."""

    code = "scaffold"
    exit_code = 2


def package_name(name: str) -> str:
    """The import package of the plugin for skill ``name``."""
    return f"hearkend_skill_{name}"


def distribution_name(name: str) -> str:
    """The pip distribution (and directory) name of the plugin for skill ``name``."""
    return f"hearkend-skill-{name}"


def check_name(name: str, taken: Iterable[str] = ()) -> None:
    """Raise ScaffoldError unless ``name`` is a valid skill name that no installed skill uses."""
    if not NAME_RE.fullmatch(name):
        raise ScaffoldError(
            f"invalid skill name {name!r}: use lowercase letters, digits and underscores,"
            " starting with a letter (e.g. dice or coin_flip)"
        )
    if name in set(taken):
        # Two skills with one name: the registry would refuse the second at load.
        raise ScaffoldError(f"a skill named {name!r} is already installed; choose another name")


def render(name: str) -> dict[str, str]:
    """The new package's files, relative path → text."""
    values = {"name": name, "package": package_name(name), "distribution": distribution_name(name)}
    templates = files("assistant.skill") / "templates"
    return {
        Template(target).substitute(values): Template((templates / source).read_text("utf-8")).substitute(
            values
        )
        for source, target in _FILES.items()
    }


def create_plugin(name: str, parent: Path, taken: Iterable[str] = ()) -> Path:
    """Write the plugin package for skill ``name`` under ``parent``; nothing is written on error."""
    check_name(name, taken)
    target = parent / distribution_name(name)
    if target.exists() or target.is_symlink():
        raise ScaffoldError(f"{target} already exists; remove it or pick another --dir")
    if parent.exists() and not parent.is_dir():
        raise ScaffoldError(f"{parent} is not a directory")
    rendered = render(name)
    parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename at the end, so an interrupted run leaves no half package.
    staging = parent / f".{target.name}.partial-{os.getpid()}"
    try:
        staging.mkdir()
        for relative, text in rendered.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.rename(staging, target)
    except FileExistsError:
        raise ScaffoldError(f"{target} already exists; remove it or pick another --dir") from None
    except OSError as exc:
        raise ScaffoldError(f"cannot write {target}: {exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
