"""The TTS phrase cache: real piper audio, hits and misses, the byte bound, pinned phrases."""

from __future__ import annotations

import time

from assistant.audio.sinks import MemorySink
from assistant.runtime import Runtime, fixed_phrases
from assistant.session import Session
from assistant.speak.cache import MAX_CACHED_CHARS, PhraseCache, PhraseKey


def key(text: str) -> PhraseKey:
    """A cache key in a made-up voice."""
    return PhraseKey("voice.onnx", 1.0, text)


async def test_the_same_short_phrase_is_synthesized_once_then_served_from_the_cache(runtime: Runtime) -> None:
    tts = runtime.tts
    phrase = "Cache test: timer set for 7 minutes."
    hits, misses = tts.cache.hits, tts.cache.misses
    first = await tts.synthesize(phrase)
    assert (tts.cache.hits, tts.cache.misses) == (hits, misses + 1)
    start = time.monotonic()
    second = await tts.synthesize(phrase)
    took = time.monotonic() - start
    assert (tts.cache.hits, tts.cache.misses) == (hits + 1, misses + 1)
    assert second.pcm == first.pcm and len(first.pcm) > 10_000
    assert (second.sample_rate, second.text) == (first.sample_rate, phrase)
    assert took < 0.05, took  # no synthesis: a dictionary lookup
    # The runtime's metrics read the same counters.
    assert runtime.metrics.snapshot()["tts_cache"]["hits"] == tts.cache.hits


async def test_long_pieces_and_uncached_calls_are_not_kept(runtime: Runtime) -> None:
    tts = runtime.tts
    long = "This sentence is rather long, much longer than a short reply would ever be, so it is not cached."
    assert len(long) > MAX_CACHED_CHARS
    entries, misses = len(tts.cache), tts.cache.misses
    await tts.synthesize(long)
    await tts.synthesize(long)
    assert tts.cache.misses == misses + 2 and len(tts.cache) == entries
    hits = tts.cache.hits
    short = "Uncached short phrase."
    await tts.synthesize(short, cache=False)
    await tts.synthesize(short, cache=False)
    assert (tts.cache.hits, tts.cache.misses, len(tts.cache)) == (hits, misses + 2, entries)


async def test_fixed_phrases_are_ready_at_start_and_cost_no_synthesis(runtime: Runtime) -> None:
    tts = runtime.tts
    pieces = fixed_phrases(runtime.config)
    assert runtime.config.reply.filler in pieces and runtime.config.reply.too_slow in pieces
    for piece in pieces:
        assert PhraseKey(str(tts.voice_path), tts.config.length_scale, piece) in tts.cache, piece
    hits = tts.cache.hits
    sink = MemorySink()
    result = await Session(runtime, sink).handle_text("")  # nothing heard: the not_heard line
    assert result.reply == runtime.config.reply.not_heard
    assert tts.cache.hits == hits + len(sink.pieces) > hits


async def test_the_byte_bound_evicts_the_least_recently_used_real_audio(runtime: Runtime) -> None:
    audio = [
        (await runtime.tts.synthesize(text, cache=False)).pcm for text in ("Paused.", "Resumed.", "Stopped.")
    ]
    cache = PhraseCache(max_bytes=len(audio[0]) + len(audio[1]) + len(audio[2]) - 1)
    cache.put(key("Paused."), audio[0])
    cache.put(key("Resumed."), audio[1])
    assert cache.get(key("Paused.")) == audio[0]  # now the most recently used
    cache.put(key("Stopped."), audio[2])
    assert key("Resumed.") not in cache
    assert key("Paused.") in cache and key("Stopped.") in cache
    assert cache.size_bytes == len(audio[0]) + len(audio[2]) <= cache.max_bytes
    assert cache.get(key("Resumed.")) is None
    snapshot = cache.counters.snapshot()
    assert snapshot == {
        "hits": 1,
        "misses": 1,
        "evictions": 1,
        "entries": 2,
        "bytes": len(audio[0]) + len(audio[2]),
    }


def test_pinned_entries_stay_and_oversized_ones_are_refused() -> None:
    cache = PhraseCache(max_bytes=300)
    assert cache.put(key("filler"), b"f" * 100, pinned=True)
    assert cache.put(key("a"), b"a" * 100)
    assert cache.put(key("b"), b"b" * 100)
    assert cache.put(key("c"), b"c" * 100)  # evicts a, the oldest unpinned entry, not the filler
    assert key("filler") in cache and key("a") not in cache
    assert not cache.put(key("huge"), b"h" * 301)
    assert key("huge") not in cache and cache.size_bytes == 300
    # Replacing an entry keeps the byte count exact, and a pinned entry stays pinned.
    assert cache.put(key("filler"), b"F" * 50)
    assert cache.size_bytes == 250 and cache.get(key("filler")) == b"F" * 50
    assert cache.put(key("d"), b"d" * 100) and cache.put(key("e"), b"e" * 100)
    assert key("filler") in cache and cache.counters.evictions == 3
    off = PhraseCache(max_bytes=0)
    assert not off.put(key("x"), b"x") and len(off) == 0
    # Another voice or pace is another entry.
    other = PhraseKey("voice.onnx", 1.2, "filler")
    assert other not in cache and cache.get(other) is None
