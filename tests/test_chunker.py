"""Sentence chunking of streamed reply text."""

from __future__ import annotations

from assistant.speak.chunker import SentenceChunker, clean_for_speech


def stream(text: str, step: int = 3) -> list[str]:
    chunker = SentenceChunker()
    pieces: list[str] = []
    for i in range(0, len(text), step):
        pieces += chunker.push(text[i : i + step])
    return pieces + chunker.flush()


def test_first_piece_is_a_clause_then_whole_sentences() -> None:
    text = "Well, the capital of France is Paris, a lovely city. It has many museums. Enjoy!"
    assert stream(text) == [
        "Well, the capital of France is Paris,",
        "a lovely city.",
        "It has many museums.",
        "Enjoy!",
    ]


def test_abbreviations_and_decimals_do_not_split() -> None:
    text = "Dr. Smith measured 3.5 litres. Then he left."
    assert stream(text) == ["Dr. Smith measured 3.5 litres.", "Then he left."]


def test_markdown_is_not_read_aloud() -> None:
    assert clean_for_speech("**Paris** is the `capital`  of #France") == "Paris is the capital of France"


def test_long_text_without_punctuation_is_cut_at_a_space() -> None:
    chunker = SentenceChunker(first_max_chars=20, max_chars=40)
    pieces = chunker.push("word " * 20)
    assert pieces and len(pieces[0]) <= 20
    assert all(len(p) <= 40 for p in pieces)
    assert " ".join(pieces + chunker.flush()).split() == ["word"] * 20


def test_nothing_is_lost_or_duplicated() -> None:
    text = "One. Two, three; four! Five? Six"
    assert " ".join(stream(text, step=1)).split() == text.split()
