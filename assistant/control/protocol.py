"""The control protocol: one JSON object per line each way, one request per connection.

A request is ``{"v": 1, "cmd": "status", "args": {...}}``; the answer is
``{"v": 1, "ok": true, "result": {...}}`` or ``{"v": 1, "ok": false, "error": {"code": ...,
"message": ...}}``. Codes are stable (scripts may test them); messages are for people.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
"""The protocol version this build speaks; a request for another is refused with ``version``."""
MAX_REQUEST_BYTES = 64 * 1024
"""Longest request line the daemon reads; longer ones are refused with ``too_large``."""
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""Longest answer line a client reads."""
MAX_TEXT_CHARS = 2000
"""Longest text ``say`` and ``ask`` take (a spoken request is a sentence or two)."""

# Error codes.
BAD_REQUEST = "bad_request"
"""Not a JSON object with a string ``cmd`` and an object ``args``."""
TOO_LARGE = "too_large"
VERSION_MISMATCH = "version"
UNKNOWN_COMMAND = "unknown_command"
BAD_ARGS = "bad_args"
UNAVAILABLE = "unavailable"
"""The command exists but cannot run in this daemon's set-up (e.g. push-to-talk without it)."""
FAILED = "failed"
"""The command ran and failed (the message says why); the daemon goes on."""
TIMEOUT = "timeout"
BUSY = "busy"
FORBIDDEN = "forbidden"


class ControlError(Exception):
    """A request that cannot be answered; sent back as ``{"ok": false, "error": ...}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Request:
    """One decoded request."""

    cmd: str
    """The command name, e.g. "status"."""
    args: Mapping[str, Any] = field(default_factory=dict)
    """The command's arguments, checked by the command itself."""


def encode_request(cmd: str, args: Mapping[str, Any] | None = None) -> bytes:
    """A request line for ``cmd``."""
    return _line({"v": VERSION, "cmd": cmd, "args": dict(args or {})})


def decode_request(line: bytes) -> Request:
    """Parse a request line; a malformed one raises ControlError naming what is wrong."""
    if len(line) > MAX_REQUEST_BYTES:
        raise ControlError(TOO_LARGE, f"request is longer than {MAX_REQUEST_BYTES} bytes")
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError(BAD_REQUEST, f"request is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ControlError(BAD_REQUEST, "request must be a JSON object")
    version = data.get("v")
    if version != VERSION:
        raise ControlError(
            VERSION_MISMATCH, f"protocol version {version!r} is not supported; this daemon speaks {VERSION}"
        )
    cmd, args = data.get("cmd"), data.get("args", {})
    if not isinstance(cmd, str) or not cmd:
        raise ControlError(BAD_REQUEST, 'request needs "cmd", a command name')
    if not isinstance(args, dict):
        raise ControlError(BAD_REQUEST, '"args" must be a JSON object')
    return Request(cmd, args)


def encode_result(result: Mapping[str, Any]) -> bytes:
    """A success answer line."""
    return _line({"v": VERSION, "ok": True, "result": dict(result)})


def encode_error(error: ControlError) -> bytes:
    """A failure answer line."""
    return _line({"v": VERSION, "ok": False, "error": {"code": error.code, "message": error.message}})


def decode_response(line: bytes) -> dict[str, Any]:
    """The result of an answer line; a failure answer raises ControlError with its code."""
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError(BAD_REQUEST, f"the daemon's answer is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        raise ControlError(BAD_REQUEST, "the daemon's answer is not a protocol response")
    if not data["ok"]:
        error = data.get("error")
        if not isinstance(error, dict):
            raise ControlError(FAILED, "the daemon refused the request without saying why")
        raise ControlError(str(error.get("code", FAILED)), str(error.get("message", "")))
    result = data.get("result", {})
    if not isinstance(result, dict):
        raise ControlError(BAD_REQUEST, "the daemon's result is not a JSON object")
    return result


def text_arg(args: Mapping[str, Any], name: str, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """A required, non-empty text argument of bounded length."""
    value = args.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ControlError(BAD_ARGS, f'"{name}" must be non-empty text')
    if len(value) > max_chars:
        raise ControlError(BAD_ARGS, f'"{name}" is longer than {max_chars} characters')
    return value.strip()


def optional_text_arg(args: Mapping[str, Any], name: str) -> str | None:
    """An optional text argument (absent or null means not given)."""
    value = args.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ControlError(BAD_ARGS, f'"{name}" must be text')
    return value


def no_other_args(args: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """Refuse arguments a command does not take (a typo should not be silently ignored)."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        takes = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
        raise ControlError(BAD_ARGS, f"unknown argument {unknown[0]!r}; {takes}")


def _line(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
