"""The long-running assistant: listens, answers, fires scheduled skill events, speaks alerts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from assistant.audio.mixer import Mixer
from assistant.audio.sinks import Sink
from assistant.audio.sources import AudioSource
from assistant.notify import Notifier
from assistant.runtime import Runtime
from assistant.session import Session, TurnResult
from assistant.skill.api import Job
from assistant.skill.scheduler import SchedulerService

log = logging.getLogger(__name__)

STARTUP_HOOK_TIMEOUT_S = 600.0
FRAMES_STALE_S = 2.0
"""Audio frames older than this mean the microphone stopped delivering."""


@dataclass
class Daemon:
    """Owns the tasks of a running assistant: listening, scheduler, alert speaker, start hooks."""

    runtime: Runtime
    source: AudioSource
    output: Sink
    on_turn: Callable[[TurnResult], None] | None = None
    notifier: Notifier = field(default_factory=Notifier)

    async def run(self) -> int:
        """Run until the source ends and ``stop_when_idle`` or until cancelled (SIGTERM/SIGINT)."""
        runtime = self.runtime
        async with Mixer(self.output) as mixer:
            runtime.music = mixer.music
            session = Session(runtime, mixer.speech, name="local")
            scheduler = SchedulerService(runtime.jobs, self._dispatch, runtime.now)
            runtime.scheduler = scheduler
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(scheduler.run(), name="scheduler")
                    group.create_task(runtime.alerts.speak_forever(session.say), name="alerts")
                    group.create_task(self._start_hooks(), name="startup-hooks")
                    group.create_task(self._listen(session), name="listen")
                    # Models are loaded (the runtime exists) and audio is open: ready.
                    self.notifier.ready("listening")
                    if self.notifier.watchdog_interval_s is not None:
                        group.create_task(self._watchdog(session, self.notifier.watchdog_interval_s))
            finally:
                self.notifier.stopping()
                runtime.scheduler = None
                await runtime.alerts.aclose()
        return 0

    async def _listen(self, session: Session) -> None:
        async with contextlib.aclosing(session.utterances(self.source)) as utterances:
            async for speech in utterances:
                result = await session.handle_speech(speech)
                if self.on_turn is not None:
                    self.on_turn(result)
        log.info("audio input ended; still running for scheduled events (stop with SIGTERM)")

    async def _watchdog(self, session: Session, interval_s: float) -> None:
        """Ping systemd while the loop runs (this task runs) and audio frames keep arriving."""
        while True:
            await asyncio.sleep(interval_s)
            silent_for = time.monotonic() - session.listener.last_frame_t
            if silent_for <= FRAMES_STALE_S:
                self.notifier.watchdog()
            else:
                self.notifier.status(f"degraded: no audio for {silent_for:.0f} s")

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
        print("stopped", file=sys.stderr)
        return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
