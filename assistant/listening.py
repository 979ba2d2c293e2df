"""Listening for utterances: VAD and endpointer, plus speculative recognition at every pause.

When the person pauses, the speech so far is transcribed at once on the ASR worker. If the
pause lasts long enough and that transcript is already a complete command, the turn ends there,
well before the ordinary end-of-speech silence; otherwise the listener keeps waiting. Either
way a transcript of exactly the final audio is handed on, so nothing is recognised twice.

A gate in front of the endpointer decides when a command may start. In ``always`` mode every
utterance is a command. In ``wake`` mode the wake word detector hears every frame, and only a
detection opens the gate: the endpointer starts afresh where the wake word ended, so the wake
word does not reach speech recognition and a command said in the same breath is caught whole. In
``push_to_talk`` mode (and in ``wake`` mode too) the gate also opens on request: the follow-up
window after a reply, or a button. An open gate waits a limited time for speech to start and
closes again once the utterance is over.

While the assistant's own voice may reach the microphone (``echo_until``) no command starts,
whatever the mode; but a short utterance said over its speech is cut out and recognised, and
its words, unless they are words the assistant is saying itself (``echo_text``), go to
``on_interjection``: that is how a bare "stop" cuts a reply off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable

from assistant.asr import Recognition, WhisperAsr
from assistant.frames import AudioChunk, SpeechEnded, SpeechStarted, WakeDetected
from assistant.listen.endpoint import Endpointer
from assistant.listen.interject import Interjections
from assistant.listen.unfinished import sounds_unfinished
from assistant.listen.vad import Vad
from assistant.listen.wake import WakeWordDetector

log = logging.getLogger(__name__)

_END = object()

MODES = ("wake", "always", "push_to_talk")
"""When commands are listened for: after the wake word, always, or only when asked."""

WAKE_LOOKBACK_FRAMES = 5
"""Frames up to and including a wake detection that a command said without a pause starts with.

The model's averaged probability crosses the cutoff up to about 150 ms after the wake word
ends, so a command said in the same breath has already begun ("okay nabu what time is it" was
heard as "time is it"). After a pause the look-back would only add the end of the wake word,
which whisper turns into a stray word ("So, remind me ..."), so it is used only when voice
follows at once. On 192 synthesized phrases (4 wake words, 8 commands, 3 speeds, with and
without a comma), commands routed right after a pause: 88/96 with or without this; in the same
breath: 24/58 heard without it, 48/58 with it (fixed look-backs of 90 or 120 ms: 41 or 45, and
the 120 ms one cost 4 of the paused ones).
"""

WAKE_PAUSE_FRAMES = 3
"""Unvoiced frames right after a detection that mean a pause: the look-back is dropped."""

WAKE_BATCH_FRAMES = 3
"""Frames given to the wake word detector at once while nothing but it listens (idle).

Run every 30 ms, the detector finds its code and data evicted from the CPU caches each time:
it cost 1.9 % of a core so (0.4 % when fed without pauses); three frames at a time cost 0.95 %,
for at most 60 ms more before a detection is noticed (the command itself loses nothing: the
frames are all still there).
"""


@dataclasses.dataclass
class _Speculation:
    """One speculative recognition of the utterance so far."""

    task: asyncio.Future[Recognition]
    """Recognition of the utterance up to the pause; stale once a voiced frame follows."""
    complete: bool | None = None
    """Whether its transcript is a complete command; None until it is known."""
    announced: bool = False
    """Its transcript has been handed to ``on_pause`` (it is not a complete command)."""


class Listener:
    """Turns audio chunks into utterances behind the wake word gate, ending early on a complete command."""

    def __init__(
        self,
        vad: Vad,
        endpointer: Endpointer,
        asr: WhisperAsr | None,
        is_complete: Callable[[str], bool],
        *,
        partial_after_ms: int,
        complete_command_ms: int,
        mode: str = "always",
        detector: WakeWordDetector | None = None,
        no_speech_timeout_s: float = 5.0,
        on_wake: Callable[[WakeDetected], Awaitable[None]] | None = None,
        on_pause: Callable[[str | None], None] | None = None,
        unfinished_extra_ms: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"listening mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "wake" and detector is None:
            raise ValueError("the wake listening mode needs a wake word detector")
        if no_speech_timeout_s <= 0:
            raise ValueError(f"no_speech_timeout_s must be positive, got {no_speech_timeout_s}")
        self.mode = mode
        self.detector = detector if mode == "wake" else None
        self.no_speech_timeout_s = no_speech_timeout_s
        self.on_wake = on_wake
        """Awaited on each wake word detection (the session plays the chime); errors are logged."""
        self.on_pause = on_pause
        """Told the transcript of a pause that is not a complete command (the session may start
        answering it), then None if that transcript goes stale (the person went on, or the
        utterance was dropped). Not told again when the utterance ends with exactly that text."""
        self.clock: Callable[[], float] = time.monotonic
        """The time base of the frames' ``t`` (monotonic, for live sources): "now" for open_window()."""
        self.last_wake: WakeDetected | None = None
        """The latest wake word detection, for status."""
        self._open_until: float | None = None
        """While the gate is open: the latest time speech may start; None when it is closed."""
        self._pending: tuple[float, float, bool] | None = None
        """A window asked for by open_window(): (from when, seconds, asked for by a person)."""
        self._recent: deque[AudioChunk] = deque(maxlen=WAKE_LOOKBACK_FRAMES)
        """The latest frames the detector heard (the look-back, once it detects)."""
        self._lookback: list[AudioChunk] = []
        """The last frames up to a detection, kept until the next frames say whether a pause
        follows the wake word (then they are dropped) or the command goes straight on."""
        self._after_wake: list[tuple[AudioChunk, bool]] = []
        """Frames after a detection, with their VAD labels, held while that is not known yet."""
        self.vad = vad
        self.endpointer = endpointer
        self.asr = asr
        self.is_complete = is_complete
        self.partial_after_ms = partial_after_ms
        self.complete_command_ms = complete_command_ms
        self.unfinished_extra_ms = unfinished_extra_ms
        """More end silence when the pause's transcript stops mid-sentence ("set a timer for")."""
        self.held_open = 0
        """Pauses that did not end an utterance because its words stopped mid-sentence."""
        self.last_frame_t = time.monotonic()
        """When the last audio frame arrived (the daemon's watchdog checks it)."""
        self.early_ends = 0
        """Utterances ended early on a complete command (shown by the bench and status)."""
        self._speculation: _Speculation | None = None
        self.echo_until: Callable[[], float] | None = None
        """Self-hearing gate: the monotonic time until which the assistant's own voice may reach
        the microphone (its speech, plus a tail); no utterance starts before then. None = no gate."""
        self.echo_gated = 0
        """Voiced frames not allowed to start an utterance because the assistant was speaking."""
        self.echo_text: Callable[[], str] | None = None
        """What the assistant is saying now (the pieces playing, queued or just played): words
        heard over its speech that it is saying itself are its own echo, not a person's."""
        self.on_interjection: Callable[[str], Awaitable[None]] | None = None
        """Awaited with the words of a short utterance a person said over the assistant's own
        speech (the session stops on "stop"); errors are logged. None = not listened for."""
        self.music_playing: Callable[[], bool] | None = None
        """Whether music plays now: then, while no command may start (no wake word yet), a short
        utterance over it is listened to as over its speech, for a bare "stop"."""
        self.interjections = Interjections()
        """Cuts short utterances out of the frames the self-hearing gate holds back."""
        self.overheard_vad: Vad | None = None
        """The VAD of those short utterances, apart from ``vad``: webrtcvad carries state from
        frame to frame, and one that had just heard the wake word over its speech would call the
        frames after it voiced (they would start the command with the end of the wake word).
        None = short utterances are not listened for."""
        self.own_words = 0
        """Short utterances over its speech whose words it was saying itself: ignored."""
        self._interjection: asyncio.Future[Recognition] | None = None
        """Recognition of the latest short utterance heard over its speech."""
        self._has_floor = False
        """The gate was opened by the wake word or push-to-talk: the person has the floor, even
        over the chime."""

    @property
    def has_floor(self) -> bool:
        """True from the wake word (or push-to-talk) to the end of the command said after it."""
        return self._has_floor

    @property
    def accepting(self) -> bool:
        """True while a command may start without the wake word: always mode, or a window is open
        (or asked for and opening with the next frame)."""
        return self.mode == "always" or self._open_until is not None or self._pending is not None

    def open_window(self, seconds: float, *, after: float | None = None, asked: bool = False) -> None:
        """Accept a command without the wake word if speech starts within ``seconds``.

        The window opens with the first frame that arrives at or after ``after`` (monotonic
        time, default now): audio from before, such as the assistant's own reply still queued
        from the microphone, is not listened to. No effect in ``always`` mode. ``asked``: a
        person asked for it (push-to-talk), so like the wake word it gives them the floor over
        the self-hearing gate (the chime may still be playing as they speak).
        """
        if seconds <= 0:
            raise ValueError(f"a listening window must be positive, got {seconds} s")
        if self.mode != "always":
            self._pending = (self.clock() if after is None else after, seconds, asked)

    def close_window(self) -> None:
        """Stop accepting commands until the wake word (or the next window); drops one in progress."""
        self._pending = None
        if self.mode != "always":
            self._close()

    async def utterances(self, source: AsyncIterable[AudioChunk]) -> AsyncGenerator[SpeechEnded, None]:
        """Yield each utterance heard in ``source``; the end of the source ends one in progress."""
        if self.detector is not None:
            self.detector.reset()  # a new stream: no features carried over from another one
        chunks = aiter(source)
        pending: asyncio.Future[object] | None = None
        last_t = time.monotonic()
        held: list[AudioChunk] = []
        try:
            while True:
                spec = self._speculation
                racing = spec is not None and not spec.task.done()
                item: object = None
                if pending is None and not racing:
                    # Nothing to race the next chunk against: no task per frame.
                    item = await _next(chunks)
                else:
                    if pending is None:
                        pending = asyncio.ensure_future(_next(chunks))
                    waiting: set[asyncio.Future[object]] = {pending}
                    if spec is not None and racing:
                        # Whichever comes first: the next chunk, or the transcript of the pause.
                        waiting.add(spec.task)  # type: ignore[arg-type]
                    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    if pending.done():
                        item, pending = pending.result(), None
                if isinstance(item, AudioChunk):
                    last_t = item.t
                    held.append(item)
                    if self._waiting_for_wake() and len(held) < WAKE_BATCH_FRAMES:
                        continue
                if held:
                    frames, held = held, []
                    for chunk in frames:
                        event = self._feed(chunk)
                        if isinstance(event, WakeDetected):
                            await self._woken(event)
                        elif event is not None:
                            yield await self._with_transcript(event)
                    if self._interjection is not None and self._interjection.done():
                        await self._interjected()
                if item is _END:
                    break
                early = self._early_end()
                if early is not None:
                    yield early
            tail = self.endpointer.end_now(last_t)
            if tail is not None:
                yield await self._with_transcript(tail)
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await self._drop_speculation()
            await self._drop_interjection()

    def _feed(self, chunk: AudioChunk) -> SpeechEnded | WakeDetected | None:
        self.last_frame_t = time.monotonic()
        if self.detector is not None:
            self._recent.append(chunk)
            wake = self.detector.feed(chunk.pcm, chunk.t)
            if wake is not None:
                # Start the utterance afresh at the end of the wake word, dropping it from the
                # pre-roll (and from an utterance already started, as in a follow-up window).
                self._close()
                self._open_until = chunk.t + self.no_speech_timeout_s
                self.last_wake = wake
                self._lookback = list(self._recent)
                self._recent.clear()
                self._has_floor = True
                return wake
        gate_open = self._gate_open(chunk.t)
        overheard_vad = self.overheard_vad if self.on_interjection is not None else None
        over_music = not gate_open and self.music_playing is not None and self.music_playing()
        if overheard_vad is not None and (over_music or self._hears_itself(chunk.t)):
            # Said over its speech or music, a short word may still be for it ("stop"); the gate
            # below keeps it from starting a command either way.
            overheard = self.interjections.feed(chunk.pcm, overheard_vad.is_speech(chunk.pcm))
            self._recognise_interjection(overheard)
        elif self.interjections.active:
            self._recognise_interjection(self.interjections.flush())  # its speech has ended
        if not gate_open:
            return None
        voiced = self.vad.is_speech(chunk.pcm)
        if voiced and self._hears_itself(chunk.t):
            self.echo_gated += 1
            voiced = False  # its own voice: the pre-roll keeps it, but it starts nothing
        if not self._lookback:
            return self._endpoint(chunk, voiced)
        self._after_wake.append((chunk, voiced))
        if not voiced and len(self._after_wake) < WAKE_PAUSE_FRAMES:
            return None  # whether a pause follows the wake word is not known yet
        # Voice within the first frames after the wake word: the command began before the
        # detection came, so it starts with the look-back; after a pause it starts afresh.
        frames = [(c, self.vad.is_speech(c.pcm)) for c in self._lookback] if voiced else []
        frames += self._after_wake
        self._lookback, self._after_wake = [], []
        for held, held_voiced in frames:
            ended = self._endpoint(held, held_voiced)
            if ended is not None:
                return ended
        return None

    def _endpoint(self, chunk: AudioChunk, voiced: bool) -> SpeechEnded | None:
        event = self.endpointer.feed(chunk.pcm, voiced, chunk.t)
        if isinstance(event, SpeechStarted):
            self._forget_speculation()
            return None
        if isinstance(event, SpeechEnded):
            if event.truncated:
                log.warning(
                    "utterance reached the maximum length (%.1f s) and was cut",
                    self.endpointer.settings.max_utterance_s,
                )
            self._utterance_over()
            return event
        if not self.endpointer.in_speech:
            return None
        spec = self._speculation
        if voiced:
            if spec is not None:
                self._forget_speculation()  # they kept talking: that transcript is out of date
        elif (
            spec is None
            and self.asr is not None
            and self.partial_after_ms > 0
            and self.endpointer.silent_ms >= self.partial_after_ms
        ):
            audio = self.endpointer.snapshot()
            self._speculation = _Speculation(asyncio.ensure_future(self.asr.transcribe(audio)))
        return None

    def _early_end(self) -> SpeechEnded | None:
        spec = self._speculation
        if spec is None or not spec.task.done() or spec.task.cancelled():
            return None
        if spec.task.exception() is not None:
            return None
        heard = spec.task.result()
        if not heard.speech:
            return None
        if spec.complete is None:
            spec.complete = self._complete(heard.text)
            if not spec.complete and self.unfinished_extra_ms and sounds_unfinished(heard.text):
                # "Set a timer for ...": they are thinking; neither end nor answer yet.
                self.endpointer.wait_longer(self.unfinished_extra_ms)
                self.held_open += 1
            elif not spec.complete:
                spec.announced = True
                self._tell_pause(heard.text)
        if not spec.complete or self.endpointer.silent_ms < self.complete_command_ms:
            return None
        now = time.monotonic()
        ended = self.endpointer.end_now(now)
        self._speculation = None
        if ended is None:
            return None
        self._utterance_over()
        self.early_ends += 1
        return dataclasses.replace(ended, heard=heard.text, t_heard=now)

    def _hears_itself(self, t: float) -> bool:
        """Whether a voiced frame at ``t`` may be the assistant's own voice starting an utterance."""
        if self.echo_until is None or self._has_floor or self.endpointer.in_speech:
            # After the wake word a person is talking; an utterance already begun runs on.
            return False
        return t < self.echo_until()

    def _recognise_interjection(self, audio: bytes | None) -> None:
        """Start recognising a short utterance heard over its speech (one at a time)."""
        if audio is None or self.asr is None:
            return
        if self._interjection is not None and not self._interjection.done():
            log.debug("a short utterance over its speech is still being recognised; dropping the next")
            return
        self._interjection = asyncio.ensure_future(self.asr.transcribe(audio))

    async def _interjected(self) -> None:
        """Hand on the words of a short utterance said over its speech, unless they are its own."""
        task, self._interjection = self._interjection, None
        if task is None or task.cancelled():
            return
        if task.exception() is not None:
            log.warning("recognising a short utterance over its speech failed: %r", task.exception())
            return
        heard = task.result()
        words = _once(_words(heard.text))
        if not heard.speech or not words:
            return
        if self._says_itself(words):
            self.own_words += 1
            log.info("heard %r over its speech, which it is saying itself; ignored", heard.text)
            return
        log.info("heard %r said over its speech", heard.text)
        if self.on_interjection is None:
            return
        try:
            await self.on_interjection(" ".join(words))
        except Exception:
            log.exception("handling words said over its speech failed; listening goes on")

    def _says_itself(self, words: list[str]) -> bool:
        """Whether ``words``, in order, are among the words it is saying now."""
        said = self.echo_text() if self.echo_text is not None else ""
        return f" {' '.join(words)} " in f" {' '.join(_words(said))} "

    async def _drop_interjection(self) -> None:
        task, self._interjection = self._interjection, None
        if task is not None:
            task.cancel()
            task.add_done_callback(_ignore_result)
            await asyncio.wait({task})  # our own cancellation still propagates

    def _waiting_for_wake(self) -> bool:
        """Only the wake word can open the gate now, so frames may wait to be taken together."""
        return self.detector is not None and self._open_until is None and self._pending is None

    def _gate_open(self, t: float) -> bool:
        """Whether the frame at ``t`` goes to the endpointer; opens and times out windows."""
        if self.mode == "always":
            return True
        pending = self._pending
        if pending is not None and t >= pending[0]:
            self._pending = None
            self._open_until = max(self._open_until or t, t + pending[1])
            self._has_floor = self._has_floor or pending[2]
        if self._open_until is None:
            return False
        if self.endpointer.in_speech:
            return True  # an utterance that started in time runs to its end
        if t > self._open_until:
            log.info("no speech heard in time; waiting for the wake word again")
            self._close()
            return False
        return True

    def _close(self) -> None:
        """Close the gate and forget the audio gathered since it opened."""
        self._open_until = None
        self._has_floor = False
        self._lookback, self._after_wake = [], []
        self.endpointer.reset()
        self.interjections.reset()
        self._forget_speculation()

    def _utterance_over(self) -> None:
        self._has_floor = False
        if self.mode != "always":
            self._open_until = None  # the next command needs the wake word or a new window

    async def _woken(self, wake: WakeDetected) -> None:
        log.info("wake word %r heard (probability %.2f)", wake.phrase, wake.probability)
        if self.on_wake is None:
            return
        try:
            await self.on_wake(wake)
        except Exception:
            # A chime that cannot play must not stop the command from being heard.
            log.exception("handling the wake word failed; listening goes on")

    def _complete(self, text: str) -> bool:
        try:
            return self.is_complete(text)
        except Exception:
            # Understanding failed: the turn will fail visibly later; listening goes on.
            log.exception("could not judge whether %r is a complete command", text)
            return False

    async def _with_transcript(self, ended: SpeechEnded) -> SpeechEnded:
        """Attach the speculative transcript when it covers exactly this utterance's words."""
        spec, self._speculation = self._speculation, None
        if spec is None:
            return ended
        try:
            heard = await spec.task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled, not just the speculation
            return ended
        except Exception:
            log.exception("speculative recognition failed; recognising again")
            return ended
        if not heard.speech:
            return ended
        return dataclasses.replace(ended, heard=heard.text, t_heard=time.monotonic())

    def _tell_pause(self, text: str | None) -> None:
        if self.on_pause is None:
            return
        try:
            self.on_pause(text)
        except Exception:
            # Answering ahead is an optimisation: failing at it must not stop listening.
            log.exception("handling the transcript of a pause failed")

    def _forget_speculation(self) -> None:
        spec, self._speculation = self._speculation, None
        if spec is not None:
            if spec.announced:
                self._tell_pause(None)
            spec.task.cancel()
            # The worker may still finish it; nobody waits for the result.
            spec.task.add_done_callback(_ignore_result)

    async def _drop_speculation(self) -> None:
        spec, self._speculation = self._speculation, None
        if spec is not None:
            if spec.announced:
                self._tell_pause(None)
            spec.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await spec.task


async def _next(chunks: AsyncIterator[AudioChunk]) -> object:
    return await anext(chunks, _END)


def _words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing what was heard with what was said."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def _once(words: list[str]) -> list[str]:
    """A phrase said once: whisper repeats a short one it is unsure of ("Stop. Stop.")."""
    for size in range(1, len(words) // 2 + 1):
        if len(words) % size == 0 and words == words[:size] * (len(words) // size):
            return words[:size]
    return words


def _ignore_result(task: asyncio.Future[Recognition]) -> None:
    if not task.cancelled():
        task.exception()
