"""Pure numpy helpers: sample format conversion, down-mixing, resampling and framing."""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

__all__ = [
    "Resampler",
    "float_to_int16",
    "frames",
    "int16_to_float",
    "pcm_to_int16",
    "resample",
    "to_mono",
]


def float_to_int16(x: np.ndarray) -> np.ndarray:
    """Convert float samples in [-1, 1] to int16, clipping anything outside."""
    # Scale by 32768 so that int16 -> float -> int16 is an exact round trip.
    scaled = np.round(np.asarray(x, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def int16_to_float(x: np.ndarray) -> np.ndarray:
    """Convert int16 samples to float32 in [-1, 1)."""
    return np.asarray(x, dtype=np.float32) / np.float32(32768.0)


def pcm_to_int16(pcm: bytes) -> np.ndarray:
    """View little-endian s16 bytes as a 1-D int16 array (an odd trailing byte is ignored)."""
    usable = len(pcm) - (len(pcm) % 2)
    return np.frombuffer(pcm[:usable], dtype="<i2").astype(np.int16, copy=False)


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels of an (n, channels) array; 1-D input is returned as is."""
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise ValueError(f"expected a 1-D or (n, channels) array, got shape {x.shape}")
    mean: np.ndarray = x.mean(axis=1, dtype=np.float64)
    if np.issubdtype(x.dtype, np.integer):
        return np.round(mean).astype(x.dtype)
    return mean.astype(x.dtype)


class Resampler:
    """Streaming sample-rate converter for mono int16; chunk boundaries are seamless."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self._av: av.AudioResampler | None = None

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Resample the next piece of the stream; may return fewer samples than it will owe."""
        x = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        if self.in_rate == self.out_rate:
            return x.copy()
        if x.size == 0:
            # libswresample fails on an empty frame; nothing to do anyway.
            return np.zeros(0, dtype=np.int16)
        if self._av is None:
            self._av = av.AudioResampler(format="s16", layout="mono", rate=self.out_rate)
        frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.in_rate
        return self._collect(self._av.resample(frame))

    def flush(self) -> np.ndarray:
        """Return the samples still held back by the filter; the resampler can then be reused."""
        if self._av is None:
            return np.zeros(0, dtype=np.int16)
        out = self._collect(self._av.resample(None))
        # A flushed libav graph cannot take more input, so start afresh next time.
        self._av = None
        return out

    @staticmethod
    def _collect(out_frames: list[av.AudioFrame]) -> np.ndarray:
        parts = [f.to_ndarray().reshape(-1) for f in out_frames]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(parts).astype(np.int16, copy=False)


def resample(x: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample a whole mono int16 signal at once."""
    r = Resampler(in_rate, out_rate)
    head = r.process(x)
    tail = r.flush()
    return np.concatenate([head, tail]) if tail.size else head


def frames(pcm: bytes, frame_bytes: int) -> Iterator[bytes]:
    """Split PCM into whole frames of ``frame_bytes``; the last partial frame is zero-padded."""
    if frame_bytes <= 0:
        raise ValueError(f"frame_bytes must be positive, got {frame_bytes}")
    for start in range(0, len(pcm), frame_bytes):
        piece = pcm[start : start + frame_bytes]
        if len(piece) < frame_bytes:
            piece = piece + bytes(frame_bytes - len(piece))
        yield piece
