"""The music skill end to end: real tagged files, the real router, a real mixer writing to memory."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio
from test_music_library import Song, write_tags, write_tone

from assistant.audio.mixer import Mixer
from assistant.audio.sinks import MemorySink
from assistant.config import Config
from assistant.frames import ReplyAudio
from assistant.runtime import Runtime, start_runtime
from assistant.session import Session, TurnResult
from assistant.skill.context import DetachedMusic

pytestmark = pytest.mark.asyncio(loop_scope="module")

RATE = 22050  # the mixer's rate, which the skill decodes at
SECONDS = 0.4

# Each song a distinct tone, so the audio that reaches the speaker tells which song played.
LIBRARY: list[tuple[Song, float]] = [
    (Song("beatles/01 come together.flac", "Come Together", "The Beatles", "Abbey Road", "Rock", 1), 330),
    (Song("beatles/02 something.mp3", "Something", "The Beatles", "Abbey Road", "Rock", 2), 392),
    (Song("beatles/07 sun.ogg", "Here Comes the Sun", "The Beatles", "Abbey Road", "Rock", 3), 440),
    (Song("beatles/yesterday.wav", "Yesterday", "The Beatles", "Help!", "Rock", 13), 494),
    (Song("miles/so what.m4a", "So What", "Miles Davis", "Kind of Blue", "Jazz", 1), 554),
    (Song("miles/blue in green.flac", "Blue in Green", "Miles Davis", "Kind of Blue", "Jazz", 3), 622),
    (Song("queen/bohemian.mp3", "Bohemian Rhapsody", "Queen", "A Night at the Opera", "Rock", 11), 698),
    (Song("daft/around.opus", "Around the World", "Daft Punk", "Homework", "Electronic", 7), 784),
]
FREQ = {str(song.title): freq for song, freq in LIBRARY}


def make_song(root: Path, song: Song, freq: float, seconds: float = SECONDS) -> Path:
    path = root / song.name
    write_tone(path, seconds, freq=freq)
    write_tags(path, song)
    return path


@pytest.fixture(scope="module")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("music")
    for song, freq in LIBRARY:
        make_song(root, song, freq)
    # Garbage with a music file's name: the scan must skip it and carry on.
    (root / "broken.mp3").write_bytes(bytes(random.Random(7).randrange(256) for _ in range(3000)))
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runtime(music_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runtime]:
    state = tmp_path_factory.mktemp("music-state")
    rt = await start_runtime(
        Config(skills={"music": {"folders": [str(music_dir)]}}),
        state_dir=state,
        need_asr=False,
        need_llm=False,
    )
    assert "music" in rt.skills.skills, rt.skills.failed
    yield rt
    await rt.aclose()


def configured(runtime: Runtime, section: dict[str, Any], state_dir: Path, **changes: Any) -> Runtime:
    """The same runtime (models, store) with another music config and its own index."""
    config = dataclasses.replace(runtime.config, skills={"music": section})
    return dataclasses.replace(runtime, config=config, state_dir=state_dir, **changes)


async def ask(runtime: Runtime, text: str) -> TurnResult:
    sink = MemorySink()
    result = await Session(runtime, sink).handle_text(text)
    assert result.error is None, result.error
    assert " ".join(p.text for p in sink.pieces) == result.reply
    return result


async def start_hooks(runtime: Runtime) -> None:
    for hook in runtime.skills.skills["music"].on_start:
        await hook(runtime.skill_context("music"))


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def last_played(runtime: Runtime) -> str:
    last = await runtime.skill_context("music").store.get("last_played")
    assert isinstance(last, dict)
    return str(last["title"])


def tones(pcm: bytes, window: int = 2048) -> list[float]:
    """The dominant frequency of each loud window, with repeats collapsed: which songs played, in order."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    out: list[float] = []
    for start in range(0, x.size - window + 1, window):
        w = x[start : start + window]
        if np.sqrt(np.mean(w * w)) < 1000:
            continue  # silence, or a block that is only partly music
        spectrum = np.abs(np.fft.rfft(w * np.hanning(window)))
        f = float(np.argmax(spectrum)) * RATE / window
        if not out or abs(out[-1] - f) > 25:
            out.append(f)
    return out


def played(pcm: bytes) -> list[str]:
    """Titles whose tone is heard, in order."""
    names = []
    for f in tones(pcm):
        title = min(FREQ, key=lambda t: abs(FREQ[t] - f))
        assert abs(FREQ[title] - f) < 25, f"unexpected tone {f:.0f} Hz"
        names.append(title)
    return names


class GatedSink(MemorySink):
    """A speaker that takes audio only while its gate is open: music stays mid-song meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def play(self, audio: ReplyAudio) -> float:
        await self.gate.wait()
        return await super().play(audio)


# ---------------------------------------------------------------------------------------------


async def test_one_shot_plays_an_artist_on_the_detached_output(runtime: Runtime) -> None:
    # No start-up hook ran (as in `assistant ask`): the first request indexes the folders itself.
    assert isinstance(runtime.music, DetachedMusic)
    result = await ask(runtime, "play something by Miles Davis")
    assert (result.route, result.skill, result.action) == ("skill", "music", "play")
    assert result.slots == {"artist": "miles davis"}
    assert result.reply == "Playing 2 songs by Miles Davis."
    assert runtime.music.is_playing and runtime.music.volume == 50
    assert await last_played(runtime) == "So What"  # album order

    result = await ask(runtime, "play Yesterday")
    assert (result.slots, result.reply) == ({"query": "yesterday"}, "Playing Yesterday by The Beatles.")
    assert (await ask(runtime, "what song is this")).reply == "This is Yesterday by The Beatles, from Help!."
    assert (await ask(runtime, "pause")).reply == "Paused."
    assert runtime.music.is_paused
    assert (await ask(runtime, "stop the music")).action == "stop"  # the core's stop
    assert not runtime.music.is_playing and not runtime.music.is_paused


@pytest.mark.parametrize(
    ("text", "slots", "reply"),
    [
        (
            "play the album abbey road",
            {"album": "abbey road"},
            "Playing the album Abbey Road by The Beatles.",
        ),
        ("play some jazz", {"genre": "jazz"}, "Playing 2 Jazz songs."),
        ("play Abbey Road", {"query": "abbey road"}, "Playing the album Abbey Road by The Beatles."),
        ("play the beetles", {"query": "the beetles"}, "Playing 4 songs by The Beatles."),
        ("play some queen", {"genre": "queen"}, "Playing Bohemian Rhapsody by Queen."),
        (
            "play songs by the beatles on shuffle",
            {"artist": "the beatles", "order": "shuffle"},
            "Shuffling 4 songs by The Beatles.",
        ),
        ("shuffle my music", {"order": "shuffle"}, "Shuffling your music: 8 songs."),
        ("put on some music", {}, "Playing your music: 8 songs."),
        ("play the macarena", {"query": "the macarena"}, "I couldn't find the macarena in your music."),
    ],
)
async def test_what_play_finds(runtime: Runtime, text: str, slots: dict[str, Any], reply: str) -> None:
    result = await ask(runtime, text)
    assert (result.skill, result.action, result.slots, result.reply) == ("music", "play", slots, reply)


async def test_sentences_of_other_skills_are_left_alone(runtime: Runtime) -> None:
    for text in ("pause the timer", "resume the alarm", "continue the story", "next"):
        intent = runtime.router.route(text).intent
        assert intent is None or intent.skill != "music", text
    for text, action in [
        ("pause the music", "pause"),
        ("unpause", "resume"),
        ("continue the music", "resume"),
        ("skip this", "next"),
        ("go back", "previous"),
        ("louder", "volume_up"),
        ("volume down", "volume_down"),
        ("what's playing", "now_playing"),
        ("update the music library", "rescan"),
    ]:
        intent = runtime.router.route(text).intent
        assert intent is not None and (intent.skill, intent.action) == ("music", action), text


async def test_plays_through_the_mixer_and_advances(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    sink = MemorySink()
    async with Mixer(sink, pace=False) as mixer:
        rt = dataclasses.replace(runtime, music=mixer.music)
        with caplog.at_level(logging.INFO, logger="skill.music"):
            await start_hooks(rt)
        assert "music scan done" in caplog.text and "broken.mp3" in caplog.text
        assert mixer.music.volume == 50  # the configured default

        result = await ask(rt, "play here comes the sun")
        assert result.reply == "Playing Here Comes the Sun by The Beatles."
        await until(lambda: not mixer.music.is_playing)
        assert played(sink.pcm()) == ["Here Comes the Sun"]
        peak = int(np.abs(np.frombuffer(sink.pcm(), dtype=np.int16)).max())
        # A 0.3 full-scale tone at volume 50 (a quarter of the amplitude on the square law).
        assert 0.3 * 32767 * 0.25 * 0.8 < peak < 0.3 * 32767 * 0.25 * 1.2

        # Each song ends by itself and the next one starts: the whole album, in track order.
        sink.pieces.clear()
        assert (await ask(rt, "play the album abbey road")).reply == (
            "Playing the album Abbey Road by The Beatles."
        )
        await until(lambda: len(played(sink.pcm())) == 3)
        assert played(sink.pcm()) == ["Come Together", "Something", "Here Comes the Sun"]
        await until(lambda: not mixer.music.is_playing)
        assert (await ask(rt, "what's playing")).reply == "Nothing is playing."
        assert await last_played(rt) == "Here Comes the Sun"


async def test_transport_and_volume_change_the_mixer(runtime: Runtime) -> None:
    sink = GatedSink()  # closed: the mixer holds its first block, so the songs stay loaded
    async with Mixer(sink, pace=False) as mixer:
        rt = dataclasses.replace(runtime, music=mixer.music)
        await start_hooks(rt)
        music = mixer.music
        assert (await ask(rt, "play kind of blue")).reply == "Playing the album Kind of Blue by Miles Davis."
        assert music.is_playing
        assert (await ask(rt, "what's playing")).reply == "This is So What by Miles Davis, from Kind of Blue."
        assert (await ask(rt, "pause the music")).reply == "Paused."
        assert music.is_paused
        assert (await ask(rt, "what song is this")).reply == (
            "So What by Miles Davis, from Kind of Blue, is paused."
        )
        assert (await ask(rt, "resume")).reply == "Resuming So What by Miles Davis."
        assert music.is_playing
        assert (await ask(rt, "next song")).reply == "Playing Blue in Green by Miles Davis."
        assert (await ask(rt, "next song")).reply == "That was the last song."
        assert (await ask(rt, "previous song")).reply == "Playing So What by Miles Davis."
        assert (await ask(rt, "go back")).reply == "Playing So What by Miles Davis."  # from the start

        assert (await ask(rt, "turn it up")).reply == "Music volume 60."
        assert music.volume == 60
        assert (await ask(rt, "volume down")).reply == "Music volume 50."
        assert (await ask(rt, "set the volume to 30")).slots == {"volume": 30}
        assert music.volume == 30
        assert (await ask(rt, "volume 7")).reply == "Music volume 70."
        assert music.volume == 70

        # Let it play out: So What, then Blue in Green (the first block was So What already).
        sink.gate.set()
        await until(lambda: len(played(sink.pcm())) == 2 and not music.is_playing)
        assert played(sink.pcm()) == ["So What", "Blue in Green"]
        assert (await ask(rt, "stop the music")).reply == "Nothing is playing."
        assert (await ask(rt, "next song")).reply == "That was the last song."


async def test_an_unplayable_track_is_skipped(runtime: Runtime, music_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "music"
    for name in ("beatles/01 come together.flac", "beatles/02 something.mp3"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(music_dir / name, folder / name)
    sink = MemorySink()
    async with Mixer(sink, pace=False) as mixer:
        rt = configured(runtime, {"folders": [str(folder)]}, tmp_path / "state", music=mixer.music)
        await start_hooks(rt)
        # Gone after the scan: decoding fails when its turn comes, and the next song plays.
        (folder / "beatles/01 come together.flac").unlink()
        assert (await ask(rt, "play some music")).reply == "Playing your music: 2 songs."
        await until(lambda: played(sink.pcm()) == ["Something"])
        await until(lambda: not mixer.music.is_playing)
        assert await last_played(rt) == "Something"

        assert (await ask(rt, "rescan my music")).reply == (
            "Your music library is up to date: 1 song (1 removed)."
        )


async def test_empty_and_unconfigured_library(runtime: Runtime, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rt = configured(runtime, {"folders": [str(empty)]}, tmp_path / "state")
    assert (await ask(rt, "play some music")).reply == (
        "Your music library is empty. I found no music files in the folders under skills.music.folders."
    )
    rt = configured(runtime, {}, tmp_path / "state2")
    for text in ("play some music", "play yesterday", "rescan my music"):
        assert (await ask(rt, text)).reply == (
            "Your music library is empty. Add folders under skills.music.folders in the config."
        )
