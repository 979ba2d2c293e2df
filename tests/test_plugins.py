"""Third-party skills as an author makes them: scaffold, pip install, list, ask, run their tests.

The plugins are installed into the environment running these tests (a subprocess sees them
through their entry points, exactly as a user's would be seen) and uninstalled afterwards.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import main
from assistant.cli.skills_cmd import describe, render_text
from assistant.skill import Reply, Skill, SkillContext, Slot
from assistant.skill.registry import SkillSet
from assistant.skill.scaffold import distribution_name, package_name

# Names no real skill would take, so installing them cannot shadow or collide with one.
PLUGIN = "hktest_dice"
BROKEN = "hktest_broken"


def _canonical(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _offline_build_flags() -> list[str]:
    """Build with this environment's setuptools when it can (no network); else let pip fetch one."""
    try:
        setuptools = tuple(int(part) for part in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return []
    try:
        version("wheel")
        has_wheel = True
    except PackageNotFoundError:
        has_wheel = False
    # Editable installs of a pyproject-only package need setuptools 64; before 70.1 it also
    # needs the separate ``wheel`` package to build the wheel.
    if setuptools >= (70, 1) or (setuptools >= (64, 0) and has_wheel):
        return ["--no-build-isolation"]
    return []


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """Run this environment's pip."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assistant(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command in a fresh process, with config, state and data under ``tmp``."""
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_DATA_HOME=str(tmp / "data"),
    )
    env.pop("STATE_DIRECTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=tmp,
    )


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scaffolded plugin, installed with a broken one beside it; both removed afterwards."""
    parent = tmp_path_factory.mktemp("plugins")
    assert main(["skill", "new", PLUGIN, "--dir", str(parent)]) == 0
    assert main(["skill", "new", BROKEN, "--dir", str(parent)]) == 0
    broken_module = parent / distribution_name(BROKEN) / "src" / package_name(BROKEN) / "__init__.py"
    broken_module.write_text('raise RuntimeError("this plugin is broken on purpose")\n')
    dists = [distribution_name(PLUGIN), distribution_name(BROKEN)]
    try:
        installed = pip(
            "install",
            "--no-deps",
            *_offline_build_flags(),
            *(arg for dist in dists for arg in ("-e", str(parent / dist))),
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        yield parent / distribution_name(PLUGIN)
    finally:
        # Leave the environment as it was, whatever happened above.
        removed = pip("uninstall", "-y", *dists)
        assert removed.returncode == 0, removed.stdout + removed.stderr


def test_skills_lists_the_plugin_and_reports_the_broken_one(plugin_dir: Path, tmp_path: Path) -> None:
    proc = assistant("skills", "--json", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    skills = {skill["name"]: skill for skill in listing["skills"]}
    assert "clock" in skills  # the built-in skills still load beside the broken plugin
    dice = skills[PLUGIN]
    assert _canonical(dice["distribution"]) == _canonical(distribution_name(PLUGIN))
    assert dice["entry_point"] == f"{package_name(PLUGIN)}:skill"
    [roll] = dice["intents"]
    assert roll["name"] == "roll"
    assert roll["slots"] == {"sides": "number"}
    assert roll["example"] == "roll a die with {sides} sides"
    assert roll["parameters"]["properties"]["sides"]["type"] == "number"
    assert roll["parameters"]["required"] == ["sides"]

    failed = {failure["name"]: failure for failure in listing["failed"]}
    assert PLUGIN not in failed
    assert failed[BROKEN]["error"] == "RuntimeError: this plugin is broken on purpose"
    assert _canonical(failed[BROKEN]["distribution"]) == _canonical(distribution_name(BROKEN))

    text = assistant("skills", tmp=tmp_path)
    assert text.returncode == 0, text.stderr
    listed, _, failures = text.stdout.partition("failed to load")
    assert f"{PLUGIN}.roll: " in listed and "slots: sides: number" in listed
    assert f"{BROKEN} [" in failures and "broken on purpose" in failures


@pytest.mark.slow
def test_ask_runs_the_plugin(plugin_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "config" / "hearkend" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(f"skills:\n  {PLUGIN}:\n    seed: 7\n")
    proc = assistant("ask", "--json", "Roll a die with twenty sides.", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["route"], result["skill"], result["action"]) == ("skill", PLUGIN, "roll")
    assert result["slots"] == {"sides": 20.0}
    # The configured seed reaches the handler through ctx.config, so the roll is known.
    assert result["reply"] == f"You rolled a {random.Random(7).randint(1, 20)}."


def test_the_plugin_passes_its_own_tests(plugin_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=plugin_dir,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout


@pytest.mark.parametrize("name", ["Dice", "1dice", "dice-roll", "dice roll", "_dice", "", "clock"])
def test_a_bad_or_taken_name_exits_2_and_writes_nothing(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["skill", "new", name, "--dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    expected = "is already installed" if name == "clock" else "invalid skill name"
    assert expected in error
    assert not (tmp_path / "out").exists()


def test_an_existing_target_exits_2_and_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / distribution_name("dice")
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    assert main(["skill", "new", "dice", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_the_scaffold_fills_in_every_placeholder(tmp_path: Path) -> None:
    assert main(["skill", "new", "dice", "--dir", str(tmp_path)]) == 0
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    root = Path(distribution_name("dice"))
    assert files == [
        root / "README.md",
        root / "pyproject.toml",
        root / "src" / "hearkend_skill_dice" / "__init__.py",
        root / "tests" / "test_dice.py",
    ]
    for path in files:
        assert "${" not in (tmp_path / path).read_text(), path
    pyproject = (tmp_path / root / "pyproject.toml").read_text()
    assert 'dice = "hearkend_skill_dice:skill"' in pyproject
    assert 'dependencies = ["hearkend"]' in pyproject


def test_the_listing_fills_in_choices_and_reports_failures() -> None:
    coin = Skill("coin", "Calls coin tosses.")

    @coin.intent(
        "call",
        description="Call a side before the toss.",
        sentences=["[i] call {side}", "i (say|call) {side} [please]"],
        slots={"side": Slot("choice", "the side called", values=("heads", "tails"))},
    )
    async def call(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
        return Reply(f"You called {slots['side']}.")

    listing = describe(SkillSet(skills={"coin": coin}, failed={"broken": "RuntimeError: no"}))
    [intent] = listing["skills"][0]["intents"]
    # The fullest plain reading of the templates, with the first choice spoken.
    assert intent["example"] == "i say heads"
    assert intent["parameters"]["properties"]["side"]["enum"] == ["heads", "tails"]
    text = render_text(listing)
    assert "coin.call: Call a side before the toss.\n      slots: side: choice\n" in text
    assert text.endswith("failed to load (1):\n  broken: RuntimeError: no\n")
    assert render_text(describe(SkillSet())).startswith("no skills loaded")
