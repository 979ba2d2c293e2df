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
