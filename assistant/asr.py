"""Speech recognition with faster-whisper, run on its own worker thread."""

from __future__ import annotations

import logging
import re
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

FULL_WINDOW_S = 30.0
_WINDOW_MARGIN_S = 2.0  # audio this close to the window's end takes the full 30 s path
_TOKENS_PER_S = 6

# Whisper's own rule for "this window holds no speech": confident it is silence and unsure of
# the words. Applied here rather than inside faster-whisper so we learn that it happened.
_NO_SPEECH_PROB = 0.6
_LOW_LOGPROB = -1.0
# Beam search finds likelier words for silence ("Thank you.", avg log-prob -0.95) than greedy
# decoding does, so near-certain silence counts as noise whatever the words' score: silence and
# noise score 0.96 here, 120 synthesized commands at most 0.60.
_SURELY_NO_SPEECH_PROB = 0.9
_WORDLESS = re.compile(r"[^\w]*")


def _is_noise(no_speech_prob: float, avg_logprob: float) -> bool:
    if no_speech_prob > _SURELY_NO_SPEECH_PROB:
        return True
    return no_speech_prob > _NO_SPEECH_PROB and avg_logprob < _LOW_LOGPROB


def _wordless(text: str) -> bool:
    """Only punctuation ("." or ". ."): what whisper writes for a sound that is not speech."""
    return _WORDLESS.fullmatch(text) is not None


def trim_repetition(text: str) -> str:
    """Cut a transcript where the rest only repeats its beginning ("What time is it? What time"),
    the failure mode of a short window; a text that says something new after a repeat is kept."""
    words = text.split()
    bare = [w.strip(".,?!;:").lower() for w in words]
    for cut in range(2, len(words) - 1):
        tail, period = bare[cut:], bare[:cut]
        repeated = (period * (len(tail) // len(period) + 1))[: len(tail)]
        if tail == repeated:
            return " ".join(words[:cut])
    return text


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
        self._tokenizer: Any = None
        self._prompt: list[int] = []
        self._suppress: list[int] = []

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

    def decode_options(self) -> dict[str, Any]:
        """Our decoding options for faster-whisper's ``transcribe``."""
        return {
            "language": self.config.language,
            "beam_size": self.config.beam_size,
            # Commands are single short utterances: no timestamps or cross-window conditioning.
            "without_timestamps": True,
            "condition_on_previous_text": False,
            "vad_filter": False,
            # Decided below, where we can tell "noise" apart from "no words".
            "no_speech_threshold": None,
            "log_prob_threshold": None,
        }

    def transcribe_sync(self, pcm: bytes, options: dict[str, Any] | None = None) -> Recognition:
        """Recognise one utterance on the calling thread.

        ``options`` switches to faster-whisper's own ``transcribe`` with those options (the bench's
        baseline); without it, short utterances take the short-window path.
        """
        if self._model is None:
            raise RuntimeError("WhisperAsr.load() must run before transcribing")
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        if audio.size == 0:
            return Recognition("", speech=False)
        window_s = self.config.window_s
        if options is None and window_s < FULL_WINDOW_S and audio.size / 16000 + _WINDOW_MARGIN_S <= window_s:
            return self._decode_window(audio, window_s)
        segments, _ = self._model.transcribe(audio, **(self.decode_options() if options is None else options))
        words: list[str] = []
        speech = False
        for segment in segments:
            if _is_noise(segment.no_speech_prob, segment.avg_logprob):
                continue  # noise that whisper would otherwise caption ("you", ".")
            if _wordless(segment.text):
                continue
            speech = True
            words.append(segment.text.strip())
        return Recognition(" ".join(words).strip(), speech)

    def _decode_window(self, audio: np.ndarray, window_s: float) -> Recognition:
        """Encode only ``window_s`` seconds instead of whisper's padded 30: the encoder's cost
        shrinks with its input, and short commands keep their words down to about 10 s."""
        from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens

        model = self._model
        if self._tokenizer is None:
            from faster_whisper.tokenizer import Tokenizer

            self._tokenizer = Tokenizer(
                model.hf_tokenizer,
                model.model.is_multilingual,
                task="transcribe",
                language=self.config.language,
            )
            self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
            self._suppress = get_suppressed_tokens(self._tokenizer, [-1])
        features = model.feature_extractor(audio)
        frames = int(window_s * 100)
        frames += frames % 2  # the encoder's convolution halves the frame count
        features = np.pad(features[:, :frames], ((0, 0), (0, max(0, frames - features.shape[-1]))))
        encoded = model.model.encode(get_ctranslate2_storage(np.expand_dims(features, 0)))
        # People say about 3 words a second; this bounds a runaway repetition loop.
        max_tokens = int(audio.size / 16000 * _TOKENS_PER_S) + 8
        result = model.model.generate(
            encoded,
            [self._prompt],
            beam_size=self.config.beam_size,
            max_length=max_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        text = self._tokenizer.decode(tokens).strip()
        if _is_noise(result.no_speech_prob, avg_logprob) or _wordless(text):
            return Recognition("", speech=False)
        return Recognition(trim_repetition(text), speech=True)

    async def transcribe(self, pcm: bytes, options: dict[str, Any] | None = None) -> Recognition:
        """Recognise one utterance on the ASR worker thread."""
        return await self._worker.call(lambda: self.transcribe_sync(pcm, options))

    async def warm(self) -> None:
        """Run one tiny recognition so the first real turn pays no first-call costs."""
        await self.transcribe(bytes(16000 * 2 // 2))

    def close(self) -> None:
        """Release the worker thread."""
        self._worker.close()
