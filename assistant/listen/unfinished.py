"""Whether the words heard so far stop where a sentence cannot end ("set a timer for ...")."""

from __future__ import annotations

import re

# Words an English command or question does not end on: articles, most prepositions,
# conjunctions, possessives, hesitations. A pause after one is someone thinking, not someone
# done. Words that can end one are left out on purpose: "turn it on", "where are you from",
# "cancel that", "what should I do", "do you know what day it is", "call her" ("in" stays:
# "the weather in" is common, "come in" is not said to an assistant).
_GOES_ON = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "for",
        "at",
        "in",
        "of",
        "with",
        "about",
        "by",
        "into",
        "onto",
        "until",
        "till",
        "than",
        "and",
        "or",
        "but",
        "because",
        "if",
        "whether",
        "my",
        "your",
        "his",
        "its",
        "our",
        "their",
        "um",
        "uh",
        "er",
        "erm",
        "hmm",
        "what's",
        "where's",
        "who's",
        "how's",
        "there's",
        "it's",
    ]
)

_WORD = re.compile(r"[a-z']+")


def sounds_unfinished(text: str) -> bool:
    """True when ``text`` ends on a word a sentence goes on after (its punctuation is ignored:
    whisper often puts a full stop or a question mark at any pause)."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return bool(words) and words[-1] in _GOES_ON
