"""The music library: an SQLite index of local music files, scanned incrementally, searched by voice."""

from __future__ import annotations

import difflib
import os
import random
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import av
import mutagen
import mutagen.id3

__all__ = [
    "AUDIO_EXTENSIONS",
    "MusicLibrary",
    "MusicLibraryError",
    "ScanStats",
    "SearchField",
    "Track",
    "normalize",
]

AUDIO_EXTENSIONS = frozenset({".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".mp4", ".aac"})
"""File name endings (lower case) the scanner indexes."""

UNKNOWN_ARTIST = "Unknown artist"

SearchField = Literal["any", "title", "artist", "album", "genre"]

_SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 10_000
# Short write transactions let a search (or another process) get in during a long scan.
_BATCH = 200
_FUZZY_RATIO = 0.75
_FUZZY_WORD_RATIO = 0.8

_COLUMNS = "path, mtime_ns, size, title, artist, album, album_artist, genre, track_no, disc_no, duration_s"


class MusicLibraryError(Exception):
    """The library database cannot be opened or written."""

    code = "music-library"


@dataclass(frozen=True, slots=True)
class Track:
    """One indexed music file and its tags."""

    path: Path
    """Absolute path of the file."""
    title: str
    """Title tag, else the file name without its extension."""
    artist: str
    """Artist tag, else the album artist, else "Unknown artist"."""
    album: str
    """Album tag; empty when there is none."""
    album_artist: str
    """Album artist tag, else the artist."""
    genre: str
    """Genre tag; empty when there is none."""
    track_no: int | None
    """Position on the album."""
    disc_no: int | None
    """Disc of a multi-disc album."""
    duration_s: float | None
    """Length in seconds, when the file says."""
    mtime: float
    """Modification time of the file when it was indexed (seconds since the epoch)."""
    size: int
    """Size of the file in bytes when it was indexed."""


@dataclass(slots=True)
class ScanStats:
    """What one scan changed in the index."""

    added: int = 0
    """Files indexed for the first time."""
    updated: int = 0
    """Indexed files that had changed and were read again."""
    removed: int = 0
    """Index entries whose file is gone."""
    unchanged: int = 0
    """Files whose size and modification time were unchanged, so not read."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) for every file or folder that could not be read."""


@dataclass(frozen=True, slots=True)
class _Tags:
    title: str
    artist: str
    album: str
    album_artist: str
    genre: str
    track_no: int | None
    disc_no: int | None
    duration_s: float | None


class _Unreadable(Exception):
    """A file's tags or stream info cannot be read; the message is the reason."""


# ---------------------------------------------------------------------------------------------
# Normalisation and matching: pure functions, the heart of spoken search.

_DROP = re.compile(r"['’`´.]")  # "don't" -> "dont", "R.E.M." -> "rem"
_NON_WORD = re.compile(r"[^\w]+|_+")


def normalize(text: str) -> str:
    """Fold text for matching: no accents, case or punctuation, '&' as 'and', no leading 'the'."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    folded = _DROP.sub("", folded.replace("&", " and "))
    words = _NON_WORD.sub(" ", folded).split()
    # "The Beatles" and "Beatles" are the same band; but keep "The The" from becoming "".
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


class _Matcher:
    """Ranks normalised values against one normalised query, caching what repeats across values."""

    def __init__(self, query: str) -> None:
        self.query = query
        self._compact = query.replace(" ", "")
        self._words = query.split()
        self._word_set = set(self._words)
        # difflib caches facts about its second sequence, so the query goes there, once.
        self._whole = difflib.SequenceMatcher[str](None, "", query)
        self._word_ratio: dict[tuple[str, str], float] = {}

    def match(self, value: str) -> tuple[int, float] | None:
        """Rank (0 exact, 1 prefix, 2 contains, 3 fuzzy) and closeness of a value, or None."""
        query = self.query
        if not value:
            return None
        if query == value or self._compact == value.replace(" ", ""):
            return 0, 1.0
        if value.startswith(query):
            return 1, len(query) / len(value)
        if query in value:
            return 2, len(query) / len(value)
        v_words = value.split()
        if self._word_set <= set(v_words):
            return 2, len(query) / len(value)
        m = self._whole
        m.set_seq1(value)
        if m.real_quick_ratio() >= _FUZZY_RATIO and m.quick_ratio() >= _FUZZY_RATIO:
            ratio = m.ratio()
            if ratio >= _FUZZY_RATIO:
                return 3, ratio
        # Word by word, for a spoken query that names only part of a long value ("abby road"
        # for "Abbey Road (Remastered)").
        scores: list[float] = []
        for q in self._words:
            best = max((self._word(q, v) for v in v_words), default=0.0)
            if best < _FUZZY_WORD_RATIO:
                return None
            scores.append(best)
        # Closeness shrinks with the part of the value the query does not cover.
        cover = min(1.0, len(query) / len(value))
        return 3, sum(scores) / len(scores) * (0.5 + 0.5 * cover)

    def _word(self, q: str, v: str) -> float:
        if q == v:
            return 1.0
        # Short words must match exactly, or "in" would find "on"; and a length mismatch alone
        # can rule out a near miss (ratio <= 2 * shorter / total) without running difflib.
        if len(q) < 4 or len(v) < 4 or 2 * min(len(q), len(v)) < _FUZZY_WORD_RATIO * (len(q) + len(v)):
            return 0.0
        key = (q, v)
        ratio = self._word_ratio.get(key)
        if ratio is None:
            ratio = self._word_ratio[key] = difflib.SequenceMatcher(None, q, v).ratio()
        return ratio


# ---------------------------------------------------------------------------------------------
# Tag reading (blocking; runs in the scanning thread).


def _first_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if isinstance(value, mutagen.id3.TCON):
        # Genre frames may hold ID3v1 codes like "(17)"; .genres spells them out.
        value = (value.genres or [""])[0]
    elif isinstance(value, mutagen.id3.Frame):
        texts = getattr(value, "text", None) or [""]
        value = texts[0]
    return str(value).strip() if value is not None else ""


def _number(text: str) -> int | None:
    """The leading number of a track or disc tag: '3', '03', '3/12' -> 3."""
    m = re.match(r"\s*(\d+)", text)
    return int(m.group(1)) if m else None


_EASY_KEYS = {
    "title": ("title",),
    "artist": ("artist",),
    "album": ("album",),
    "album_artist": ("albumartist", "album artist", "album_artist"),
    "genre": ("genre",),
    "track": ("tracknumber", "track"),
    "disc": ("discnumber", "disc"),
}
_ID3_KEYS = {
    "title": ("TIT2",),
    "artist": ("TPE1",),
    "album": ("TALB",),
    "album_artist": ("TPE2",),
    "genre": ("TCON",),
    "track": ("TRCK",),
    "disc": ("TPOS",),
}


def _tag(tags: Any, name: str) -> str:
    if tags is None:
        return ""
    keys = _ID3_KEYS[name] if isinstance(tags, mutagen.id3.ID3) else _EASY_KEYS[name]
    for key in keys:
        try:
            value = tags.get(key)
        except (KeyError, ValueError, TypeError):
            # Easy wrappers reject keys they have no mapping for.
            continue
        text = _first_text(value)
        if text:
            return text
    return ""


def _read_with_mutagen(path: Path) -> tuple[dict[str, str], float | None] | None:
    try:
        audio = mutagen.File(path, easy=True)
    except mutagen.MutagenError as e:
        raise _Unreadable(f"cannot read tags or stream info: {e}") from e
    if audio is None:
        return None
    info = getattr(audio, "info", None)
    length = getattr(info, "length", None)
    tags = {name: _tag(audio.tags, name) for name in _EASY_KEYS}
    return tags, float(length) if isinstance(length, int | float) and length > 0 else None


def _read_with_av(path: Path) -> tuple[dict[str, str], float | None]:
    # For what mutagen does not know (a bare .aac stream, an odd container): ask FFmpeg.
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                raise _Unreadable("no audio stream in file")
            meta = {k.lower(): str(v) for k, v in container.metadata.items()}
            duration = container.duration
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise _Unreadable(f"not a readable audio file ({e})") from e
    tags = {
        "title": meta.get("title", ""),
        "artist": meta.get("artist", ""),
        "album": meta.get("album", ""),
        "album_artist": meta.get("album_artist", ""),
        "genre": meta.get("genre", ""),
        "track": meta.get("track", ""),
        "disc": meta.get("disc", ""),
    }
    # FFmpeg's container duration is in microseconds (AV_TIME_BASE).
    return tags, duration / 1_000_000 if duration and duration > 0 else None


def _read_tags(path: Path) -> _Tags:
    """Read a file's tags and length; raises _Unreadable with the reason."""
    got = _read_with_mutagen(path)
    raw, duration = got if got is not None else _read_with_av(path)
    artist = raw["artist"] or raw["album_artist"] or UNKNOWN_ARTIST
    return _Tags(
        title=raw["title"] or path.stem,
        artist=artist,
        album=raw["album"],
        album_artist=raw["album_artist"] or artist,
        genre=raw["genre"],
        track_no=_number(raw["track"]),
        disc_no=_number(raw["disc"]),
        duration_s=duration,
    )


# ---------------------------------------------------------------------------------------------
# Walking the folders.


@dataclass(slots=True)
class _Walk:
    files: dict[str, os.stat_result] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Folders that could not be listed: what is indexed under them is kept, not removed, so that
    # an unmounted drive or a permission slip does not wipe part of the library.
    unlisted: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)


def _walk(folders: Iterable[Path]) -> _Walk:
    walk = _Walk()
    for folder in folders:
        root = os.path.abspath(os.path.expanduser(folder))
        walk.roots.append(root)
        if not os.path.isdir(root):
            walk.failed.append((root, "folder not found"))
            walk.unlisted.append(root)
            continue

        for dirpath, dirnames, filenames in os.walk(root, onerror=partial(_unlisted, walk, root)):
            # Hidden entries are skipped: mostly "._x.mp3" resource forks and app metadata.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or os.path.splitext(name)[1].lower() not in AUDIO_EXTENSIONS:
                    continue
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError as e:
                    walk.failed.append((path, f"cannot stat file ({e.strerror or e})"))
                    continue
                if not os.path.isfile(path):
                    continue
                walk.files.setdefault(path, st)
    return walk


def _unlisted(walk: _Walk, root: str, e: OSError) -> None:
    where = e.filename if isinstance(e.filename, str) else root
    walk.failed.append((where, f"cannot list folder ({e.strerror or e})"))
    walk.unlisted.append(where)


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


# ---------------------------------------------------------------------------------------------


class MusicLibrary:
    """An index of music files in SQLite; scan() and find() block, so call them in a thread."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._lock = threading.Lock()
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.db_path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        except (OSError, sqlite3.Error) as e:
            raise MusicLibraryError(f"{self.db_path}: cannot open the music library: {e}") from None
        try:
            # WAL: searches never wait for a scan; FULL: a committed scan batch survives power loss.
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            with conn:
                if version not in (0, _SCHEMA_VERSION):
                    # The index is only a cache of the files' tags: rebuild rather than migrate.
                    conn.execute("DROP TABLE IF EXISTS tracks")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS tracks ("
                    " id INTEGER PRIMARY KEY,"
                    " path TEXT NOT NULL UNIQUE,"
                    " mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,"
                    " title TEXT NOT NULL, artist TEXT NOT NULL, album TEXT NOT NULL,"
                    " album_artist TEXT NOT NULL, genre TEXT NOT NULL,"
                    " track_no INTEGER, disc_no INTEGER, duration_s REAL,"
                    " n_title TEXT NOT NULL, n_artist TEXT NOT NULL, n_album TEXT NOT NULL,"
                    " n_album_artist TEXT NOT NULL, n_genre TEXT NOT NULL)"
                )
                conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except sqlite3.Error as e:
            conn.close()
            raise MusicLibraryError(f"{self.db_path}: cannot open the music library: {e}") from None
        return conn

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> MusicLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scanning --------------------------------------------------------------------------

    def scan(self, folders: list[Path], progress: Callable[[int, int], None] | None = None) -> ScanStats:
        """Bring the index in line with the music files under ``folders``; blocking.

        Files whose size and modification time are unchanged are not read again; unreadable
        files are reported in ``failed`` and skipped. Entries under a folder that cannot be
        listed (an unmounted drive) are kept; entries outside ``folders`` are removed.
        ``progress(done, total)`` is called as files are processed.
        """
        stats = ScanStats()
        walk = _walk(folders)
        stats.failed.extend(walk.failed)
        with self._lock:
            known: dict[str, tuple[int, int]] = {
                path: (mtime_ns, size)
                for path, mtime_ns, size in self._conn.execute("SELECT path, mtime_ns, size FROM tracks")
            }
        total = len(walk.files)
        if progress is not None:
            progress(0, total)
        pending: list[tuple[Any, ...]] = []
        stale: list[str] = []
        for done, (path, st) in enumerate(walk.files.items(), start=1):
            before = known.get(path)
            if before == (st.st_mtime_ns, st.st_size):
                stats.unchanged += 1
            else:
                row = self._read_row(path, st, stats)
                if row is None:
                    if before is not None:
                        stale.append(path)  # changed into something unreadable
                else:
                    pending.append(row)
                    if before is None:
                        stats.added += 1
                    else:
                        stats.updated += 1
                if len(pending) + len(stale) >= _BATCH:
                    self._write(pending, stale)
                    pending, stale = [], []
            if progress is not None:
                progress(done, total)
        gone = [p for p in known if p not in walk.files and not _under(p, walk.unlisted)]
        stats.removed = len(gone)
        self._write(pending, stale + gone)
        return stats

    def _read_row(self, path: str, st: os.stat_result, stats: ScanStats) -> tuple[Any, ...] | None:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            stats.failed.append((repr(path), "file name is not valid UTF-8"))
            return None
        try:
            tags = _read_tags(Path(path))
        except _Unreadable as e:
            stats.failed.append((path, str(e)))
            return None
        except Exception as e:
            # A tag parser tripping over a damaged file must not end the whole scan.
            stats.failed.append((path, f"cannot read tags ({type(e).__name__}: {e})"))
            return None
        return (
            path,
            st.st_mtime_ns,
            st.st_size,
            tags.title,
            tags.artist,
            tags.album,
            tags.album_artist,
            tags.genre,
            tags.track_no,
            tags.disc_no,
            tags.duration_s,
            normalize(tags.title),
            normalize(tags.artist),
            normalize(tags.album),
            normalize(tags.album_artist),
            normalize(tags.genre),
        )

    def _write(self, rows: list[tuple[Any, ...]], delete: list[str]) -> None:
        if not rows and not delete:
            return
        try:
            with self._lock, self._conn:
                self._conn.executemany("DELETE FROM tracks WHERE path = ?", [(p,) for p in delete])
                self._conn.executemany(
                    f"INSERT INTO tracks ({_COLUMNS},"
                    " n_title, n_artist, n_album, n_album_artist, n_genre)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (path) DO UPDATE SET"
                    " mtime_ns = excluded.mtime_ns, size = excluded.size, title = excluded.title,"
                    " artist = excluded.artist, album = excluded.album,"
                    " album_artist = excluded.album_artist, genre = excluded.genre,"
                    " track_no = excluded.track_no, disc_no = excluded.disc_no,"
                    " duration_s = excluded.duration_s, n_title = excluded.n_title,"
                    " n_artist = excluded.n_artist, n_album = excluded.n_album,"
                    " n_album_artist = excluded.n_album_artist, n_genre = excluded.n_genre",
                    rows,
                )
        except sqlite3.Error as e:
            raise MusicLibraryError(f"{self.db_path}: cannot update the music library: {e}") from None

    # -- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        """Number of indexed tracks."""
        with self._lock:
            n: int = self._conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        return n

    def all_tracks(self) -> list[Track]:
        """Every track, by album artist, album, disc and track number."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM tracks ORDER BY n_album_artist, n_album,"
                " COALESCE(disc_no, 0), COALESCE(track_no, 0), n_title, path"
            ).fetchall()
        return [_track(r) for r in rows]

    def random_tracks(self, n: int, rng: random.Random | None = None) -> list[Track]:
        """Up to ``n`` distinct tracks in random order."""
        rng = rng or random.Random()
        with self._lock:
            ids = [r[0] for r in self._conn.execute("SELECT id FROM tracks ORDER BY id")]
        chosen = rng.sample(ids, min(max(0, n), len(ids)))
        by_id = self._by_id(chosen)
        return [by_id[i] for i in chosen if i in by_id]

    def find(self, query: str, field: SearchField = "any", limit: int = 50) -> list[Track]:
        """Tracks matching a spoken query, best first: exact, then prefix, contains, fuzzy.

        Matching ignores case, accents, punctuation and a leading "the", and tolerates near
        misses ("beetles" finds "The Beatles"). Tracks of one album come in track order.
        """
        q = normalize(query)
        if not q or limit <= 0:
            return []
        fields: tuple[str, ...] = ("title", "artist", "album", "genre") if field == "any" else (field,)
        if any(f not in ("title", "artist", "album", "genre") for f in fields):
            raise ValueError(f"unknown search field {field!r}")
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, n_title, n_artist, n_album_artist, n_album, n_genre, disc_no, track_no,"
                " path FROM tracks"
            ).fetchall()
        matcher = _Matcher(q)
        cache: dict[str, tuple[int, float] | None] = {}

        def score(value: str) -> tuple[int, float] | None:
            if value not in cache:
                cache[value] = matcher.match(value)
            return cache[value]

        ranked: list[tuple[Any, ...]] = []
        for tid, title, artist, album_artist, album, genre, disc, track, path in rows:
            values = {
                "title": (title,),
                "artist": (artist, album_artist),
                "album": (album,),
                "genre": (genre,),
            }
            best: tuple[int, float, int, str] | None = None
            for fi, f in enumerate(fields):
                for value in values[f]:
                    s = score(value)
                    if s is not None and (best is None or (s[0], -s[1], fi) < (best[0], -best[1], best[2])):
                        best = (s[0], s[1], fi, value)
            if best is not None:
                rank, closeness, fi, value = best
                ranked.append(
                    (
                        rank,
                        -closeness,
                        fi,
                        value,
                        album_artist,
                        album,
                        disc or 0,
                        track or 0,
                        title,
                        path,
                        tid,
                    )
                )
        ranked.sort()
        chosen = [r[-1] for r in ranked[:limit]]
        by_id = self._by_id(chosen)
        return [by_id[i] for i in chosen if i in by_id]

    def _by_id(self, ids: Sequence[int]) -> dict[int, Track]:
        out: dict[int, Track] = {}
        with self._lock:
            # SQLite limits bound parameters; 500 at a time stays well under every build's limit.
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT id, {_COLUMNS} FROM tracks WHERE id IN ({marks})", chunk
                ):
                    out[row[0]] = _track(row[1:])
        return out


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _track(row: Sequence[Any]) -> Track:
    path, mtime_ns, size, title, artist, album, album_artist, genre, track_no, disc_no, duration = row
    return Track(
        path=Path(path),
        title=title,
        artist=artist,
        album=album,
        album_artist=album_artist,
        genre=genre,
        track_no=track_no,
        disc_no=disc_no,
        duration_s=duration,
        mtime=mtime_ns / 1e9,
        size=size,
    )
