"""The shipped systemd units verify, and the system unit's exposure stays at most 2.0."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).parents[1] / "systemd"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed here")


def with_real_executable(unit: Path, tmp_path: Path) -> Path:
    """A copy whose ExecStart names this environment's real `assistant` (verify checks it exists)."""
    assistant = Path(sys.executable).parent / "assistant"
    assert assistant.exists(), assistant
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={assistant}", unit.read_text(), flags=re.M)
    copy = tmp_path / unit.name.replace(".user", "")
    copy.write_text(text)
    return copy


@needs_systemd
@pytest.mark.parametrize("name", ["hearkend.service", "hearkend.user.service"])
def test_units_verify(name: str, tmp_path: Path) -> None:
    unit = with_real_executable(UNITS / name, tmp_path)
    proc = subprocess.run([str(ANALYZE), "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "hearkend" not in proc.stderr, proc.stderr  # no warnings about our unit


@needs_systemd
def test_system_unit_exposure_is_at_most_2(tmp_path: Path) -> None:
    unit = with_real_executable(UNITS / "hearkend.service", tmp_path)
    proc = subprocess.run(
        [str(ANALYZE), "security", "--offline=true", "--threshold=20", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", proc.stdout)
    assert match, proc.stdout
    assert float(match.group(1)) <= 2.0
