"""The music library and decoder, on real tagged files generated with PyAV and mutagen."""

from __future__ import annotations

import os
import random
import sqlite3
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import mutagen
import mutagen.id3
import mutagen.wave
import numpy as np
import pytest

from hearkend_skills.music.decode import MusicFileError, decode_stream
from hearkend_skills.music.library import MusicLibrary, Track, normalize


@dataclass(frozen=True)
class Song:
    name: str
    title: str | None
    artist: str | None
    album: str | None
    genre: str | None
    track: int | None


SONGS = [
    Song("beatles/07 sun.ogg", "Here Comes the Sun", "The Beatles", "Abbey Road", "Rock", 7),
    Song("beatles/01 together.mp3", "Come Together", "The Beatles", "Abbey Road", "Rock", 1),
    Song("beatles/02 something.flac", "Something", "The Beatles", "Abbey Road", "Rock", 2),
    Song("miles/so_what.m4a", "So What", "Miles Davis", "Kind of Blue", "Jazz", 1),
    Song("miles/freddie.wav", "Freddie Freeloader", "Miles Davis", "Kind of Blue", "Jazz", 2),
    Song("miles/blue.opus", "Blue in Green", "Miles Davis", "Kind of Blue", "Jazz", 3),
    Song("daft/around.mp3", "Around the World", "Daft Punk", None, "Electronic", None),
    Song("misc/untitled demo.WAV", None, None, None, None, None),
]

# (container format, codec, channels): the native Vorbis encoder only does stereo.
_CODECS = {
    ".mp3": ("mp3", "libmp3lame", 1),
    ".flac": ("flac", "flac", 1),
    ".ogg": ("ogg", "vorbis", 2),
    ".m4a": ("mp4", "aac", 1),
    ".wav": ("wav", "pcm_s16le", 1),
    ".opus": ("ogg", "libopus", 1),
}


def write_tone(path: Path, seconds: float, freq: float = 440.0, rate: int = 44100) -> None:
    """Encode a sine tone with PyAV in the format the file name asks for."""
    fmt, codec, channels = _CODECS[path.suffix.lower()]
    rate = 48000 if codec == "libopus" else rate
    layout = "stereo" if channels == 2 else "mono"
    n = round(seconds * rate)
    tone = (0.3 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        formats = stream.codec_context.codec.audio_formats
        assert formats
        target = formats[0].name
        frame = av.AudioFrame.from_ndarray(np.tile(tone, (channels, 1)), format="fltp", layout=layout)
        frame.sample_rate = rate
        # Timestamps let the Ogg muxer write true granule positions (the file's length).
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        resampler = av.AudioResampler(format=target, layout=layout, rate=rate)
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_tags(path: Path, song: Song) -> None:
    """Set title/artist/album/genre/track number with mutagen (ID3 frames for WAV)."""
    fields = {
        "title": song.title,
        "artist": song.artist,
        "album": song.album,
        "genre": song.genre,
        "tracknumber": f"{song.track}/9" if song.track else None,
    }
    if path.suffix.lower() == ".wav":
        wave: Any = mutagen.wave.WAVE(path)  # type: ignore[no-untyped-call]
        wave.add_tags()
        frames = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "genre": "TCON", "tracknumber": "TRCK"}
        for key, value in fields.items():
            if value:
                wave.tags.add(getattr(mutagen.id3, frames[key])(encoding=3, text=[value]))
        wave.save()
        return
    audio = mutagen.File(path, easy=True)
    assert audio is not None, path
    if audio.tags is None:
        audio.add_tags()
    for key, value in fields.items():
        if value:
            audio[key] = value
    audio.save()


def make_song(root: Path, song: Song, seconds: float = 0.3) -> Path:
    path = root / song.name
    write_tone(path, seconds)
    if song.title is not None:
        write_tags(path, song)
    return path


@pytest.fixture(scope="module")
def music_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small music folder, generated once for this module; tests copy it when they mutate it."""
    root = tmp_path_factory.mktemp("music")
    for song in SONGS:
        make_song(root, song)
    (root / "notes.txt").write_text("not music")
    (root / "misc" / "._around.mp3").write_bytes(b"\0" * 100)  # macOS resource fork: skipped
    return root


@pytest.fixture
def library(tmp_path: Path, music_dir: Path) -> MusicLibrary:
    lib = MusicLibrary(tmp_path / "db" / "music.db")
    stats = lib.scan([music_dir])
    assert stats.failed == []
    return lib


def titles(tracks: list[Track]) -> list[str]:
    return [t.title for t in tracks]


def test_scan_reads_tags_of_every_format(library: MusicLibrary, music_dir: Path) -> None:
    assert library.count() == len(SONGS)
    by_title = {t.title: t for t in library.all_tracks()}
    sun = by_title["Here Comes the Sun"]
    assert (sun.artist, sun.album, sun.album_artist, sun.genre, sun.track_no) == (
        "The Beatles",
        "Abbey Road",
        "The Beatles",
        "Rock",
        7,
    )
    assert sun.path == music_dir / "beatles" / "07 sun.ogg"
    assert by_title["Freddie Freeloader"].artist == "Miles Davis"  # ID3 in a WAV
    assert by_title["So What"].genre == "Jazz"  # MP4 atoms
    assert by_title["Blue in Green"].track_no == 3  # Opus comments
    demo = by_title["untitled demo"]  # untagged: the file stem and a placeholder artist
    assert (demo.artist, demo.album, demo.track_no) == ("Unknown artist", "", None)
    for t in library.all_tracks():
        assert t.duration_s is not None and t.duration_s == pytest.approx(0.3, abs=0.1), t
        assert t.size == t.path.stat().st_size


def test_database_settings(library: MusicLibrary) -> None:
    conn = sqlite3.connect(library.db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_incremental_rescan(tmp_path: Path, music_dir: Path) -> None:
    root = tmp_path / "music"
    for song in SONGS:
        src = music_dir / song.name
        (root / song.name).parent.mkdir(parents=True, exist_ok=True)
        (root / song.name).write_bytes(src.read_bytes())
    lib = MusicLibrary(tmp_path / "music.db")
    first = lib.scan([root])
    assert (first.added, first.updated, first.removed, first.unchanged) == (len(SONGS), 0, 0, 0)

    again = lib.scan([root])
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(SONGS))

    # Retag one file (changing size and mtime), delete one, add one.
    changed = root / "beatles" / "02 something.flac"
    write_tags(changed, Song("", "Something (Remastered)", "The Beatles", "Abbey Road", "Rock", 2))
    st = changed.stat()
    os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    (root / "daft" / "around.mp3").unlink()
    make_song(root, Song("daft/one more time.flac", "One More Time", "Daft Punk", "Discovery", "House", 1))
    third = lib.scan([root])
    assert (third.added, third.updated, third.removed, third.unchanged) == (1, 1, 1, len(SONGS) - 2)
    assert third.failed == []
    assert "Something (Remastered)" in titles(lib.all_tracks())
    assert "Around the World" not in titles(lib.all_tracks())
    assert lib.find("one more time", "title")[0].album == "Discovery"

    # A reopened library keeps the index.
    lib.close()
    reopened = MusicLibrary(tmp_path / "music.db")
    assert reopened.count() == len(SONGS)
    # A folder no longer scanned is dropped; a missing one is reported, its tracks kept.
    only_miles = reopened.scan([root / "miles", tmp_path / "unplugged-drive"])
    assert only_miles.removed == len(SONGS) - 3
    assert only_miles.failed == [(str(tmp_path / "unplugged-drive"), "folder not found")]
    assert sorted(titles(reopened.all_tracks())) == ["Blue in Green", "Freddie Freeloader", "So What"]


def test_corrupt_files_are_reported_and_skipped(tmp_path: Path, music_dir: Path) -> None:
    root = tmp_path / "music"
    root.mkdir()
    good = root / "good.mp3"
    good.write_bytes((music_dir / SONGS[1].name).read_bytes())
    (root / "noise.mp3").write_bytes(bytes(random.Random(1).randrange(256) for _ in range(4000)))
    (root / "empty.flac").write_bytes(b"")
    (root / "text.wav").write_text("RIFF but not really a wave file")
    lib = MusicLibrary(tmp_path / "music.db")
    stats = lib.scan([root])
    assert stats.added == 1
    failed = dict(stats.failed)
    assert set(failed) == {str(root / n) for n in ("noise.mp3", "empty.flac", "text.wav")}
    assert all(reason for reason in failed.values())
    assert titles(lib.all_tracks()) == ["Come Together"]


def test_progress_is_monotonic_and_complete(tmp_path: Path, music_dir: Path) -> None:
    calls: list[tuple[int, int]] = []
    lib = MusicLibrary(tmp_path / "music.db")
    lib.scan([music_dir], progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, len(SONGS))
    assert calls[-1] == (len(SONGS), len(SONGS))
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and {t for _, t in calls} == {len(SONGS)}
    calls.clear()
    lib.scan([music_dir], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(SONGS), len(SONGS))


def test_normalize() -> None:
    assert normalize("The Beatles") == "beatles"
    assert normalize("  Beyoncé & JAY-Z ") == "beyonce and jay z"
    assert normalize("Don't Stop Me Now!") == "dont stop me now"
    assert normalize("R.E.M.") == "rem"
    assert normalize("The The") == "the"  # the band keeps a name


@pytest.mark.parametrize(
    ("query", "field", "expected_artist"),
    [
        ("the beatles", "artist", "The Beatles"),
        ("beatles", "artist", "The Beatles"),
        ("beetles", "artist", "The Beatles"),
        ("BEATLES!", "any", "The Beatles"),
        ("miles", "artist", "Miles Davis"),
        ("miles davies", "artist", "Miles Davis"),
        ("daft punk", "any", "Daft Punk"),
        ("daft", "artist", "Daft Punk"),
    ],
)
def test_find_artist_tolerates_spoken_queries(
    library: MusicLibrary, query: str, field: str, expected_artist: str
) -> None:
    found = library.find(query, field)  # type: ignore[arg-type]
    assert found and {t.artist for t in found} == {expected_artist}


def test_find_album_in_track_order(library: MusicLibrary) -> None:
    for query in ("abbey road", "Abbey Road", "abby road", "the abbey road"):
        assert titles(library.find(query, "album")) == ["Come Together", "Something", "Here Comes the Sun"]
    assert titles(library.find("kind of blue", "album")) == ["So What", "Freddie Freeloader", "Blue in Green"]


def test_find_title_and_genre(library: MusicLibrary) -> None:
    assert titles(library.find("here comes the sun", "title")) == ["Here Comes the Sun"]
    assert titles(library.find("here comes a sun", "title")) == ["Here Comes the Sun"]
    assert titles(library.find("freddy freeloader", "title")) == ["Freddie Freeloader"]
    assert {t.title for t in library.find("jazz", "genre")} == {
        "So What",
        "Freddie Freeloader",
        "Blue in Green",
    }
    assert {t.genre for t in library.find("rock", "genre")} == {"Rock"}
    assert library.find("polka", "genre") == []
    assert library.find("", "any") == []
    assert library.find("zzz qqq") == []


def test_find_ranks_exact_before_prefix_contains_and_fuzzy(library: MusicLibrary) -> None:
    # "blue": an exact word match in "Blue in Green" (prefix) beats "Kind of Blue" (contains).
    found = titles(library.find("blue", "any"))
    assert found[0] == "Blue in Green"
    assert set(found) == {"So What", "Freddie Freeloader", "Blue in Green"}
    # "something" is an exact title; "come together" shares no words with it.
    assert titles(library.find("something"))[0] == "Something"
    assert len(library.find("blue", "any", limit=2)) == 2


def test_random_tracks(library: MusicLibrary) -> None:
    picked = library.random_tracks(3, random.Random(7))
    assert len(picked) == 3 and len({t.path for t in picked}) == 3
    assert picked == library.random_tracks(3, random.Random(7))
    assert len(library.random_tracks(100, random.Random(1))) == len(SONGS)


@pytest.mark.parametrize("name", [s.name for s in SONGS])
@pytest.mark.parametrize("rate", [16000, 22050])
def test_decode_stream_each_format(music_dir: Path, name: str, rate: int) -> None:
    chunks = list(decode_stream(music_dir / name, rate, chunk_ms=100))
    chunk_bytes = rate // 10 * 2
    assert all(len(c) == chunk_bytes for c in chunks[:-1]) and 0 < len(chunks[-1]) <= chunk_bytes
    samples = np.frombuffer(b"".join(chunks), dtype="<i2")
    assert len(samples) / rate == pytest.approx(0.3, abs=0.1)
    # The 440 Hz tone survives: about 2 * 440 zero crossings per second in the steady middle.
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4].astype(np.float64)
    crossings = np.count_nonzero(np.diff(np.signbit(middle)))
    assert crossings / (len(middle) / rate) == pytest.approx(880, rel=0.05)


def test_decode_stream_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\x00\x01 not an mp3" * 50)
    with pytest.raises(MusicFileError) as info:
        list(decode_stream(bad, 22050))
    assert info.value.path == bad and info.value.reason
    with pytest.raises(MusicFileError, match="not found"):
        list(decode_stream(tmp_path / "missing.flac", 22050))
    with pytest.raises(ValueError):
        decode_stream(bad, 0)


def test_decode_stream_close_early_closes_file(music_dir: Path) -> None:
    stream = decode_stream(music_dir / SONGS[1].name, 22050, chunk_ms=20)
    assert len(next(stream)) == 441 * 2
    stream.close()  # type: ignore[attr-defined]
