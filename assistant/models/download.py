"""Downloads for `assistant models pull`: fetch, verify sha256, show progress."""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import assistant
from assistant.errors import ModelError
from assistant.models.checks import _content_problem
from assistant.models.manifest import (
    _SHA_RE,
    ModelEntry,
    _filename_from_url,
    _how_to_get,
    _is_plain_filename,
    load_manifest,
    locate,
    models_dir,
)

Progress = Callable[[int, int | None], None]
"""Download progress callback: (bytes done, total bytes or None when the server did not say)."""

_CHUNK = 256 * 1024


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
