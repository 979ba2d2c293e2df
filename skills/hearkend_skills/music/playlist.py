"""The playlist of one music output: the queued tracks, where it is, and moving through them."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from typing import Any

from assistant.skill import MusicOutput, SkillContext

from .decode import decode_stream
from .library import Track

__all__ = ["DEFAULT_RATE", "MAX_FAILURES_IN_A_ROW", "Player", "player_for"]

log = logging.getLogger(__name__)

DEFAULT_RATE = 22050
"""Decoding rate when the music output does not say its own (the mixer's default rate)."""

MAX_FAILURES_IN_A_ROW = 10
"""Unplayable files in a row after which the playlist stops instead of trying the next."""

LAST_PLAYED = "last_played"
"""Store key of the last track started, so "resume" works after a restart."""


def output_rate(music: MusicOutput) -> int:
    """The rate to decode at: the output's own when it tells it, so nothing is resampled twice."""
    rate = getattr(music, "sample_rate", None)
    return rate if isinstance(rate, int) and not isinstance(rate, bool) and rate > 0 else DEFAULT_RATE


class Player:
    """Plays a list of tracks on one MusicOutput, advancing when a track ends by itself."""

    def __init__(self) -> None:
        self.tracks: list[Track] = []
        self.position = 0
        self.volume_ready = False
        """The configured or stored volume has been applied to this output."""
        self._source: int | None = None
        self._ctx: SkillContext | None = None
        self._failures = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def _guard(self) -> asyncio.Lock:
        # A lock belongs to one loop; a new loop (a test, a restarted daemon) gets a new one.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    def owns(self, music: MusicOutput) -> bool:
        """True while the output plays (or holds paused) a track of this playlist."""
        return (
            self._source is not None
            and (music.is_playing or music.is_paused)
            and music.on_end == self._on_end
            and 0 <= self.position < len(self.tracks)
        )

    def current(self, music: MusicOutput) -> Track | None:
        """The track playing or paused now, if it is one of ours."""
        return self.tracks[self.position] if self.owns(music) else None

    @property
    def loaded(self) -> Track | None:
        """The playlist's current track, whether or not it sounds now."""
        return self.tracks[self.position] if 0 <= self.position < len(self.tracks) else None

    async def start(self, ctx: SkillContext, tracks: Sequence[Track], position: int = 0) -> Track:
        """Replace the playlist and play from ``position``."""
        async with self._guard():
            self.tracks = list(tracks)
            self._failures = 0
            return await self._play(ctx, position)

    async def step(self, ctx: SkillContext, by: int) -> Track | None:
        """Play the track ``by`` places on (negative: back); None past either end."""
        async with self._guard():
            to = self.position + by
            if not self.tracks or not 0 <= to < len(self.tracks):
                return None
            self._failures = 0
            return await self._play(ctx, to)

    async def _play(self, ctx: SkillContext, position: int) -> Track:
        track = self.tracks[position]
        self.position = position
        self._ctx = ctx
        music = ctx.music
        rate = output_rate(music)
        # Set before play(): a very short track may end before play() returns to us.
        music.on_end = self._on_end
        self._source = None
        self._source = await music.play(decode_stream(track.path, rate), sample_rate=rate)
        ctx.log.info("playing %s (%d/%d)", track.path, position + 1, len(self.tracks))
        await ctx.store.put(
            LAST_PLAYED,
            {
                "path": str(track.path),
                "title": track.title,
                "artist": track.artist,
                "at": ctx.now().isoformat(timespec="seconds"),
            },
        )
        return track

    def _on_end(self, ended: Any) -> None:
        """The output's end callback (called on the loop): queue the advance to the next track."""
        source = getattr(ended, "source", None)
        if source is None or source != self._source or self._ctx is None:
            return  # another source (replaced, or not ours) ended
        error = getattr(ended, "error", None)
        ctx = self._ctx
        if error:
            self._failures += 1
            ctx.log.warning("could not play %s: %s", self.tracks[self.position].path, error)
            if self._failures >= MAX_FAILURES_IN_A_ROW:
                ctx.log.error("%d unplayable tracks in a row; the playlist stops", self._failures)
                return
        else:
            self._failures = 0
        # Owned here (not fire-and-forget) so the task is neither collected early nor unreported.
        task = asyncio.create_task(self._advance(ctx, source), name="music-next")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _advance(self, ctx: SkillContext, ended: int) -> None:
        try:
            async with self._guard():
                if self._source != ended:
                    return  # someone chose another track meanwhile
                if self.position + 1 >= len(self.tracks):
                    ctx.log.info("playlist finished (%d tracks)", len(self.tracks))
                    self._source = None
                    return
                await self._play(ctx, self.position + 1)
        except Exception:
            ctx.log.exception("could not start the next track")


_players: weakref.WeakKeyDictionary[Any, Player] = weakref.WeakKeyDictionary()


def player_for(music: MusicOutput) -> Player:
    """The playlist of a music output (the daemon's mixer channel, or a one-shot's stand-in)."""
    player = _players.get(music)
    if player is None:
        player = _players[music] = Player()
    return player
