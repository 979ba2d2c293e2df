"""Speech synthesis with piper, run on its own worker thread."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from assistant.config import TtsConfig
from assistant.devices import choose_device
from assistant.errors import ModelError
from assistant.frames import ReplyAudio
from assistant.models import check_piper_voice
from assistant.workers import Worker

log = logging.getLogger(__name__)


def _cuda_available() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


class PiperTts:
    """Turns reply text into 16-bit mono audio at the voice's own sample rate."""

    def __init__(self, voice_path: Path, config: TtsConfig) -> None:
        self.voice_path = voice_path
        self.config = config
        self.device = choose_device("tts", config.device, _cuda_available)
        self._worker = Worker("tts")
        self._voice: Any = None
        self.sample_rate = 0

    def load(self) -> None:
        """Load the voice (blocking): checks the files first so errors name them."""
        check_piper_voice(self.voice_path)
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        config_path = Path(f"{self.voice_path}.json")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.config.threads
        options.inter_op_num_threads = 1
        providers = ["CUDAExecutionProvider"] if self.device == "cuda" else ["CPUExecutionProvider"]
        try:
            voice_config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            session = onnxruntime.InferenceSession(
                str(self.voice_path), sess_options=options, providers=providers
            )
            self._voice = PiperVoice(config=voice_config, session=session)
        except Exception as exc:
            raise ModelError(
                f"{self.voice_path}: cannot load the piper voice ({exc}); check tts.voice or reinstall it"
            ) from None
        self.sample_rate = int(voice_config.sample_rate)

    def synthesize_sync(self, text: str) -> bytes:
        """Synthesize ``text`` on the calling thread; returns s16le mono PCM."""
        if self._voice is None:
            raise RuntimeError("PiperTts.load() must run before synthesizing")
        from piper.config import SynthesisConfig

        settings = SynthesisConfig(length_scale=self.config.length_scale)
        return b"".join(chunk.audio_int16_bytes for chunk in self._voice.synthesize(text, settings))

    async def synthesize(self, text: str) -> ReplyAudio:
        """Synthesize ``text`` on the TTS worker thread."""
        pcm = await self._worker.call(lambda: self.synthesize_sync(text))
        return ReplyAudio(pcm=pcm, sample_rate=self.sample_rate, text=text)

    async def warm(self) -> None:
        """Synthesize one word so the first reply pays no first-call costs."""
        await self.synthesize("Ready.")

    def close(self) -> None:
        """Release the worker thread."""
        self._worker.close()
