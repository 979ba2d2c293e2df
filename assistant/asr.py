"""Speech recognition with faster-whisper, run on its own worker thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import AsrConfig
from assistant.devices import choose_device
from assistant.errors import ModelError
from assistant.models import check_ct2_dir
from assistant.workers import Worker

log = logging.getLogger(__name__)

# Whisper's own rule for "this window holds no speech": confident it is silence and unsure of
# the words. Applied here rather than inside faster-whisper so we learn that it happened.
_NO_SPEECH_PROB = 0.6
_LOW_LOGPROB = -1.0


@dataclass(frozen=True)
class Recognition:
    """The outcome of recognising one utterance."""

    text: str
    """The words heard; empty when none."""
    speech: bool
    """False when whisper judged the audio to be noise rather than speech."""


def _cuda_available() -> bool:
    import ctranslate2

    return int(ctranslate2.get_cuda_device_count()) > 0


class WhisperAsr:
    """Turns 16 kHz mono s16le utterances into text."""

    def __init__(self, model_dir: Path, config: AsrConfig) -> None:
        self.model_dir = model_dir
        self.config = config
        self.device = choose_device("asr", config.device, _cuda_available)
        self._worker = Worker("asr")
        self._model: Any = None

    def load(self) -> None:
        """Load the model (blocking): checks the files first so errors name them."""
        check_ct2_dir(self.model_dir)
        from faster_whisper import WhisperModel

        compute_type = self.config.compute_type
        if self.device == "cpu" and compute_type in ("float16", "int8_float16"):
            compute_type = "int8"  # CPUs have no fast float16 path; int8 keeps the same accuracy here
        try:
            self._model = WhisperModel(
                str(self.model_dir),
                device=self.device,
                compute_type=compute_type,
                cpu_threads=self.config.threads,
            )
        except Exception as exc:
            raise ModelError(
                f"{self.model_dir}: cannot load the whisper model ({exc}); "
                "check asr.model or reinstall it (assistant models list)"
            ) from None

    def transcribe_sync(self, pcm: bytes) -> Recognition:
        """Recognise one utterance on the calling thread."""
        if self._model is None:
            raise RuntimeError("WhisperAsr.load() must run before transcribing")
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        if audio.size == 0:
            return Recognition("", speech=False)
        segments, _ = self._model.transcribe(
            audio,
            language=self.config.language,
            beam_size=self.config.beam_size,
            # Commands are single short utterances: no timestamps or cross-window conditioning needed.
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            no_speech_threshold=None,
            log_prob_threshold=None,
        )
        words: list[str] = []
        speech = False
        for segment in segments:
            if segment.no_speech_prob > _NO_SPEECH_PROB and segment.avg_logprob < _LOW_LOGPROB:
                continue  # noise that whisper would otherwise caption ("you", ".")
            speech = True
            words.append(segment.text.strip())
        return Recognition(" ".join(words).strip(), speech)

    async def transcribe(self, pcm: bytes) -> Recognition:
        """Recognise one utterance on the ASR worker thread."""
        return await self._worker.call(lambda: self.transcribe_sync(pcm))

    async def warm(self) -> None:
        """Run one tiny recognition so the first real turn pays no first-call costs."""
        await self.transcribe(bytes(16000 * 2 // 2))

    def close(self) -> None:
        """Release the worker thread."""
        self._worker.close()
