"""Wake word spotting with microWakeWord models (pymicro-wakeword, TensorFlow Lite).

The detector is a synchronous state machine fed with audio of any length (the pipeline's 30 ms
frames). Its cost is about 4 ms of CPU per second of audio (0.12 ms a frame), so it runs inline
on the event loop: handing each frame to a worker thread would cost more than the inference.

pymicro-wakeword loads the model; the features (pymicro-features, the TFLite Micro audio
frontend, 10 ms steps) and the inference (every ``stride`` steps) are run here on preallocated
buffers: the library's per-step Python (list to array, concatenation, statistics.mean) cost a
third more, which matters for something that runs all day.
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pymicro_wakeword
from pymicro_features import MicroFrontend
from pymicro_wakeword import MicroWakeWord

from assistant.errors import ModelError
from assistant.frames import WakeDetected
from assistant.models.checks import check_tflite

log = logging.getLogger(__name__)

DEFAULT_CUTOFF = 0.9
"""Probability cutoff for a model that ships without its .json settings."""
DEFAULT_WINDOW = 5
"""Probabilities averaged per decision, for a model without its .json settings."""

_STEP_BYTES = 320
"""The audio frontend computes one feature vector per 10 ms (160 samples)."""


@dataclass(frozen=True)
class WakeModelInfo:
    """What a microWakeWord model's .json beside its .tflite says about it."""

    name: str
    """Model name: the file's stem (e.g. "okay_nabu")."""
    phrase: str
    """The wake phrase as people say it (e.g. "Okay Nabu")."""
    probability_cutoff: float
    """The cutoff its author recommends."""
    sliding_window: int
    """How many successive probabilities are averaged before comparing with the cutoff."""


def model_info(path: Path) -> WakeModelInfo:
    """Read the settings of the model at ``path`` (a .tflite) from its .json, else use defaults."""
    settings = path.with_suffix(".json")
    name = path.stem
    if not settings.is_file():
        return WakeModelInfo(name, name.replace("_", " ").title(), DEFAULT_CUTOFF, DEFAULT_WINDOW)
    try:
        data: Any = json.loads(settings.read_text(encoding="utf-8"))
        micro = data["micro"]
        cutoff = float(micro["probability_cutoff"])
        window = int(micro["sliding_window_size"])
        phrase = str(data.get("wake_word") or name)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(
            f"{settings}: not a microWakeWord model config (needs micro.probability_cutoff "
            f"and micro.sliding_window_size): {exc}"
        ) from None
    if not 0 < cutoff < 1 or window < 1:
        raise ModelError(f"{settings}: probability_cutoff must be in (0, 1) and sliding_window_size ≥ 1")
    return WakeModelInfo(name, phrase, cutoff, window)


def _tflite_library() -> Path:
    lib_dir = Path(pymicro_wakeword.__file__).parent / "lib"
    found = next(iter(sorted(lib_dir.glob("*tensorflowlite_c.*"))), None)
    if found is None:
        raise ModelError(
            f"the TensorFlow Lite library of pymicro-wakeword is missing from {lib_dir}; "
            "reinstall it with `pip install --force-reinstall pymicro-wakeword`"
        )
    return found


class WakeWordDetector:
    """Hears one wake word in 16 kHz mono s16le audio, fed in frames of any length."""

    def __init__(
        self,
        model_path: Path,
        *,
        probability_cutoff: float | None = None,
        refractory_s: float = 2.0,
    ) -> None:
        # A file that is not TFLite makes the C library fail without a message (or crash).
        check_tflite(model_path)
        self.info = model_info(model_path)
        self.probability_cutoff = (
            self.info.probability_cutoff if probability_cutoff is None else probability_cutoff
        )
        """Probability above which the wake word counts (config, else the model's own)."""
        self.refractory_s = refractory_s
        """After a detection, nothing more is detected for this long."""
        self._model = MicroWakeWord(
            self.info.name,
            wake_word=self.info.phrase,
            tflite_model=model_path,
            probability_cutoff=self.probability_cutoff,
            sliding_window_size=self.info.sliding_window,
            trained_languages=[],
            libtensorflowlite_c_path=_tflite_library(),
        )
        self._frontend = MicroFrontend()
        self._audio = bytearray()
        """Audio not yet turned into features (less than 10 ms)."""
        self._filled = 0
        """Feature vectors in the input window since the last inference."""
        self._bind()
        self._recent: deque[float] = deque(maxlen=self.info.sliding_window)
        """The latest probabilities from the model; their mean is compared with the cutoff."""
        self._quiet_until = float("-inf")
        self._armed = True
        self.detections = 0
        """Wake words heard since start."""
        self.probability = 0.0
        """The latest averaged probability (what the cutoff is compared with)."""
        self.max_probability = 0.0
        """Highest probability seen since start or the last reset (to tune the cutoff)."""

    @property
    def name(self) -> str:
        """The model's name, e.g. "okay_nabu"."""
        return self.info.name

    @property
    def phrase(self) -> str:
        """The wake phrase, e.g. "Okay Nabu"."""
        return self.info.phrase

    def _bind(self) -> None:
        """Buffers shaped like the interpreter's tensors (again after the model is reloaded)."""
        m = self._model
        if not m.interpreter:
            raise ModelError(f"wake word model {self.name} could not be loaded")
        lib = m.lib
        shape = tuple(
            lib.TfLiteTensorDim(m.input_tensor, i) for i in range(lib.TfLiteTensorNumDims(m.input_tensor))
        )
        if len(shape) != 3 or shape[0] != 1:
            raise ModelError(f"wake word model {self.name}: input shape {shape} is not (1, steps, features)")
        self._stride = shape[1]
        self._window = np.zeros(shape, dtype=np.float32)
        self._quantized = np.zeros(shape, dtype=m.input_dtype)
        out_bytes = lib.TfLiteTensorByteSize(m.output_tensor)
        self._output = np.zeros(out_bytes // np.dtype(m.output_dtype).itemsize, dtype=m.output_dtype)
        self._in_ptr = self._quantized.ctypes.data_as(ctypes.c_void_p)
        self._out_ptr = self._output.ctypes.data_as(ctypes.c_void_p)

    def _infer(self) -> float:
        """Run the model on the full input window; its probability that the wake word just ended."""
        m = self._model
        if not m.interpreter:
            raise ModelError(f"wake word model {self.name} was closed")
        # Quantize as the model expects; the cast wraps around like the library's astype().
        self._quantized[...] = np.round(self._window / m.input_scale + m.input_zero_point)
        lib = m.lib
        lib.TfLiteTensorCopyFromBuffer(m.input_tensor, self._in_ptr, self._quantized.nbytes)
        if lib.TfLiteInterpreterInvoke(m.interpreter) != 0:
            raise ModelError(f"wake word model {self.name} failed to run")
        lib.TfLiteTensorCopyToBuffer(m.output_tensor, self._out_ptr, self._output.nbytes)
        return float((float(self._output[0]) - m.output_zero_point) * m.output_scale)

    def feed(self, pcm: bytes, t: float) -> WakeDetected | None:
        """Take the next audio (which ends at monotonic time ``t``); return a detection if one happens."""
        heard: WakeDetected | None = None
        audio = self._audio
        audio.extend(pcm)
        used = 0
        while len(audio) - used >= _STEP_BYTES:
            step = self._frontend.process_samples(bytes(audio[used : used + _STEP_BYTES]))
            if step.samples_read <= 0:
                break  # cannot happen with whole steps; never loop forever if it does
            used += step.samples_read * 2
            if not step.features:
                continue  # the frontend's first window is not full yet
            self._window[0, self._filled] = step.features
            self._filled += 1
            if self._filled < self._stride:
                continue
            self._filled = 0
            recent = self._recent
            recent.append(self._infer())
            if len(recent) < self.info.sliding_window:
                continue  # too little heard yet to judge
            probability = sum(recent) / len(recent)
            self.probability = probability
            self.max_probability = max(self.max_probability, probability)
            if probability <= self.probability_cutoff:
                # One utterance of the wake word keeps the average high for several steps:
                # it counts once, and the detector re-arms only once the average has fallen.
                self._armed = True
                continue
            if heard is None and self._armed and t >= self._quiet_until:
                heard = WakeDetected(self.name, self.phrase, round(probability, 3), t)
                self._armed = False
                self._quiet_until = t + self.refractory_s
                self.detections += 1
        del audio[:used]
        return heard

    def reset(self) -> None:
        """Forget the audio heard so far (a new stream starts); the refractory period stays."""
        self._frontend.reset()
        self._audio.clear()
        self._model.reset()  # reloads the interpreter: its tensors are new
        self._bind()
        self._filled = 0
        self._recent.clear()
        self._armed = True
        self.probability = self.max_probability = 0.0

    def close(self) -> None:
        """Release the TensorFlow Lite interpreter."""
        self._model.close()
