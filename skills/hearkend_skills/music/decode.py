"""Decoding music files of any common format into mono s16le chunks for the mixer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av

__all__ = ["MusicFileError", "decode_stream"]

# A few bad packets in a long file are skipped; this many in a row means the file is broken.
_MAX_BAD_PACKETS = 16


class MusicFileError(Exception):
    """A music file cannot be opened or decoded."""

    code = "music-file"

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        """The file that failed."""
        self.reason = reason
        """What went wrong, for a person."""


def _reason(e: BaseException) -> str:
    if isinstance(e, av.FFmpegError):
        # FFmpeg errors repeat the file name; the bare message reads better after ours.
        return str(getattr(e, "strerror", None) or e)
    if isinstance(e, OSError):
        return str(e.strerror or e)
    return str(e) or type(e).__name__


def decode_stream(path: Path, sample_rate: int, chunk_ms: int = 100) -> Iterator[bytes]:
    """Decode a music file to mono s16le at ``sample_rate``, yielding ``chunk_ms`` chunks; blocking.

    Every chunk but the last is exactly ``chunk_ms`` long. Closing the iterator early closes the
    file. MusicFileError (raised from iteration) says why a file cannot be opened or decoded.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if chunk_ms <= 0:
        raise ValueError(f"chunk_ms must be positive, got {chunk_ms}")
    # Arguments are checked now, but the file is opened on the first next(): that way an event
    # loop can build the iterator and hand the blocking work to a worker thread.
    return _decode(Path(path), sample_rate, max(2, sample_rate * chunk_ms // 1000 * 2))


def _decode(path: Path, rate: int, chunk_bytes: int) -> Iterator[bytes]:
    if path.is_dir():
        raise MusicFileError(path, "is a directory, not a music file")
    try:
        container = av.open(str(path), mode="r")
    except FileNotFoundError:
        raise MusicFileError(path, "file not found") from None
    except PermissionError:
        raise MusicFileError(path, "permission denied") from None
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise MusicFileError(path, f"not a readable audio file ({_reason(e)})") from e
    try:
        if not container.streams.audio:
            raise MusicFileError(path, "no audio stream in file")
        stream = container.streams.audio[0]
        resampler: av.AudioResampler | None = None
        shape: tuple[str, str, int] | None = None
        buf = bytearray()
        bad = 0
        decoded_any = False
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError as e:
                    bad += 1
                    if bad > _MAX_BAD_PACKETS:
                        raise MusicFileError(path, f"audio data is corrupt ({_reason(e)})") from e
                    continue
                bad = 0
                for frame in frames:
                    if frame.samples == 0:
                        continue
                    frame_shape = (frame.format.name, frame.layout.name, int(frame.sample_rate))
                    if resampler is None or frame_shape != shape:
                        # A stream may change layout or rate midway; finish the old segment first.
                        if resampler is not None:
                            buf += _collect(resampler.resample(None))
                        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
                        shape = frame_shape
                    frame.pts = None  # timestamps are irrelevant here and jumps upset the filter
                    buf += _collect(resampler.resample(frame))
                    decoded_any = True
                while len(buf) >= chunk_bytes:
                    yield bytes(buf[:chunk_bytes])
                    del buf[:chunk_bytes]
            if resampler is not None:
                buf += _collect(resampler.resample(None))
        except av.FFmpegError as e:
            raise MusicFileError(path, f"cannot decode audio ({_reason(e)})") from e
        if not decoded_any:
            raise MusicFileError(path, "no audio could be decoded")
        while buf:
            yield bytes(buf[:chunk_bytes])
            del buf[:chunk_bytes]
    finally:
        container.close()


def _collect(frames: list[av.AudioFrame]) -> bytes:
    return b"".join(f.to_ndarray().reshape(-1).tobytes() for f in frames)
