"""The clock skill: the time, the date and the day of the week."""

from __future__ import annotations

from typing import Any

from assistant.skill import Reply, Skill, SkillContext

skill = Skill("clock", "Tells the time, the date and the day of the week.")

_ASK = "[(can|could|would) you] [please] (tell|give) me"


def spoken_time(hour: int, minute: int) -> str:
    """Say a clock time the way people do: '3:05 PM', 'noon', 'midnight'."""
    if minute == 0 and hour == 12:
        return "noon"
    if minute == 0 and hour == 0:
        return "midnight"
    suffix = "AM" if hour < 12 else "PM"
    return f"{hour % 12 or 12}:{minute:02d} {suffix}"


@skill.intent(
    "time",
    description="Say the current time.",
    sentences=[
        "[so] [(hey|ok|okay)] what time is it [(now|right now|currently)] [please]",
        "[so] (what's|what is|whats) the [current] time [(now|right now)] [please]",
        f"{_ASK} (the [current] time|what time it is) [(now|right now)] [please]",
        "(do|would) you (know|happen to know) (the time|what time it is) [please]",
        "[the] [current] time [please]",
        "what is it o'clock",
        "have you got the time",
    ],
)
async def tell_time(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the current local time."""
    now = ctx.now()
    return Reply(f"It's {spoken_time(now.hour, now.minute)}.")


@skill.intent(
    "date",
    description="Say today's date.",
    sentences=[
        "(what's|what is|whats) [the] [today's] date [today] [please]",
        "(what's|what is|whats) today's date [please]",
        "what date is it [today]",
        f"{_ASK} [the] [today's] date [please]",
        "[today's] date [please]",
        "what's the date today",
        "what day of the month is it [today]",
    ],
)
async def tell_date(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with today's date."""
    now = ctx.now()
    return Reply(f"Today is {now.strftime('%A')}, {now.strftime('%B')} {now.day}, {now.year}.")


@skill.intent(
    "day",
    description="Say which day of the week it is.",
    sentences=[
        "what day is (it|today) [today]",
        "what day of the week is (it|today) [today]",
        "(what's|what is|whats) (today|the day [today])",
        "which day is (it|today) [today]",
        f"{_ASK} what day it is [today]",
    ],
)
async def tell_day(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the day of the week."""
    return Reply(f"It's {ctx.now().strftime('%A')}.")
