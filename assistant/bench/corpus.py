"""A bench corpus: a folder of audio files with an optional expected.tsv (file, transcript, skill)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from assistant.errors import AssistantError

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a"})
EXPECTED = "expected.tsv"


class BenchError(AssistantError):
    """The bench was asked for something it cannot do (bad corpus, bad plot path)."""

    code = "bench"
    exit_code = 2


@dataclass(frozen=True)
class Sample:
    """One recorded utterance and what it should produce."""

    path: Path
    transcript: str | None = None
    """The words spoken, when known."""
    skill: str | None = None
    """The skill it should reach; None for "not a skill" (LLM or nothing), when known."""
    skill_known: bool = False
    """True when expected.tsv gave a skill column for this file (empty meaning none)."""


def default_corpus() -> Path:
    """The bundled spoken samples."""
    return Path(str(files("assistant") / "data" / "samples"))


def load_corpus(folder: Path) -> list[Sample]:
    """The audio files in ``folder``, sorted, with expectations from expected.tsv when present."""
    if not folder.is_dir():
        raise BenchError(f"{folder}: corpus folder not found")
    audio = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not audio:
        raise BenchError(f"{folder}: no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})")
    expected = _read_expected(folder / EXPECTED, {p.name for p in audio})
    samples = []
    for path in audio:
        row = expected.get(path.name)
        if row is None:
            samples.append(Sample(path))
            continue
        transcript, skill = row
        samples.append(
            Sample(path, transcript or None, skill or None, skill_known=skill is not None),
        )
    return samples


def _read_expected(path: Path, names: set[str]) -> dict[str, tuple[str | None, str | None]]:
    if not path.is_file():
        return {}
    out: dict[str, tuple[str | None, str | None]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        if reader.fieldnames is None or "file" not in reader.fieldnames:
            raise BenchError(f"{path}:1: the header must name the columns: file, transcript, skill")
        for line, row in enumerate(reader, start=2):
            name = (row.get("file") or "").strip()
            if name not in names:
                raise BenchError(f"{path}:{line}: no audio file named {name!r} in the corpus folder")
            transcript = row.get("transcript")
            skill = row.get("skill")
            out[name] = (
                transcript.strip() if transcript else None,
                skill.strip() if skill is not None else None,
            )
    return out
