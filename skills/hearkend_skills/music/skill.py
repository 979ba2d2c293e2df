"""The music skill's intents: play from the local library, pause, skip, volume, what's playing."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from assistant.skill import Reply, Skill, SkillContext, Slot

from .index import LibraryIndex, index_for
from .library import Track, normalize
from .playlist import LAST_PLAYED, Player, player_for
from .select import FIELDS, Field, Selection, describe, select, select_all, song_name
from .settings import Settings

skill = Skill("music", "Plays music from the local library: songs, artists, albums and genres.")

NO_FOLDERS = "Your music library is empty. Add folders under skills.music.folders in the config."
EMPTY_FOLDERS = (
    "Your music library is empty. I found no music files in the folders under skills.music.folders."
)
NOTHING_PLAYING = "Nothing is playing."
VOLUME_STEP = 10

_INDEX_WAIT_S = 2.0
"""How long a request waits for a first scan; a handler must answer within the skill budget."""

_rng = random.Random()

# ---------------------------------------------------------------------------------------------
# Slots and sentence pieces.

_ORDERS = ("shuffle", "shuffled", "random order", "at random", "in order")
_SHUFFLED = frozenset(_ORDERS) - {"in order"}
_ORDER = Slot("choice", "play in random order (shuffle) or in album order", required=False, values=_ORDERS)
# "Play" a game or a story is not music: "play a game with me", "can you play chess", "play me a
# story" go to the language model.
_NOT_MUSIC = (
    *("chess", "checkers", "draughts", "cards", "poker", "solitaire", "sudoku", "hangman", "charades"),
    *("trivia", "quiz", "a quiz", "twenty questions", "20 questions", "riddles", "a riddle"),
    *("hide and seek", "tic tac toe", "tic-tac-toe", "rock paper scissors", "i spy", "pretend"),
    *("a story", "stories", "a bedtime story", "a joke", "jokes"),
)
_GAMES = "|".join(_NOT_MUSIC)
_NOT_A_GAME = rf"^(?!(?:me )?(?:(?:a|an|some|the|another) )?(?:\w+ )?games?\b)(?!(?:me )?(?:{_GAMES})\b)"
_QUERY = Slot("text", "a song, artist, album or genre, as spoken", required=False, pattern=_NOT_A_GAME)
_TITLE = Slot("text", "the title of a song", required=False, pattern=_NOT_A_GAME)
_ARTIST = Slot("text", "an artist or band", required=False)
_ALBUM = Slot("text", "the name of an album", required=False)
_GENRE = Slot("text", "a genre such as jazz or rock", required=False, pattern=_NOT_A_GAME)

_PLAY = "[(please|can you|could you)] (play|put on) [me]"
_SONGS = "(something|anything|some songs|songs|some music|music|a song|some tracks|tracks|the songs)"
_MUSIC = "(some music|music|my music|something|anything|a song|some songs|my songs)"
_MINE = "(my|all my|all of my|the) (music|songs|library|music library)"
_THE_MUSIC = "[(the|my)] (music|song|playback|track)"
_ORDER_SUFFIX = "[[(on|in)] {order}] [please]"
"""An optional "on shuffle", "in random order", "in order" after a request."""


# ---------------------------------------------------------------------------------------------
# Shared steps.


async def _prepare(ctx: SkillContext) -> tuple[Settings, Player]:
    """Settings, and this output's playlist with the configured (or last chosen) volume applied."""
    settings = Settings.from_config(ctx.config, ctx.log)
    player = player_for(ctx.music)
    if not player.volume_ready:
        player.volume_ready = True
        stored = await ctx.store.get("volume")
        volume = stored if isinstance(stored, int) and 0 <= stored <= 100 else settings.volume
        ctx.music.set_volume(volume)
    return settings, player


async def _ready_index(ctx: SkillContext, settings: Settings) -> tuple[LibraryIndex | None, str | None]:
    """The library, scanned at least once; or why it cannot answer yet (a reply)."""
    if not settings.folders:
        return None, NO_FOLDERS
    index = await index_for(ctx)
    task = index.running
    fresh = task is None and await index.needs_scan(ctx, settings)
    if fresh:
        task = index.scan(ctx, settings)
    if task is not None and (fresh or await index.count() == 0):
        # wait() leaves the scan running when patience runs out (or this handler is cancelled).
        await asyncio.wait({task}, timeout=_INDEX_WAIT_S)
        if task.done():
            task.result()  # a failed scan fails the request, with its reason in the log
        elif await index.count() == 0:
            found_done, found = index.progress
            return None, (
                f"I'm still indexing your music: {found_done} of {found} files so far. "
                "Ask me again in a moment."
            )
    if await index.count() == 0:
        # Paths read badly aloud (and the chunker rewrites them): they go to the log instead.
        ctx.log.warning("no music files found in %s", ", ".join(settings.folder_names()))
        return None, EMPTY_FOLDERS
    return index, None


async def _start(ctx: SkillContext, player: Player, selection: Selection, shuffle: bool) -> Reply:
    tracks = list(selection.tracks)
    shuffled = shuffle and len(tracks) > 1
    if shuffled and selection.kind != "all":  # select_all already drew them at random
        _rng.shuffle(tracks)
    await player.start(ctx, tracks)
    return Reply(describe(selection, tracks, shuffled))


# ---------------------------------------------------------------------------------------------
# Start-up.


@skill.startup
async def index_music(ctx: SkillContext) -> None:
    """Apply the volume, then bring the index up to date with the music folders."""
    settings, _ = await _prepare(ctx)
    if not settings.folders:
        ctx.log.info("no music folders configured (skills.music.folders); the library stays empty")
        return
    index = await index_for(ctx)
    if settings.rescan_on_start or await index.needs_scan(ctx, settings):
        # Shielded so that the daemon giving up on a slow start-up leaves the scan running.
        await asyncio.shield(index.scan(ctx, settings))


# ---------------------------------------------------------------------------------------------
# Playing.


@skill.intent(
    "play",
    description=(
        "Play music from the local library: a song, an artist, an album, a genre, or anything "
        "(no slots), optionally shuffled."
    ),
    side_effects=True,
    slots={
        "query": _QUERY,
        "title": _TITLE,
        "artist": _ARTIST,
        "album": _ALBUM,
        "genre": _GENRE,
        "order": _ORDER,
    },
    sentences=[
        f"{_PLAY} {{query}} {_ORDER_SUFFIX}",
        f"{_PLAY} {_MUSIC} {_ORDER_SUFFIX}",
        f"{_PLAY} {_SONGS} (by|from) {{artist}} {_ORDER_SUFFIX}",
        f"{_PLAY} [(the|my)] (album|record) {{album}} {_ORDER_SUFFIX}",
        f"{_PLAY} [some] {{genre}} (music|songs) {_ORDER_SUFFIX}",
        f"{_PLAY} some {{genre}} {_ORDER_SUFFIX}",
        f"{_PLAY} the (song|track) {{title}} [please]",
        "(i want to|let me|i'd like to) (hear|listen to) {query}",
        "(i want to|let me|i'd like to) (hear|listen to) some {genre} [music]",
        "(i want to|let me|i'd like to) (hear|listen to) [some] music",
        "{order} [(please|the)] [(songs|music|something)] (by|from) {artist}",
        "{order} [the] (album|record) {album}",
        f"{{order}} {_MINE}",
        "{order} [(my|some|the)] music",
    ],
)
async def play(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Find what was asked for (song, then artist, album, genre) and play it."""
    settings, player = await _prepare(ctx)
    index, why = await _ready_index(ctx, settings)
    if index is None:
        return Reply(why or NO_FOLDERS)
    order = slots.get("order")
    shuffle = order in _SHUFFLED if order is not None else settings.shuffle
    # A slot naming the field ("by {artist}") is searched there first; a bare "play X" tries all.
    prefer: Field | None = next((f for f in FIELDS if slots.get(f)), None)
    query = str(slots[prefer]) if prefer is not None else str(slots.get("query") or "")
    if not query:
        tracks = await asyncio.to_thread(select_all, index.library, shuffle, _rng)
        return await _start(ctx, player, Selection("all", tracks, ""), shuffle)
    selection = await asyncio.to_thread(select, index.library, query, prefer)
    if selection is None or not selection.tracks:
        return Reply(f"I couldn't find {query} in your music.")
    return await _start(ctx, player, selection, shuffle)


@skill.intent(
    "pause",
    description="Pause the music.",
    side_effects=True,
    sentences=[
        "pause",
        f"pause {_THE_MUSIC} [please]",
        "[please] pause the music",
        "pause (it|this|that) [please]",
    ],
)
async def pause(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Pause the music that plays."""
    await _prepare(ctx)
    if not ctx.music.is_playing:
        return Reply("The music is already paused." if ctx.music.is_paused else NOTHING_PLAYING)
    ctx.music.pause()
    return Reply("Paused.")


@skill.intent(
    "resume",
    description="Resume paused music (or play the last song again).",
    side_effects=True,
    sentences=[
        "(resume|unpause) [(it|this)]",
        f"(resume|unpause|continue|restart) {_THE_MUSIC} [please]",
        "(continue|keep) playing [(the|my) music] [please]",
        "play the music again",
    ],
)
async def resume(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Resume paused music; after a stop (or a restart) play the last track again."""
    _, player = await _prepare(ctx)
    music = ctx.music
    if music.is_paused:
        music.resume()
        current = player.current(music)
        return Reply(f"Resuming {song_name(current)}." if current else "Resuming.")
    if music.is_playing:
        return Reply("The music is already playing.")
    track = player.loaded
    if track is not None:
        await player.start(ctx, player.tracks, player.position)
        return Reply(f"Playing {song_name(track)}.")
    last = await _last_played(ctx)
    if last is None:
        return Reply("There's nothing to resume.")
    await player.start(ctx, [last])
    return Reply(f"Playing {song_name(last)}.")


async def _last_played(ctx: SkillContext) -> Track | None:
    """The stored last track, when it is still in the library."""
    last = await ctx.store.get(LAST_PLAYED)
    if not isinstance(last, dict) or not isinstance(last.get("path"), str):
        return None
    settings = Settings.from_config(ctx.config, ctx.log)
    index, _ = await _ready_index(ctx, settings)
    if index is None:
        return None
    path = Path(last["path"])
    found = await asyncio.to_thread(index.library.find, str(last.get("title", "")), "title", 50)
    return next((t for t in found if t.path == path), None)


@skill.intent(
    "next",
    description="Skip to the next song of the playlist.",
    side_effects=True,
    sentences=[
        "next (song|track|one) [please]",
        "(play|go to|skip to) the next (song|track|one) [please]",
        "skip [(this|it|this song|this track|the song|this one)] [please]",
    ],
)
async def next_track(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Play the next track of the playlist."""
    _, player = await _prepare(ctx)
    if player.loaded is None:
        return Reply(NOTHING_PLAYING)
    track = await player.step(ctx, 1)
    if track is None:
        return Reply("That was the last song.")
    return Reply(f"Playing {song_name(track)}.")


@skill.intent(
    "previous",
    description="Go back to the previous song of the playlist.",
    side_effects=True,
    sentences=[
        "previous [(song|track|one)] [please]",
        "go back [to the (previous|last) (song|track|one)] [please]",
        "(play|go to) the (previous|last) (song|track|one) [again] [please]",
        "back to the (previous|last) (song|track)",
    ],
)
async def previous_track(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Play the previous track (or this one again from the start at the top of the list)."""
    _, player = await _prepare(ctx)
    if player.loaded is None:
        return Reply(NOTHING_PLAYING)
    track = await player.step(ctx, -1)
    if track is None:
        track = await player.step(ctx, 0)  # at the first song: start it over
    assert track is not None
    return Reply(f"Playing {song_name(track)}.")


@skill.intent(
    "stop",
    description="Stop the music.",
    side_effects=True,
    sentences=[
        "stop [(the|my)] music [please]",
        "stop (the|this) song [please]",
        "stop playing [(the|my)] [music] [please]",
        "stop playback",
        "(turn|switch) off the music",
        "(turn|switch) the music off",
    ],
)
async def stop(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Stop the music (silently, like the bare "stop" the core handles)."""
    await _prepare(ctx)
    music = ctx.music
    if not (music.is_playing or music.is_paused):
        return Reply(NOTHING_PLAYING)
    await music.stop()
    return Reply("")


# ---------------------------------------------------------------------------------------------
# Volume.


async def _set_volume(ctx: SkillContext, volume: int) -> Reply:
    volume = min(100, max(0, volume))
    ctx.music.set_volume(volume)
    await ctx.store.put("volume", volume)  # kept for the next start of the daemon
    return Reply(f"Music volume {volume}.")


@skill.intent(
    "volume_up",
    description="Make the music louder.",
    side_effects=True,
    sentences=[
        "[(a bit|a little)] louder [please]",
        "turn (it|the music|this|the volume) up [(a bit|a little)] [please]",
        "make (it|the music|this) [(a bit|a little)] louder [please]",
        "turn up the (music|volume) [please]",
        "(volume|music) up [please]",
        "(increase|raise) the [music] volume [please]",
    ],
)
async def volume_up(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Raise the music volume a step."""
    await _prepare(ctx)
    return await _set_volume(ctx, ctx.music.volume + VOLUME_STEP)


@skill.intent(
    "volume_down",
    description="Make the music quieter.",
    side_effects=True,
    sentences=[
        "[(a bit|a little)] (quieter|softer) [please]",
        "turn (it|the music|this|the volume) down [(a bit|a little)] [please]",
        "make (it|the music|this) [(a bit|a little)] (quieter|softer) [please]",
        "turn down the (music|volume) [please]",
        "(volume|music) down [please]",
        "(decrease|lower|reduce) the [music] volume [please]",
    ],
)
async def volume_down(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Lower the music volume a step."""
    await _prepare(ctx)
    return await _set_volume(ctx, ctx.music.volume - VOLUME_STEP)


@skill.intent(
    "volume_set",
    description="Set the music volume (0–100, or a number up to 10 on a 0–10 scale).",
    side_effects=True,
    slots={"volume": Slot("volume", "the music volume")},
    sentences=[
        "(set|change|turn) [the] [music] volume to {volume} [please]",
        "[music] volume {volume}",
        "set the music to {volume}",
    ],
)
async def volume_set(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Set the music volume."""
    await _prepare(ctx)
    return await _set_volume(ctx, int(slots["volume"]))


# ---------------------------------------------------------------------------------------------
# What plays, and the library.


@skill.intent(
    "now_playing",
    description="Say which song is playing.",
    sentences=[
        "(what's|what is|whats) playing [(now|right now)]",
        "(what's|what is|whats) the (name|title) of (this|the|that) (song|track)",
        "(what's|what is|whats) (this|the) song [called]",
        "what song is (this|playing|that)",
        "who (is this|sings this [(song|track)]|is singing [this [(song|track)]])",
        "what am i listening to",
        "(what's|what is|whats) this (track|music)",
    ],
)
async def now_playing(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Name the song playing (or paused)."""
    _, player = await _prepare(ctx)
    track = player.current(ctx.music)
    if track is None:
        return Reply(NOTHING_PLAYING)
    # "Yesterday by The Beatles, from Help!"; a single's album named like the song is not repeated.
    shown = track.album and normalize(track.album) != normalize(track.title)
    album = f", from {track.album}" if shown else ""
    if ctx.music.is_paused:
        return Reply(f"{song_name(track)}{album}, is paused.")
    return Reply(f"This is {song_name(track)}{album}.")


@skill.intent(
    "rescan",
    description="Look for new, changed and removed music files in the music folders.",
    side_effects=True,
    sentences=[
        "(rescan|scan|re-scan|reindex|re-index|refresh|update) [(my|the)] music"
        " [(library|collection|folders)]",
        "look for new music",
    ],
)
async def rescan(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Rescan the music folders; answer with what changed, or later when it takes long."""
    settings, _ = await _prepare(ctx)
    if not settings.folders:
        return Reply(NO_FOLDERS)
    index = await index_for(ctx)
    if index.running is not None:
        index.announce_when_done = True
        return Reply("I'm already updating your music library; I'll tell you when it's done.")
    task = index.scan(ctx, settings)
    await asyncio.wait({task}, timeout=_INDEX_WAIT_S)
    if not task.done():
        index.announce_when_done = True
        return Reply("Updating your music library; I'll tell you when it's done.")
    return Reply(task.result().spoken())
