"""The fast intent matcher and the router, with the real built-in skills from entry points."""

from __future__ import annotations

import pytest

from assistant.skill.registry import load_skills
from assistant.understand.intents import IntentMatcher
from assistant.understand.router import Router


@pytest.fixture(scope="module")
def router() -> Router:
    skills = load_skills()
    assert "clock" in skills.skills, skills.failed
    return Router(IntentMatcher(skills.skills.values()))


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("What time is it?", "time"),
        ("what's the time", "time"),
        ("Could you tell me the time, please?", "time"),
        ("Do you know what time it is?", "time"),
        ("Okay, what time is it now?", "time"),
        ("What's the date today?", "date"),
        ("What is today's date?", "date"),
        ("Tell me the date.", "date"),
        ("What day is it today?", "day"),
        ("What day of the week is it?", "day"),
    ],
)
def test_clock_phrasings_go_to_the_clock(router: Router, text: str, action: str) -> None:
    decision = router.route(text)
    assert decision.route == "skill"
    assert decision.intent is not None
    assert (decision.intent.skill, decision.intent.action) == ("clock", action)


@pytest.mark.parametrize(
    "text",
    [
        "Tell me a joke.",
        "What is the capital of France?",
        "What time does the bakery open tomorrow?",
        "How long do I boil an egg?",
        "Who wrote the time machine?",
    ],
)
def test_open_questions_go_to_the_llm(router: Router, text: str) -> None:
    assert router.route(text).route == "llm"


def test_empty_text_goes_nowhere(router: Router) -> None:
    assert router.route("  ").route == "none"


def test_without_an_llm_unmatched_text_goes_nowhere() -> None:
    skills = load_skills()
    router = Router(IntentMatcher(skills.skills.values()), llm_available=False)
    assert router.route("tell me a joke").route == "none"
    assert router.route("what time is it").route == "skill"


def test_a_skill_with_a_broken_template_is_rejected_alone() -> None:
    from assistant.skill import Reply, Skill, Slot
    from assistant.skill.registry import _validate

    broken = Skill("broken", "uses an undeclared slot")

    @broken.intent("x", description="x", sentences=["do {thing} now"], slots={"other": Slot("text")})
    async def handler(ctx: object, slots: dict[str, object]) -> Reply:
        return Reply("x")

    with pytest.raises(ValueError, match=r"broken.*\{thing\}"):
        _validate(broken, "test")
    unclosed = Skill("unclosed", "a template that does not parse")

    @unclosed.intent("y", description="y", sentences=["(open never closed"])
    async def handler2(ctx: object, slots: dict[str, object]) -> Reply:
        return Reply("y")

    with pytest.raises(ValueError, match="invalid sentence template"):
        _validate(unclosed, "test")


@pytest.mark.parametrize(
    ("slots", "sentences", "message"),
    [
        ({"when": "date"}, ["remind me {when}"], "unknown kind 'date'"),
        ({"x-y": "text"}, ["say {x-y}"], "not an identifier"),
        ({"pick": "choice"}, ["pick {pick}"], "lists no values"),
    ],
)
def test_invalid_declarations_are_refused_at_load(
    slots: dict[str, str], sentences: object, message: str
) -> None:
    from assistant.skill import Reply, Skill, Slot
    from assistant.skill.registry import _validate

    bad = Skill("bad", "declares something invalid")

    @bad.intent(
        "x",
        description="x",
        sentences=sentences,  # type: ignore[arg-type]
        slots={name: Slot(kind) for name, kind in slots.items()},  # type: ignore[arg-type]
    )
    async def handler(ctx: object, values: dict[str, object]) -> Reply:
        return Reply("x")

    with pytest.raises(ValueError, match=message):
        _validate(bad, "test")


def test_sentences_given_as_one_string_fail_at_declaration() -> None:
    from assistant.skill import Skill

    with pytest.raises(TypeError, match="list of strings"):
        Skill("s", "d").intent("x", description="x", sentences="what time is it")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("um what time is it", "what time is it"),
        ("set a uh timer for umm five minutes", "set a timer for five minutes"),
        ("hmm play some jazz", "play some jazz"),
        ("play mmmbop", "play mmmbop"),
        ("remind me to call uma", "remind me to call uma"),
    ],
)
def test_hesitations_are_dropped_as_whole_words(text: str, expected: str) -> None:
    from assistant.understand.intents import without_hesitations

    assert without_hesitations(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hey could you please pause the music thanks", "pause the music"),
        ("okay so can you skip this song", "skip this song"),
        ("excuse me what time is it please", "what time is it"),
        ("please", "please"),
        ("thank you", "thank you"),
        ("play please please me", "play please please me"),
    ],
)
def test_courtesies_around_a_command_are_dropped(text: str, expected: str) -> None:
    from assistant.understand.intents import without_courtesies

    assert without_courtesies(text) == expected


@pytest.mark.parametrize(
    ("text", "skill", "action"),
    [
        ("Um, what time is it?", "clock", "time"),
        ("Hey, could you pause the music, thanks.", "music", "pause"),
        ("Excuse me, what day is it?", "clock", "day"),
        ("So, uh, set a timer for five minutes please.", "timers", "start"),
    ],
)
def test_fillers_and_courtesies_do_not_hide_a_command(
    router: Router, text: str, skill: str, action: str
) -> None:
    decision = router.route(text)
    assert decision.intent is not None, text
    assert (decision.intent.skill, decision.intent.action) == (skill, action)


def test_courtesies_are_only_dropped_when_the_whole_sentence_matches_nothing(router: Router) -> None:
    # A song title that ends in "please" keeps its words.
    decision = router.route("play please please me")
    assert decision.intent is not None
    assert decision.intent.slots == {"query": "please please me"}
    assert router.route("thank you").route == "llm"


def _one_intent_skill(slot: object) -> object:
    from assistant.skill import Reply, Skill

    skill = Skill("echo", "repeats a word")

    @skill.intent("say", description="say a word", sentences=["say {word}"], slots={"word": slot})  # type: ignore[dict-item]
    async def say(ctx: object, slots: dict[str, object]) -> Reply:
        return Reply(str(slots["word"]))

    return skill


def test_a_text_slot_pattern_rejects_a_reading_at_match_time() -> None:
    from assistant.skill import Slot
    from assistant.understand.slot_types import json_schema

    slot = Slot("text", "a word, not a game", pattern=r"^(?!a game\b)")
    assert json_schema(slot)["pattern"] == r"^(?!a game\b)"
    matcher = IntentMatcher([_one_intent_skill(slot)])  # type: ignore[list-item]
    match = matcher.match("say hello")
    assert match is not None and match.intent.slots == {"word": "hello"}
    assert matcher.match("say a game with me") is None


@pytest.mark.parametrize(
    ("slot_kwargs", "message"),
    [
        ({"kind": "number", "pattern": "^1"}, "only a text slot"),
        ({"kind": "text", "pattern": "(unclosed"}, "pattern is invalid"),
    ],
)
def test_a_bad_slot_pattern_is_refused_at_load(slot_kwargs: dict[str, str], message: str) -> None:
    from assistant.skill import Slot
    from assistant.skill.registry import _validate

    with pytest.raises(ValueError, match=message):
        _validate(_one_intent_skill(Slot(**slot_kwargs)), "test")  # type: ignore[arg-type]
