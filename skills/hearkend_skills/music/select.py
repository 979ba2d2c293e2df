"""Choosing what to play from a spoken request: a song, an artist, an album or a genre (blocking)."""

from __future__ import annotations

import difflib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .library import UNKNOWN_ARTIST, MusicLibrary, Track, normalize

__all__ = ["FIELDS", "MAX_PLAYLIST", "Field", "Selection", "describe", "select", "select_all", "song_name"]

Field = Literal["title", "artist", "album", "genre"]

FIELDS: tuple[Field, ...] = ("title", "artist", "album", "genre")
"""The order a bare "play X" tries: a song first, then an artist, an album, a genre."""

MAX_PLAYLIST = 1000
"""Most tracks queued by one request (a whole library in order would be needlessly large)."""


@dataclass(frozen=True)
class Selection:
    """What a request chose: the tracks, and what they have in common, as tagged."""

    kind: Field | Literal["all"]
    tracks: list[Track]
    name: str
    """The title, artist, album or genre that matched (empty for the whole library)."""


def _values(track: Track, field: Field) -> tuple[str, ...]:
    if field == "title":
        return (track.title,)
    if field == "artist":
        return (track.artist, track.album_artist)
    if field == "album":
        return (track.album,)
    return (track.genre,)


def _closeness(query: str, value: str) -> tuple[bool, bool, float]:
    """Sort key: exact before containing before the rest, then by similarity."""
    n = normalize(value)
    return (n != query, query not in n, -difflib.SequenceMatcher(None, query, n).ratio())


def _group(query: str, field: Field, found: list[Track]) -> tuple[Selection, bool]:
    """The tracks sharing the best hit's value (find also returns near misses); and if exact."""
    top = found[0]
    name = min((v for v in _values(top, field) if v), key=lambda v: _closeness(query, v))
    key = normalize(name)
    tracks = [t for t in found if key in {normalize(v) for v in _values(t, field)}]
    if field == "title":
        tracks = tracks[:1]  # a song is one track, even when several share its name
    elif field == "album":
        # Many artists have an album called "Greatest Hits": keep the best hit's artist's.
        owner = normalize(top.album_artist)
        tracks = [t for t in tracks if normalize(t.album_artist) == owner]
    return Selection(field, tracks, name), key == query


def select(library: MusicLibrary, query: str, prefer: Field | None = None) -> Selection | None:
    """The tracks a spoken "play <query>" means, or None; blocking.

    Fields are tried in order (``prefer`` first, then title, artist, album, genre); an exact
    match in a later field beats a near miss in an earlier one.
    """
    q = normalize(query)
    if not q:
        return None
    order = [prefer] if prefer is not None else []
    order += [f for f in FIELDS if f != prefer]
    first: Selection | None = None
    for field in order:
        found = library.find(query, field, limit=MAX_PLAYLIST)
        if not found:
            continue
        selection, exact = _group(q, field, found)
        if exact:
            return selection
        first = first or selection
    return first


def select_all(library: MusicLibrary, shuffle: bool, rng: random.Random) -> list[Track]:
    """The whole library (up to MAX_PLAYLIST tracks), in album order or shuffled; blocking."""
    if shuffle:
        return library.random_tracks(MAX_PLAYLIST, rng)
    return library.all_tracks()[:MAX_PLAYLIST]


def song_name(track: Track) -> str:
    """'Yesterday by The Beatles', or only the title when the artist is unknown."""
    if track.artist and track.artist != UNKNOWN_ARTIST:
        return f"{track.title} by {track.artist}"
    return track.title


def describe(selection: Selection, tracks: Sequence[Track], shuffled: bool) -> str:
    """The spoken answer to a play request that found ``tracks``."""
    n = len(tracks)
    if n == 1:
        return f"Playing {song_name(tracks[0])}."
    verb = "Shuffling" if shuffled else "Playing"
    if selection.kind == "artist":
        return f"{verb} {n} songs by {selection.name}."
    if selection.kind == "album":
        owner = tracks[0].album_artist
        by = f" by {owner}" if owner and owner != UNKNOWN_ARTIST else ""
        return f"{verb} the album {selection.name}{by}."
    if selection.kind == "genre":
        return f"{verb} {n} {selection.name} songs."
    if selection.kind == "all":
        return f"{verb} your music: {n} songs."
    return f"{verb} {song_name(tracks[0])}."
