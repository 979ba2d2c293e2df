"""The alert service on a real event loop: what a barge-in (hush) does to ringing alerts and to
announcements of anything else; and a session speaking them through the real mixer, cut off by
the wake word."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.audio.mixer import Mixer
from assistant.audio.sinks import Sink, WavFileSink
from assistant.config import Config, WakeConfig
from assistant.frames import ReplyAudio, WakeDetected
from assistant.runtime import Runtime, start_runtime
from assistant.session import Session
from assistant.skill.alerts import AlertService


def drain(alerts: AlertService) -> list[tuple[str, str | None]]:
    """Announcements waiting to be spoken, as (text, ringing alert key), emptying the queue."""
    items = []
    while not alerts.queue.empty():
        item = alerts.queue.get_nowait()
        items.append((item.text, item.key))
    return items


async def test_hush_drops_queued_rings_restarts_their_interval_and_keeps_other_announcements() -> None:
    alerts = AlertService()
    loop = asyncio.get_running_loop()
    try:
        await alerts.announce("The laundry is done.")
        await alerts.ring("timer:pasta", "Your pasta timer is done.", every_s=1.0, limit=5)
        await asyncio.sleep(0.6)  # the first ring waits behind the laundry, the next is 0.4 s away
        alerts.hush()
        hushed = loop.time()
        assert drain(alerts) == [("The laundry is done.", None)]
        assert alerts.ringing() == ["timer:pasta"]  # hushed, not stopped: "stop" still finds it

        item = await asyncio.wait_for(alerts.queue.get(), 5)
        took = loop.time() - hushed
        assert (item.text, item.key) == ("Your pasta timer is done.", "timer:pasta")
        assert took >= 0.95, took  # a full interval after the hush, not 0.4 s

        # A hush with nothing ringing drops nothing.
        assert await alerts.stop() == ["timer:pasta"]
        await alerts.announce("Reminder: call mom.")
        alerts.hush()
        assert drain(alerts) == [("Reminder: call mom.", None)]
    finally:
        await alerts.aclose()


# --- spoken by a session -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """Piper and the built-in skills; no speech recognition or language model."""
    state = tmp_path_factory.mktemp("alerts-state")
    # The wait for a command after the wake word: how long announcements are held back.
    config = Config(wake=WakeConfig(mode="always", chime="", no_speech_timeout_s=2.0))
    rt = asyncio.run(start_runtime(config, state_dir=state, need_asr=False, need_llm=False, warm=False))
    yield rt
    rt.close()


class Heard:
    """The mixer's speech input, noting when each piece starts to play and its words."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.said: list[tuple[float, str]] = []

    async def play(self, audio: ReplyAudio) -> float:
        started = await self.sink.play(audio)
        self.said.append((started, audio.text))
        return started

    async def drain(self) -> None:
        await self.sink.drain()

    async def stop(self) -> None:
        await self.sink.stop()

    async def aclose(self) -> None:
        await self.sink.aclose()

    def times(self, text: str) -> list[float]:
        return [t for t, said in list(self.said) if said == text]


async def until(condition: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        # The mixer signals nothing a test could wait on; poll it.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


RING = "Your pasta timer is done. It has been boiling for ten minutes. Drain it now. Then add the sauce."


@pytest.mark.slow
async def test_the_wake_word_cuts_the_ring_being_said_and_its_rest_and_the_next_ring_waits(
    voice: Runtime, tmp_path: Path
) -> None:
    rt = dataclasses.replace(voice, alerts=AlertService())
    alerts = rt.alerts
    async with Mixer(WavFileSink(tmp_path / "out.wav"), pace=True) as mixer:
        heard = Heard(mixer.speech)
        session = Session(rt, heard, name="alerts")
        speaking = asyncio.create_task(alerts.speak_forever(session.say))
        try:
            await alerts.ring("timer:pasta", RING, every_s=3.0, limit=3)
            await until(lambda: bool(heard.times("Your pasta timer is done.")), 60)
            await alerts.announce("The laundry is done.")  # something else, queued behind the ring
            await until(lambda: bool(heard.times("It has been boiling for ten minutes.")), 30)
            assert session.listener.on_wake is not None
            woke = time.monotonic()
            await session.listener.on_wake(WakeDetected("okay_nabu", "Okay Nabu", 0.9, woke))
            assert alerts.cut == 1
            assert alerts.ringing() == ["timer:pasta"]  # hushed, not stopped
            # The other announcement is said once the command has had its time (2 s), then the
            # ring again, a full interval after the wake word; the rest of the cut one never.
            await until(lambda: len(heard.times("Your pasta timer is done.")) == 2, 30)
            [laundry] = heard.times("The laundry is done.")
            again = heard.times("Your pasta timer is done.")[1]
            assert 1.9 <= laundry - woke < again - woke, (laundry - woke, again - woke)
            assert again - woke >= 3.0
            after = [text for t, text in list(heard.said) if t > woke]
            assert not {"Drain it now.", "Then add the sauce."} & set(after), after
            assert await alerts.stop() == ["timer:pasta"]
        finally:
            speaking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await speaking
            await alerts.aclose()
