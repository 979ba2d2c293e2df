"""Speech synthesis with piper, run on its own worker thread."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from assistant.config import TtsConfig
from assistant.devices import choose_device
from assistant.errors import ModelError
from assistant.frames import ReplyAudio
from assistant.metrics import CacheCounters
from assistant.models import check_piper_voice
from assistant.speak.cache import MAX_CACHED_CHARS, PhraseCache, PhraseKey
from assistant.workers import Worker

log = logging.getLogger(__name__)


def _cuda_available() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


class PiperTts:
    """Turns reply text into 16-bit mono audio at the voice's own sample rate."""

    def __init__(
        self, voice_path: Path, config: TtsConfig, cache_counters: CacheCounters | None = None
    ) -> None:
        self.voice_path = voice_path
        self.config = config
        self.cache = PhraseCache(config.cache_mb * 1024 * 1024, cache_counters)
        """Audio of short pieces already said; shared by every session."""
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

    def _key(self, text: str) -> PhraseKey:
        return PhraseKey(str(self.voice_path), self.config.length_scale, text)

    async def synthesize(self, text: str, *, cache: bool = True) -> ReplyAudio:
        """Synthesize ``text`` on the TTS worker thread, or take it from the phrase cache.

        Pieces up to MAX_CACHED_CHARS are cached; ``cache=False`` neither looks nor stores.
        """
        key = self._key(text)
        pcm = self.cache.get(key) if cache else None
        if pcm is None:
            pcm = await self._worker.call(lambda: self.synthesize_sync(text))
            if cache and len(text) <= MAX_CACHED_CHARS:
                self.cache.put(key, pcm)
        return ReplyAudio(pcm=pcm, sample_rate=self.sample_rate, text=text)

    async def warm(self, phrases: Iterable[str] = ()) -> None:
        """Pre-synthesize fixed phrases into the cache (pinned), which also pays first-call costs."""
        phrases = [p for p in phrases if p]
        if not phrases:
            await self.synthesize("Ready.", cache=False)
            return
        for text in phrases:
            key = self._key(text)
            if key not in self.cache:
                # Pinned: the filler must cost no synthesis time however many other phrases came since.
                pcm = await self._worker.call(functools.partial(self.synthesize_sync, text))
                self.cache.put(key, pcm, pinned=True)

    def close(self) -> None:
        """Release the worker thread."""
        self._worker.close()
