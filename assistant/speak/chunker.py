"""Sentence chunking: splits streamed reply text into pieces worth speaking on their own."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (possibly with closing quotes/brackets) followed by whitespace;
# abbreviations like "Dr." and numbers like "3.5" must not end a sentence.
_SENTENCE_END = re.compile(r"""(?<=[.!?])["')\]]*\s+""")
_CLAUSE_END = re.compile(r"""(?<=[,;:—])\s+""")
_ABBREVIATIONS = frozenset(
    {"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "etc.", "e.g.", "i.e.", "no.", "jr.", "sr.", "prof."}
)
_MARKUP = re.compile(r"[*_#`~>|]+")


def clean_for_speech(text: str) -> str:
    """Remove markdown symbols and collapse whitespace so the voice reads only words."""
    return re.sub(r"\s+", " ", _MARKUP.sub("", text)).strip()


class SentenceChunker:
    """Collects streamed text and releases speakable pieces.

    The first piece may be just a clause (sooner first audio); later pieces are whole sentences.
    """

    def __init__(
        self, first_clause_min_chars: int = 12, first_max_chars: int = 80, max_chars: int = 300
    ) -> None:
        self.first_clause_min_chars = first_clause_min_chars
        self.first_max_chars = first_max_chars
        self.max_chars = max_chars
        self._buffer = ""
        self._emitted = 0

    def push(self, text: str) -> list[str]:
        """Add streamed text; return the pieces that are now complete."""
        self._buffer += text
        pieces: list[str] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                break
            piece = clean_for_speech(self._buffer[:cut])
            self._buffer = self._buffer[cut:]
            if piece:
                pieces.append(piece)
                self._emitted += 1
        return pieces

    def flush(self) -> list[str]:
        """Return whatever text is left at the end of the stream."""
        piece = clean_for_speech(self._buffer)
        self._buffer = ""
        if piece:
            self._emitted += 1
            return [piece]
        return []

    def _find_cut(self) -> int | None:
        for match in _SENTENCE_END.finditer(self._buffer):
            before = self._buffer[: match.start()].rsplit(None, 1)
            last_word = before[-1].lower() if before else ""
            if last_word in _ABBREVIATIONS or re.fullmatch(r"\d+\.", last_word):
                continue
            return match.end()
        if self._emitted == 0:
            for match in _CLAUSE_END.finditer(self._buffer):
                if match.start() >= self.first_clause_min_chars:
                    return match.end()
        limit = self.first_max_chars if self._emitted == 0 else self.max_chars
        if len(self._buffer) > limit:
            # No punctuation for a long stretch: cut at the last space to keep latency bounded.
            space = self._buffer.rfind(" ", 0, limit)
            return space + 1 if space > 0 else limit
        return None


def split_pieces(text: str) -> list[str]:
    """A whole text cut into the pieces a streamed reply of it would be spoken in."""
    chunker = SentenceChunker()
    return [*chunker.push(text), *chunker.flush()]
