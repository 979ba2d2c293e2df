"""Reading any common audio file as 16 kHz mono s16le, and writing WAV files safely."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import wave
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from ..errors import AudioFileError
from ..frames import SAMPLE_RATE
from .dsp import Resampler, float_to_int16

__all__ = ["WavWriter", "aread_audio_file", "read_audio_file", "write_wav"]

# Full-scale value of each integer sample type libav decodes to.
_INT_SCALE: dict[np.dtype[np.generic], float] = {
    np.dtype(np.int16): 32768.0,
    np.dtype(np.int32): 2147483648.0,
    np.dtype(np.int64): 9223372036854775808.0,
}


def _frame_to_mono_float(frame: av.AudioFrame) -> np.ndarray:
    """Turn one decoded frame of any sample format and layout into mono float64 in [-1, 1]."""
    arr = frame.to_ndarray()
    channels = max(1, int(frame.layout.nb_channels))
    # Planar frames come as (channels, n); packed ones as (1, n * channels), interleaved.
    inter = arr.T if frame.format.is_planar else arr.reshape(-1, channels)
    if inter.dtype == np.uint8:
        data = (inter.astype(np.float64) - 128.0) / 128.0
    elif inter.dtype in _INT_SCALE:
        data = inter.astype(np.float64) / _INT_SCALE[inter.dtype]
    else:
        data = inter.astype(np.float64)
    mono: np.ndarray = data.mean(axis=1)
    return mono


def read_audio_file(path: str | Path) -> bytes:
    """Decode an audio file (WAV, FLAC, Ogg, MP3, M4A, ...) to 16 kHz mono s16le; blocking."""
    p = Path(path)
    if not p.exists():
        raise AudioFileError(f"{p}: file not found")
    if p.is_dir():
        raise AudioFileError(f"{p}: is a directory, not an audio file")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise AudioFileError(f"{p}: cannot read file ({e.strerror or e})") from e
    if size == 0:
        raise AudioFileError(f"{p}: file is empty")
    try:
        container = av.open(str(p), mode="r")
    except PermissionError as e:
        raise AudioFileError(f"{p}: permission denied") from e
    except (av.FFmpegError, OSError) as e:
        raise AudioFileError(f"{p}: not a recognised audio file ({_reason(e)})") from e
    out: list[bytes] = []
    try:
        if not container.streams.audio:
            raise AudioFileError(f"{p}: no audio stream in file")
        stream = container.streams.audio[0]
        resampler: Resampler | None = None
        try:
            for frame in container.decode(stream):
                if frame.samples == 0:
                    continue
                rate = int(frame.sample_rate)
                if resampler is None or resampler.in_rate != rate:
                    # Rare: a stream that changes rate midway; finish the old segment first.
                    if resampler is not None:
                        out.append(resampler.flush().tobytes())
                    resampler = Resampler(rate, SAMPLE_RATE)
                mono = float_to_int16(_frame_to_mono_float(frame))
                out.append(resampler.process(mono).tobytes())
        except av.FFmpegError as e:
            raise AudioFileError(f"{p}: not a recognised audio file (corrupt data: {_reason(e)})") from e
        if resampler is not None:
            out.append(resampler.flush().tobytes())
    finally:
        container.close()
    pcm = b"".join(out)
    if not pcm:
        raise AudioFileError(f"{p}: contains no audio samples")
    return pcm


async def aread_audio_file(path: str | Path) -> bytes:
    """Decode an audio file in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(read_audio_file, path)


def _reason(e: BaseException) -> str:
    strerror = getattr(e, "strerror", None)
    return str(strerror) if strerror else str(e)


def write_wav(path: str | Path, pcm: bytes, sample_rate: int) -> None:
    """Write mono s16le PCM as a WAV file atomically (temp file, then rename); blocking."""
    with WavWriter(path, sample_rate) as w:
        w.append(pcm)


class WavWriter:
    """Incremental mono s16 WAV writer; the file appears complete at ``path`` on close."""

    def __init__(self, path: str | Path, sample_rate: int) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self.frames_written = 0
        """Samples appended so far."""
        self._tmp: Path | None = None
        self._wav: wave.Wave_write | None = None

    @property
    def is_open(self) -> bool:
        """True between open() and close()/abort()."""
        return self._wav is not None

    def open(self) -> WavWriter:
        """Start a temporary file next to the target; returns self."""
        if self._wav is not None:
            return self
        directory = self.path.parent if str(self.path.parent) else Path(".")
        # Same directory as the target so os.replace stays an atomic rename.
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        os.close(fd)
        self._tmp = Path(tmp)
        try:
            # mkstemp makes the file private (0600); a written WAV should be readable as usual.
            os.chmod(tmp, 0o644)
            # Opened by name so that closing the writer also closes the file.
            wav = wave.open(tmp, "wb")  # noqa: SIM115 - kept open until close()/abort()
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
        except BaseException:
            self._discard()
            raise
        self._wav = wav
        self.frames_written = 0
        return self

    def append(self, pcm: bytes) -> None:
        """Append mono s16le samples."""
        if self._wav is None:
            raise ValueError(f"{self.path}: WavWriter is not open")
        if len(pcm) % 2:
            raise ValueError(f"{self.path}: PCM length {len(pcm)} is not a whole number of samples")
        self._wav.writeframes(pcm)
        self.frames_written += len(pcm) // 2

    def close(self) -> None:
        """Finish the header and move the file into place."""
        wav, tmp = self._wav, self._tmp
        if wav is None or tmp is None:
            return
        self._wav = None
        try:
            wav.close()
            os.replace(tmp, self.path)
        except BaseException:
            self._discard()
            raise
        self._tmp = None

    def abort(self) -> None:
        """Throw away what was written; the target path is left untouched."""
        wav, self._wav = self._wav, None
        if wav is not None:
            with contextlib.suppress(Exception):
                wav.close()
        self._discard()

    def _discard(self) -> None:
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
            self._tmp = None

    def __enter__(self) -> WavWriter:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A failure halfway would leave a misleading half file, so only success replaces it.
        if exc_type is None:
            self.close()
        else:
            self.abort()
