"""The long-running assistant: listens, answers, fires scheduled skill events, speaks alerts,
and answers control requests (the control socket, the loopback HTTP endpoint, SIGHUP)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.audio.echo import EchoCanceller
from assistant.audio.mixer import Mixer
from assistant.audio.sinks import Sink
from assistant.audio.sources import AudioSource
from assistant.config import Config
from assistant.control.commands import ControlCommands
from assistant.control.http import HttpEndpoint
from assistant.control.prometheus import Histogram
from assistant.control.protocol import UNAVAILABLE, ControlError
from assistant.control.server import ControlServer
from assistant.errors import ConfigError
from assistant.frames import AudioChunk, ReplyAudio, SpeechEnded, WakeDetected
from assistant.listen.endpoint import Endpointer, EndpointSettings
from assistant.listen.vad import Vad
from assistant.logs import setup_logging
from assistant.notify import Notifier
from assistant.reload import ReloadPlan, plan_reload
from assistant.runtime import Runtime, fixed_phrases
from assistant.session import Session, TurnResult
from assistant.skill.api import Job
from assistant.skill.scheduler import SchedulerService

log = logging.getLogger(__name__)

STARTUP_HOOK_TIMEOUT_S = 600.0
FRAMES_STALE_S = 2.0
"""Audio frames older than this mean the microphone stopped delivering."""
STATUS_CHECK_S = 1.0
"""How often systemd's STATUS= is brought up to date when no watchdog paces it."""
HISTORY_TURNS = 10
"""Recent turns kept for ``assistant status``."""
TURN_QUEUE = 2
"""Utterances waiting for the turn in progress; more are dropped (and counted)."""
VOICE_TO_VOICE_BUCKETS_S = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
_STATE_NAMESPACE = "daemon"  # the daemon's own keys in the state store (beside the skills')


@dataclass(frozen=True)
class TurnRecord:
    """One finished turn, as ``assistant status`` lists it."""

    at: float
    """Wall-clock time (epoch seconds) it finished."""
    source: str
    """Where the request came from: "voice" (the microphone) or "control" (``ask --daemon``)."""
    result: TurnResult


@dataclass
class Daemon:
    """Owns the tasks of a running assistant: listening, scheduler, alert speaker, start hooks,
    control socket, HTTP endpoint and config reloads."""

    runtime: Runtime
    source: AudioSource
    output: Sink
    on_turn: Callable[[TurnResult], None] | None = None
    notifier: Notifier = field(default_factory=Notifier)
    control_socket: Path | None = None
    """Where the control socket listens (``assistant status``, ...); None = no control socket."""
    reread_config: Callable[[], Config] | None = None
    """Reads the config again (SIGHUP), with the command line's overrides; None = no reloads."""
    muted: bool = False
    """Microphone audio is ignored (no turns); alerts and ``say`` are still spoken."""

    session: Session | None = field(default=None, init=False)
    """The local session, while running."""
    mixer: Mixer | None = field(default=None, init=False)
    echo: EchoCanceller | None = field(default=None, init=False)
    """Cleans the microphone of what the mixer plays (audio.echo_cancel); None when off."""
    turns: deque[TurnRecord] = field(default_factory=lambda: deque(maxlen=HISTORY_TURNS), init=False)
    voice_to_voice: Histogram = field(default_factory=lambda: Histogram(VOICE_TO_VOICE_BUCKETS_S), init=False)
    """Voice-to-voice latency of spoken turns, in seconds."""
    muted_utterances: int = field(default=0, init=False)
    """Utterances heard while muted, and dropped."""
    dropped_utterances: int = field(default=0, init=False)
    """Utterances dropped because turns were already waiting (TURN_QUEUE)."""
    restart_needed: list[str] = field(default_factory=list, init=False)
    """Config keys changed by a reload that take effect only after a restart."""
    reloads: int = field(default=0, init=False)
    reload_failures: int = field(default=0, init=False)
    started_t: float = field(default_factory=time.monotonic, init=False)
    started_at: float = field(default_factory=time.time, init=False)
    http_address: str | None = field(default=None, init=False)
    control: ControlServer | None = field(default=None, init=False)
    _thinking: int = field(default=0, init=False)
    _speech_until: float = field(default=0.0, init=False)
    _status_sent: str | None = field(default=None, init=False)
    _reload_wanted: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _listening_stale: bool = field(default=False, init=False)
    _utterances: asyncio.Queue[SpeechEnded] = field(
        default_factory=lambda: asyncio.Queue(maxsize=TURN_QUEUE), init=False
    )
    """Utterances heard, waiting for the turn task: listening goes on while a turn runs."""
    _unduck: asyncio.TimerHandle | None = field(default=None, init=False)

    async def run(self) -> int:
        """Run until cancelled (SIGTERM/SIGINT); the end of the audio input does not end it."""
        runtime = self.runtime
        self.started_t, self.started_at = time.monotonic(), time.time()
        self.muted = self.muted or bool(
            await asyncio.to_thread(runtime.store.get, _STATE_NAMESPACE, "muted", False)
        )
        if self.muted:
            log.warning("starting muted: microphone audio is ignored until `assistant unmute`")
        commands = ControlCommands(self)
        async with contextlib.AsyncExitStack() as stack:
            mixer = await stack.enter_async_context(Mixer(self.output))
            self.mixer = mixer
            if runtime.config.audio.echo_cancel == "webrtc":
                # Loading livekit and priming the canceller take about half a second of CPU.
                self.echo = await asyncio.to_thread(EchoCanceller, mixer.sample_rate)
                mixer.on_played = self.echo.played
            runtime.music = mixer.music
            session = Session(runtime, _StateSink(mixer.speech, self), name="local")
            self.session = session
            self._guard_listening(session, mixer)
            scheduler = SchedulerService(runtime.jobs, self._dispatch, runtime.now)
            runtime.scheduler = scheduler  # before requests come in: a timer they set wakes it
            # Bound before READY, so a port or socket that cannot be had fails the start.
            if self.control_socket is not None:
                control = ControlServer(self.control_socket, commands.handle)
                stack.push_async_callback(control.aclose)
                if await control.start():
                    self.control = control
            http = runtime.config.http
            if http.port:
                endpoint = HttpEndpoint(http.host, http.port, commands.metrics_text, commands.health)
                await endpoint.start()
                stack.push_async_callback(endpoint.aclose)
                self.http_address = f"http://{http.host}:{http.port}"
            stack.enter_context(self._sighup_reloads())
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(scheduler.run(), name="scheduler")
                    group.create_task(runtime.alerts.speak_forever(session.say), name="alerts")
                    group.create_task(self._start_hooks(), name="startup-hooks")
                    group.create_task(self._listen(session), name="listen")
                    group.create_task(self._voice_turns(session), name="turns")
                    group.create_task(self._reloader(), name="reloader")
                    # Models are loaded (the runtime exists) and audio is open: ready.
                    self._status_sent = self.state
                    self.notifier.ready(self._status_sent)
                    interval = self.notifier.watchdog_interval_s
                    if interval is not None or self.notifier.enabled:
                        group.create_task(self._watchdog(interval), name="watchdog")
            finally:
                self.notifier.stopping()
                # No new requests while the rest shuts down.
                if self.control is not None:
                    await self.control.aclose()
                runtime.scheduler = None
                await runtime.alerts.aclose()
        return 0

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """What the daemon is doing: listening, thinking, speaking, muted, or degraded: why."""
        problems = self.problems()
        if problems:
            return f"degraded: {'; '.join(problems)}"
        if self.speaking:
            return "speaking"
        if self._thinking:
            return "thinking"
        return "muted" if self.muted else "listening"

    @property
    def speaking(self) -> bool:
        """True while reply or alert audio is playing."""
        return time.monotonic() < self._speech_until

    def problems(self) -> list[str]:
        """Why the daemon is degraded (empty when it is not); /health answers 503 for these."""
        found = []
        # A device that is missing or lost says so itself (it retries by itself meanwhile).
        if (problem := _device_problem(self.source)) is not None:
            found.append(problem)
        elif (age := self.audio_age_s()) > FRAMES_STALE_S:
            found.append(f"no audio for {age:.0f} s")
        if (problem := _device_problem(self.output)) is not None:
            found.append(problem)
        return found

    def audio_age_s(self) -> float:
        """Seconds since the last microphone frame arrived."""
        session = self.session
        last = session.listener.last_frame_t if session is not None else self.started_t
        return max(0.0, time.monotonic() - last)

    def uptime_s(self) -> float:
        """Seconds since the daemon started."""
        return time.monotonic() - self.started_t

    def _publish(self) -> None:
        """Tell systemd the state when it changed (``systemctl status`` shows it)."""
        state = self.state
        if state != self._status_sent:
            self._status_sent = state
            self.notifier.status(state)

    def _spoke(self, started: float, seconds: float) -> None:
        self._speech_until = max(self._speech_until, started + seconds)
        self._publish()

    def _silenced(self) -> None:
        self._speech_until = 0.0
        self._publish()

    # -- requests (control socket) -------------------------------------------------------------

    async def ask(self, text: str) -> TurnResult:
        """Run a typed request as a turn of the local session (a timer it sets lives here)."""
        session = self._session()
        result = await self._turn(session.handle_text(text))
        self._record(result, "control")
        return result

    async def say(self, text: str) -> None:
        """Speak ``text`` on the daemon's output (even while muted: muting is the microphone)."""
        await self._session().say(text)
        self._publish()

    async def set_muted(self, muted: bool) -> None:
        """Ignore (or listen to again) the microphone; kept across restarts."""
        if muted != self.muted:
            self.muted = muted
            log.info("muted: microphone audio is ignored" if muted else "unmuted: listening again")
        await asyncio.to_thread(self.runtime.store.put, _STATE_NAMESPACE, "muted", muted)
        self._publish()

    async def push_to_talk(self, seconds: float | None = None) -> float:
        """Take the next utterance as a command without the wake word; returns the window's length."""
        session = self._session()
        mode = session.listener.mode
        if mode == "always":
            log.info("push-to-talk asked for, but every utterance is a command already (wake.mode: always)")
            raise ControlError(
                UNAVAILABLE,
                "push-to-talk needs wake.mode: push_to_talk (or wake); this daemon takes every "
                "utterance as a command (wake.mode: always)",
            )
        if self.muted:
            raise ControlError(UNAVAILABLE, "the daemon is muted; `assistant unmute` first")
        window = session.wake.no_speech_timeout_s if seconds is None else seconds
        await session.push_to_talk(window)
        log.info("push-to-talk: listening for a command for %.1f s", window)
        return window

    def request_reload(self) -> None:
        """Reload the config soon (the SIGHUP handler)."""
        self._reload_wanted.set()

    async def reload(self) -> ReloadPlan:
        """Re-read the config; a bad one raises ConfigError and the running one stays."""
        if self.reread_config is None:
            raise ConfigError("this daemon was started without a way to re-read its config")
        async with self._reload_lock:
            try:
                new = await asyncio.to_thread(self.reread_config)
            except ConfigError as exc:
                self.reload_failures += 1
                log.error("config reload failed, the running config is kept: %s", exc)
                raise
            plan = plan_reload(self.runtime.config, new)
            await self._apply(plan)
            return plan

    # -- tasks ---------------------------------------------------------------------------------

    async def _listen(self, session: Session) -> None:
        """Read the microphone without pause, also while a turn runs (so the wake word can
        interrupt it and the watchdog sees frames); utterances go to the turn task."""
        async with contextlib.aclosing(session.utterances(self._microphone())) as utterances:
            async for speech in utterances:
                if self._listening_stale:
                    self._apply_listening()
                if self.muted:
                    self.muted_utterances += 1
                    log.info("muted: an utterance was heard and dropped")
                    continue
                try:
                    self._utterances.put_nowait(speech)
                except asyncio.QueueFull:
                    self.dropped_utterances += 1
                    log.warning("%d utterances already wait for their turn; this one is dropped", TURN_QUEUE)
        log.info("audio input ended; still running for scheduled events (stop with SIGTERM)")

    async def _voice_turns(self, session: Session) -> None:
        """Run the heard utterances as turns, one at a time."""
        while True:
            speech = await self._utterances.get()
            self._hold_duck(False)  # the command came: the reply's speech ducks music itself
            result = await self._turn(session.handle_speech(speech))
            self._record(result, "voice")

    def _guard_listening(self, session: Session, mixer: Mixer) -> None:
        """Wire the self-hearing gate and music ducking on the wake word into the listener."""
        listener = session.listener
        # Read at each frame, so a reloaded wake.echo_tail_ms applies at once.
        listener.echo_until = lambda: mixer.speech_until() + self.runtime.config.wake.echo_tail_ms / 1000
        listener.echo_text = mixer.speech_text  # "stop" in its own reply is not a person's
        session_woken = listener.on_wake  # the session's: barge-in, then the chime

        async def woken(wake: WakeDetected) -> None:
            # Music stays down while the command is said, so it is heard over the music.
            if self.runtime.music.is_playing:
                self._hold_duck(True, session.wake.no_speech_timeout_s)
            if session_woken is not None:
                await session_woken(wake)

        listener.on_wake = woken

    def _hold_duck(self, on: bool, seconds: float = 0.0) -> None:
        """Keep music ducked for up to ``seconds`` (the wait for a command), or release it."""
        if self._unduck is not None:
            self._unduck.cancel()
            self._unduck = None
        mixer = self.mixer
        if mixer is None:
            return
        mixer.duck(on)
        if on:
            self._unduck = asyncio.get_running_loop().call_later(seconds, self._hold_duck, False)

    async def _microphone(self) -> AsyncIterator[AudioChunk]:
        """The source's frames; silence in their place while muted, so nothing starts a turn
        (or wakes the assistant) while frames still arrive for the watchdog."""
        chunks = aiter(self.source)
        echo = self.echo
        listener = self._session().listener
        try:
            async for chunk in chunks:
                if self.muted:
                    yield dataclasses.replace(chunk, pcm=bytes(len(chunk.pcm)))
                elif echo is None or listener.has_floor:
                    # A command after the wake word is left as it is: a canceller still learning
                    # the room (or hearing no echo at all) takes bites out of a voice over the
                    # chime. It cleans what the wake word and "stop" are listened for in.
                    yield chunk
                else:
                    yield echo.clean(chunk)
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    async def _turn(self, turn: Awaitable[TurnResult]) -> TurnResult:
        self._thinking += 1
        self._publish()
        try:
            return await turn
        finally:
            self._thinking -= 1
            self._publish()

    def _record(self, result: TurnResult, source: str) -> None:
        if not (result.transcript or result.reply or result.error):
            return  # noise without words: not a turn
        self.turns.append(TurnRecord(time.time(), source, result))
        v2v_ms = result.timings_ms.get("voice_to_voice")
        if v2v_ms is not None:
            self.voice_to_voice.observe(v2v_ms / 1000)
        if self.on_turn is not None:
            self.on_turn(result)

    async def _watchdog(self, interval_s: float | None) -> None:
        """Ping systemd while the loop runs (this task runs) and audio frames keep arriving;
        keep STATUS= up to date (degraded when frames stop)."""
        while True:
            await asyncio.sleep(interval_s if interval_s is not None else STATUS_CHECK_S)
            # A source retrying a missing microphone is alive: a restart would not bring the
            # device back, only lose what the daemon holds, so it keeps the watchdog fed.
            alive = self.audio_age_s() <= FRAMES_STALE_S or _device_problem(self.source) is not None
            if interval_s is not None and alive:
                self.notifier.watchdog()
            self._publish()

    async def _reloader(self) -> None:
        while True:
            await self._reload_wanted.wait()
            self._reload_wanted.clear()
            try:
                await self.reload()
            except ConfigError:
                pass  # logged by reload(); the daemon goes on with the running config
            except Exception:
                log.exception("config reload failed; the daemon goes on")

    @contextlib.contextmanager
    def _sighup_reloads(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        except (ValueError, RuntimeError, NotImplementedError) as exc:
            # Not the main thread, or no signals here: reloads only through the control socket.
            log.debug("no SIGHUP reloads: %s", exc)
            yield
            return
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)

    async def _dispatch(self, job: Job) -> None:
        skill = self.runtime.skills.skills.get(job.skill)
        handler = skill.events.get(job.event) if skill is not None else None
        if handler is None:
            log.error("job %s/%s: no handler for event %r (skill not loaded?)", job.skill, job.id, job.event)
            return
        reply = await handler(self.runtime.skill_context(job.skill), job)
        if reply is not None and reply.text:
            await self.runtime.alerts.announce(reply.text, sound=reply.sound)

    async def _start_hooks(self) -> None:
        for skill in self.runtime.skills.skills.values():
            for hook in skill.on_start:
                try:
                    async with asyncio.timeout(STARTUP_HOOK_TIMEOUT_S):
                        await hook(self.runtime.skill_context(skill.name))
                except Exception:
                    log.exception("start-up of skill %s failed; it keeps running without it", skill.name)

    # -- reloading -----------------------------------------------------------------------------

    async def _apply(self, plan: ReloadPlan) -> None:
        runtime = self.runtime
        old, new = runtime.config, plan.config
        runtime.config = new
        self.restart_needed = plan.restart
        self.reloads += 1
        if new.logging != old.logging:
            setup_logging(new.logging.level, new.logging.format)
        if new.endpoint != old.endpoint or new.vad != old.vad:
            self._listening_stale = True
            self._apply_listening()
        if new.reply != old.reply:
            # New fixed replies come from the phrase cache, like the old ones did.
            try:
                await runtime.tts.warm(fixed_phrases(new))
            except Exception:
                log.exception("could not pre-synthesize the new replies; they are made when said")
        log.info(
            "config reloaded from %s: %s",
            new.source,
            f"changed {', '.join(plan.changed)}" if plan.changed else "nothing that applies live changed",
        )
        if plan.restart:
            log.warning(
                "config: %s changed, which takes effect only after a restart (the running values are kept)",
                ", ".join(plan.restart),
            )

    def _apply_listening(self) -> None:
        """Rebuild the VAD and endpointer from the config, between utterances (never inside one)."""
        session = self.session
        if session is None:
            return
        listener = session.listener
        if listener.endpointer.in_speech:
            return  # after this utterance (_listen calls again)
        cfg = self.runtime.config
        listener.vad = Vad(cfg.vad.aggressiveness)
        if listener.overheard_vad is not None:
            listener.overheard_vad = Vad(cfg.vad.aggressiveness)
        listener.endpointer = Endpointer(
            EndpointSettings(
                pre_roll_ms=cfg.endpoint.pre_roll_ms,
                start_speech_ms=cfg.endpoint.start_speech_ms,
                silence_ms=cfg.endpoint.silence_ms,
                max_utterance_s=cfg.endpoint.max_utterance_s,
            )
        )
        listener.partial_after_ms = cfg.endpoint.partial_after_ms
        listener.complete_command_ms = cfg.endpoint.complete_command_ms
        listener.unfinished_extra_ms = cfg.endpoint.unfinished_extra_ms
        self._listening_stale = False

    def _session(self) -> Session:
        if self.session is None:
            raise ControlError(UNAVAILABLE, "the daemon is starting or stopping")
        return self.session


class _StateSink:
    """The local session's speaker, telling the daemon how long speech plays (for its state)."""

    def __init__(self, sink: Sink, daemon: Daemon) -> None:
        self._sink = sink
        self._daemon = daemon

    async def play(self, audio: ReplyAudio) -> float:
        """Queue a piece; note when it will have played."""
        started = await self._sink.play(audio)
        self._daemon._spoke(started, audio.duration_s)
        return started

    async def drain(self) -> None:
        """Wait until everything queued has played."""
        await self._sink.drain()

    async def stop(self) -> None:
        """Barge-in: silence now."""
        await self._sink.stop()
        self._daemon._silenced()

    async def aclose(self) -> None:
        """Release the output."""
        await self._sink.aclose()


def _device_problem(device: object) -> str | None:
    """Why a source or sink with a ``state`` (DeviceSource, DeviceSink) is degraded; else None."""
    if getattr(device, "state", None) != "degraded":
        return None
    return str(getattr(device, "state_reason", None) or "sound device unavailable")


async def run_until_signalled(main: Awaitable[int]) -> int:
    """Run ``main``; SIGTERM or SIGINT cancel it cleanly and give exit code 0."""
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        log.info("stopped")
        return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
