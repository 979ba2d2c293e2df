"""The reminders skill: "remind me to call mom at 5 pm", once or on repeating days.

When a reminder is due it is announced ("Reminder: call mom."); one that fell due while the
assistant was off is announced once, as missed. Every reminder is stored (durably) before its
job is scheduled, and the due handler is idempotent, so a kill at any moment loses nothing and
repeats nothing but, at worst, an announcement whose job had not yet been marked done.

Which hour a bare number means follows the core's time parser: a one-off reminder at "5" is the
next 5 o'clock, AM or PM ("at 5 tomorrow" is read in waking hours, 7:00-18:59, so 5 PM); a
repeating one ("every day at 5") is read in waking hours too. "5 am" or "17:00" say otherwise.

Templates cannot split a free-text task from a time that follows it ("to {task} {when}": two
free-text slots that touch), so a task said before its time is taken whole and the time is
found at its end here, with the core's own parsers (``assistant.understand.slots``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.skill import (
    Job,
    Reply,
    Skill,
    SkillContext,
    Slot,
    next_wall_time,
    spoken_clock,
    spoken_day,
    spoken_list,
    spoken_weekdays,
    wall_time,
    wall_zone,
)
from assistant.understand.slots import parse_instant, parse_time_of_day, split_repeat

__all__ = ["Schedule", "find_schedule", "skill", "split_task"]

skill = Skill("reminders", "Reminders of things to do, at a time or on repeating days, announced when due.")

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_JOB_PREFIX = "reminder:"
_DEFAULT_TIME = (9, 0)
"""When a repeating reminder said without a time of day is due."""

# Words a time said after the task can start with; "read chapter 5" keeps its 5.
_MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july", "august")
_MONTHS += ("september", "october", "november", "december")
_TIME_STARTS = frozenset(
    {
        "at",
        "in",
        "on",
        "by",
        "around",
        "about",
        "tomorrow",
        "today",
        "tonight",
        "this",
        "next",
        "coming",
        "every",
        "each",
        "daily",
        "nightly",
        "weekly",
        "once",
        "the",
        "noon",
        "midnight",
        "weekdays",
        "weekends",
        *(day.lower() for day in _WEEKDAY_NAMES),
        *(f"{day.lower()}s" for day in _WEEKDAY_NAMES),
        *_MONTHS,
    }
)
_PREPOSITIONS = frozenset({"at", "in", "on", "by"})


# --- understanding when --------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """When a reminder is due: once at ``at``, or at ``hour:minute`` on repeating days."""

    at: dt.datetime | None = None
    weekdays: tuple[int, ...] | None = None
    """The days a repeating reminder is due on (() = every day); None for a one-off one."""
    hour: int = 0
    minute: int = 0


def find_schedule(text: str, now: dt.datetime) -> Schedule | None:
    """The schedule in a time expression ("at 5 pm", "every monday at 10", "in 20 minutes"), or None.

    A repeat's time of day is read as on a named day (waking hours for a bare hour); a part of
    the day alone ("every evening") is its usual hour.
    """
    rest, repeat = split_repeat(text)
    if repeat is None:
        moment = parse_instant(text, now)
        return None if moment is None else Schedule(at=moment)
    if not rest.strip():
        hour, minute = _DEFAULT_TIME
    else:
        # On a named day the core reads "5" as 5 PM and "in the evening" as 19:00.
        moment = parse_instant(f"tomorrow {rest}", now)
        clock = (moment.hour, moment.minute) if moment is not None else parse_time_of_day(rest)
        if clock is None:
            return None
        hour, minute = clock
    weekdays = repeat.weekdays if repeat.kind == "weekly" else ()
    if repeat.kind == "weekly" and not weekdays:
        # "every week": on the weekday of the first time.
        weekdays = (next_wall_time(hour, minute, (), now, wall_zone(now)).weekday(),)
    return Schedule(weekdays=tuple(weekdays), hour=hour, minute=minute)


def split_task(text: str, now: dt.datetime) -> tuple[str, Schedule] | None:
    """A task followed by when ("call mom at 5 pm") split into the task and its schedule, or None."""
    words = text.split()
    for start in range(len(words)):
        # The whole text may be the time ("set a reminder for tomorrow"): then no task was said.
        if words[start].lower() not in _TIME_STARTS:
            continue
        schedule = find_schedule(" ".join(words[start:]), now)
        if schedule is None:
            continue
        # "turn the lights on at 5": the "on" belongs to the task.
        while (
            words[start].lower() in _PREPOSITIONS
            and start + 1 < len(words)
            and words[start + 1].lower() in _PREPOSITIONS
            and find_schedule(" ".join(words[start + 1 :]), now) == schedule
        ):
            start += 1
        return " ".join(words[:start]), schedule
    return None


# --- wording -------------------------------------------------------------------------------------


def _spoken_wait(seconds: float) -> str:
    """A short wait as said: "in 20 minutes", "in 45 seconds"."""
    if seconds < 60:
        count, unit = max(1, round(seconds)), "second"
    else:
        count, unit = round(seconds / 60), "minute"
    return f"in {count} {unit}{'s' if count != 1 else ''}"


# Said back, the user's words are about the user: "call my mom" becomes "call your mom".
_PERSON = {"my": "your", "me": "you", "myself": "yourself", "mine": "yours"}
# "I" only where it starts the task ("that i have a meeting"); later it may be quoted speech
# ("tell john i love him").
_FIRST_PERSON = {"i": "you", "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd"}


def _spoken_task(task: str) -> str:
    words = [_PERSON.get(word, word) for word in task.split()]
    if words:
        words[0] = _FIRST_PERSON.get(words[0], words[0])
    return " ".join(words)


def _clean_task(text: str) -> str:
    """The task as said, without the words around it that the templates leave in."""
    words = re.sub(r"[.,!?]+", " ", text).split()
    while words and words[0] in ("to", "too", "about"):
        words = words[1:]
    while words and words[-1] in ("please", "thanks", "thank", "you"):
        words = words[:-1]
    return " ".join(words)


# --- reminder records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One reminder as stored (a JSON object in the skill's store, keyed by its id)."""

    id: str
    task: str
    due: dt.datetime
    """When it is next due."""
    order: int
    """Creation order, for "my last reminder"."""
    weekdays: tuple[int, ...] | None = None
    """The days a repeating reminder is due on (() = every day); None for a one-off one."""
    hour: int = 0
    minute: int = 0

    @property
    def job_id(self) -> str:
        """The id of its scheduled job."""
        return f"{_JOB_PREFIX}{self.id}"

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "id": self.id,
            "task": self.task,
            "due": self.due.isoformat(),
            "order": self.order,
            "weekdays": None if self.weekdays is None else list(self.weekdays),
            "time": f"{self.hour:02d}:{self.minute:02d}",
        }

    @staticmethod
    def from_json(value: Mapping[str, Any]) -> Reminder:
        """Read the stored form back."""
        hour, minute = (int(part) for part in str(value.get("time", "00:00")).split(":"))
        weekdays = value.get("weekdays")
        return Reminder(
            id=str(value["id"]),
            task=str(value["task"]),
            due=dt.datetime.fromisoformat(str(value["due"])),
            order=int(value.get("order", 0)),
            weekdays=None if weekdays is None else tuple(int(d) for d in weekdays),
            hour=hour,
            minute=minute,
        )

    def moved_to(self, due: dt.datetime) -> Reminder:
        """The same reminder due at another time."""
        return Reminder(self.id, self.task, due, self.order, self.weekdays, self.hour, self.minute)

    def describe(self, now: dt.datetime, zone: dt.tzinfo | None) -> str:
        """The reminder in a listing: "call your mom at 5 PM today"."""
        if self.weekdays is not None:
            when = f"{spoken_weekdays(self.weekdays)} at {spoken_clock(self.hour, self.minute)}"
        else:
            local = self.due.astimezone(zone)
            when = f"at {spoken_clock(local.hour, local.minute)} {spoken_day(self.due, now, zone)}"
        return f"{_spoken_task(self.task)} {when}"


async def _reminders(ctx: SkillContext) -> list[Reminder]:
    """Every stored reminder, soonest first; a record that cannot be read is logged and skipped."""
    found = []
    for key, value in (await ctx.store.items()).items():
        try:
            found.append(Reminder.from_json(value))
        except (KeyError, TypeError, ValueError) as exc:
            ctx.log.warning("reminder record %r unreadable (%s); ignored", key, exc)
    return sorted(found, key=lambda reminder: (reminder.due, reminder.order))


async def _load(ctx: SkillContext, reminder_id: str) -> Reminder | None:
    value = await ctx.store.get(reminder_id)
    if value is None:
        return None
    try:
        return Reminder.from_json(value)
    except (KeyError, TypeError, ValueError) as exc:
        ctx.log.warning("reminder record %r unreadable (%s); ignored", reminder_id, exc)
        return None


async def _save(ctx: SkillContext, reminder: Reminder) -> None:
    """Store the reminder, then schedule it: a kill in between is repaired at start."""
    await ctx.store.put(reminder.id, reminder.to_json())
    await ctx.scheduler.schedule(reminder.due, "due", {"id": reminder.id}, job_id=reminder.job_id)


async def _delete(ctx: SkillContext, reminder: Reminder) -> None:
    """Remove the job, then the record (a job left by a kill in between finds nothing)."""
    await ctx.scheduler.cancel(reminder.job_id)
    await ctx.store.delete(reminder.id)


# --- adding --------------------------------------------------------------------------------------

_POLITE = "[(hey|ok|okay)] [(could|can|would|will) you] [please]"
_REMIND = f"{_POLITE} (remind|reminds|remined|remine) me"
_SET = f"{_POLITE} [(set|make|create|add|put|schedule|give me)] [me] [(a|an|the|one)] [new] reminder"
_TO = "(to|too)"
_END = "[please]"


def _understand(slots: Mapping[str, Any], now: dt.datetime) -> tuple[str, Schedule] | str:
    """The task and its schedule from the slots, or what to answer instead."""
    task = _clean_task(str(slots.get("task") or ""))
    zone = wall_zone(now)
    if slots.get("when") and not slots.get("repeat"):
        return task, Schedule(at=dt.datetime.fromisoformat(slots["when"]))
    if slots.get("repeat"):
        # From the language model: a time of day on a 24-hour clock, or the time of ``when``.
        if slots.get("time"):
            hour, minute = (int(part) for part in str(slots["time"]).split(":"))
        elif slots.get("when"):
            local = dt.datetime.fromisoformat(slots["when"]).astimezone(zone)
            hour, minute = local.hour, local.minute
        else:
            hour, minute = _DEFAULT_TIME
        weekdays = tuple(slots["repeat"].get("weekdays") or ())
        if slots["repeat"].get("kind") == "weekly" and not weekdays:
            weekdays = (next_wall_time(hour, minute, (), now, zone).weekday(),)
        return task, Schedule(weekdays=weekdays, hour=hour, minute=minute)
    for word in ("every", "on"):
        if slots.get(word):
            # Said after the word the template took: "every monday at 10", "on weekdays at 8",
            # "on friday" (once).
            said = f"{word} {slots[word]}"
            schedule = find_schedule(said, now)
            if schedule is None:
                return f"Sorry, I didn't understand when: {said}."
            return task, schedule
    if slots.get("time"):
        hour, minute = (int(part) for part in str(slots["time"]).split(":"))
        return task, Schedule(at=next_wall_time(hour, minute, (), now, zone))
    split = split_task(task, now)
    if split is None:
        if not task:
            return "What should I remind you about?"
        return f"When should I remind you to {_spoken_task(task)}? Say, for example, at 5 PM or in an hour."
    return split


@skill.intent(
    "add",
    description="Remind the user of something at a time, or on repeating days at a time of day.",
    side_effects=True,
    slots={
        "task": Slot("text", "what to be reminded of (said before a time, the time may be in it)"),
        "when": Slot("instant", "when, for a one-off reminder", required=False),
        "repeat": Slot("repeat", "the days a repeating reminder is due on", required=False),
        "time": Slot("time", "the time of day of a repeating reminder", required=False),
        "every": Slot("text", "days and time said after 'every', like 'monday at 10'", required=False),
        "on": Slot("text", "days and time said after 'on', like 'weekdays at 8'", required=False),
    },
    sentences=[
        f"{_REMIND} {{when}} {_TO} {{task}}",
        f"{_REMIND} (every|each) {{every}} {_TO} {{task}}",
        f"{_REMIND} on {{on}} {_TO} {{task}}",
        f"{_REMIND} ({_TO}|about|that) {{task}}",
        f"{_SET} [(for|at|on)] {{when}} {_TO} {{task}}",
        f"{_SET} (every|each) {{every}} {_TO} {{task}}",
        f"{_SET} on {{on}} {_TO} {{task}}",
        f"{_SET} ({_TO}|about|that|for) {{task}}",
        f"{_POLITE} (don't|do not|dont) let me forget ({_TO}|about) {{task}}",
    ],
)
async def add_reminder(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Store and schedule a new reminder; one in the past is refused."""
    now = ctx.now()
    zone = wall_zone(now)
    understood = _understand(slots, now)
    if isinstance(understood, str):
        return Reply(understood)
    task, schedule = understood
    if not task:
        return Reply("What should I remind you about?")
    if schedule.at is not None:
        due = schedule.at
        if due <= now:
            return Reply("That time has already passed.")
    else:
        assert schedule.weekdays is not None
        due = next_wall_time(schedule.hour, schedule.minute, schedule.weekdays, now, zone)
    existing = await _reminders(ctx)
    order = max((r.order for r in existing), default=0) + 1
    reminder = Reminder(
        uuid.uuid4().hex[:8], task, due, order, schedule.weekdays, schedule.hour, schedule.minute
    )
    await _save(ctx, reminder)
    spoken = _spoken_task(task)
    if schedule.weekdays is not None:
        clock = spoken_clock(schedule.hour, schedule.minute)
        return Reply(f"OK, I'll remind you {spoken_weekdays(schedule.weekdays)} at {clock}: {spoken}.")
    wait = (due - now).total_seconds()
    if wait < 3600:
        return Reply(f"OK, I'll remind you {_spoken_wait(wait)}: {spoken}.")
    local = due.astimezone(zone)
    clock = spoken_clock(local.hour, local.minute)
    return Reply(f"OK, I'll remind you at {clock} {spoken_day(due, now, zone)}: {spoken}.")


# --- listing -------------------------------------------------------------------------------------

_SCOPES = {"today": 0, "for today": 0, "tomorrow": 1, "for tomorrow": 1}


@skill.intent(
    "list",
    description="Say the reminders, all of them or today's or tomorrow's.",
    time_sensitive=True,
    slots={"scope": Slot("choice", "which day's reminders", required=False, values=tuple(_SCOPES))},
    sentences=[
        f"{_POLITE} (what|which) (are|were) my reminders [{{scope}}] {_END}",
        f"{_POLITE} what reminders (do i have|have i got|have i set|are there|are set) [{{scope}}] {_END}",
        f"{_POLITE} (list|show|tell me|read [out]|give me|go through) [me] [(all|all of)] [(my|the)] "
        f"reminders [{{scope}}] {_END}",
        f"{_POLITE} (do|did) i (have|set) any reminders [{{scope}}] {_END}",
        f"{_POLITE} (is|are) there any reminders [{{scope}}] {_END}",
        f"{_POLITE} what (do|did) i (have|need) to do {{scope}} {_END}",
        f"{_POLITE} what (do|did) i have to (do|remember) [{{scope}}] {_END}",
        f"{_POLITE} what (did|have) i (ask|asked) you to remind me [(of|about)] {_END}",
        f"{_POLITE} what (do i have|have i got) (on|for) {{scope}} {_END}",
        "[(my|the)] reminders [{scope}]",
        "any reminders [{scope}]",
    ],
)
async def list_reminders(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Say the reminders, soonest first."""
    now = ctx.now()
    zone = wall_zone(now)
    reminders = await _reminders(ctx)
    scope = slots.get("scope")
    day_name = ""
    if scope:
        offset = _SCOPES[scope]
        day = now.astimezone(zone).date() + dt.timedelta(days=offset)
        reminders = [r for r in reminders if _due_on(r, day, zone)]
        day_name = " for today" if offset == 0 else " for tomorrow"
    if not reminders:
        return Reply(f"You have no reminders{day_name}.")
    described = [r.describe(now, zone) for r in reminders]
    if len(reminders) == 1:
        return Reply(f"You have one reminder{day_name}: {described[0]}.")
    return Reply(f"You have {len(reminders)} reminders{day_name}: {spoken_list(described)}.")


def _due_on(reminder: Reminder, day: dt.date, zone: dt.tzinfo | None) -> bool:
    """The reminder is due (again) on ``day``."""
    if reminder.weekdays is None:
        return reminder.due.astimezone(zone).date() == day
    if reminder.weekdays and day.weekday() not in reminder.weekdays:
        return False
    return wall_time(day, reminder.hour, reminder.minute, zone) >= reminder.due


# --- cancelling ----------------------------------------------------------------------------------

_CANCEL = (
    f"{_POLITE} (cancel|delete|remove|clear|drop|forget|erase|get rid of|scratch|turn off|undo|forget about)"
)
_LAST = ("last", "latest", "most recent", "previous", "newest", "new")
_NEXT = ("next", "upcoming", "first")


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _matching(reminders: Sequence[Reminder], wanted: str) -> list[Reminder]:
    """The reminders whose task is ``wanted``, or most like it (a recognizer's near-miss)."""
    target = _words(_clean_task(wanted))
    exact = [r for r in reminders if _words(r.task) == target]
    if exact:
        return exact
    contains = [r for r in reminders if target and target in _words(r.task)]
    if contains:
        return contains
    scored = [(difflib.SequenceMatcher(None, _words(r.task), target).ratio(), r) for r in reminders]
    best = max((score for score, _ in scored), default=0.0)
    return [r for score, r in scored if score == best and score >= 0.6]


@skill.intent(
    "cancel",
    description="Cancel one reminder: by what it is about, the last one set, or the next one due.",
    side_effects=True,
    slots={
        "task": Slot("text", "what the reminder is about", required=False),
        "which": Slot("choice", "the last one set or the next one due", required=False, values=_LAST + _NEXT),
    },
    sentences=[
        f"{_CANCEL} [(my|the|that|this)] reminder {_END}",
        f"{_CANCEL} [(my|the)] {{which}} reminder {_END}",
        f"{_CANCEL} [(my|the)] reminder [that] (to|about|for|saying) {{task}} {_END}",
        f"{_CANCEL} [(my|the)] {{task}} reminder {_END}",
        f"{_POLITE} (don't|do not|dont) remind me ({_TO}|about) {{task}} [(anymore|any more)] {_END}",
        f"{_POLITE} i (don't|dont) need (a|the|my|that) reminder (to|about|for) {{task}} [anymore]",
        f"{_POLITE} never mind [(the|my|that)] reminder [(to|about) {{task}}]",
    ],
)
async def cancel_reminder(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Cancel the reminder the user names."""
    now = ctx.now()
    zone = wall_zone(now)
    reminders = await _reminders(ctx)
    if not reminders:
        return Reply("You have no reminders.")
    which = slots.get("which")
    if which is None and _clean_task(str(slots.get("task") or "")) in _LAST + _NEXT:
        # "cancel my last reminder" read as a reminder about "last".
        which = _clean_task(str(slots["task"]))
    if which in _LAST:
        picked = [max(reminders, key=lambda r: r.order)]
    elif which in _NEXT:
        picked = [reminders[0]]
    elif slots.get("task"):
        picked = _matching(reminders, str(slots["task"]))
        if not picked:
            return Reply(f"You have no reminder to {_spoken_task(_clean_task(str(slots['task'])))}.")
    elif len(reminders) == 1:
        picked = reminders
    else:
        listed = spoken_list([r.describe(now, zone) for r in reminders])
        return Reply(f"You have {len(reminders)} reminders: {listed}. Which one should I cancel?")
    for reminder in picked:
        await _delete(ctx, reminder)
    if len(picked) == 1:
        return Reply(f"OK, I cancelled the reminder: {_spoken_task(picked[0].task)}.")
    return Reply(f"OK, I cancelled {len(picked)} reminders: {_spoken_task(picked[0].task)}.")


@skill.intent(
    "cancel_all",
    description="Cancel every reminder.",
    side_effects=True,
    sentences=[
        f"{_CANCEL} (all|every|each) [of] [(my|the)] reminder[s] {_END}",
        f"{_CANCEL} [(my|the)] reminders {_END}",
        f"{_CANCEL} all [of] [(my|the)] reminders {_END}",
    ],
)
async def cancel_all_reminders(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Cancel every reminder."""
    reminders = await _reminders(ctx)
    for reminder in reminders:
        await _delete(ctx, reminder)
    if not reminders:
        return Reply("You have no reminders.")
    if len(reminders) == 1:
        return Reply("OK, I deleted your reminder.")
    return Reply(f"OK, I deleted all {len(reminders)} reminders.")


# --- firing --------------------------------------------------------------------------------------


@skill.event("due")
async def due(ctx: SkillContext, job: Job) -> Reply | None:
    """A reminder is due: announce it (as missed, once, if it fell due while off); repeat it."""
    reminder = await _load(ctx, str(job.data.get("id", "")))
    if reminder is None:
        return None  # cancelled, or announced just before a kill
    if reminder.due != job.due:
        # Announced before a kill, and moved on: make sure the next time is scheduled.
        await ctx.scheduler.schedule(reminder.due, "due", {"id": reminder.id}, job_id=reminder.job_id)
        return None
    spoken = _spoken_task(reminder.task)
    if job.missed:
        await ctx.alerts.announce(f"While I was off, you had a reminder: {spoken}.", sound="chime")
    else:
        await ctx.alerts.announce(f"Reminder: {spoken}.", sound="chime")
    # Announced first, then the record changes: a kill in between repeats the announcement
    # rather than losing it.
    if reminder.weekdays is None:
        await ctx.store.delete(reminder.id)
    else:
        now = ctx.now()
        after = max(job.due, now)
        upcoming = next_wall_time(reminder.hour, reminder.minute, reminder.weekdays, after, wall_zone(now))
        await _save(ctx, reminder.moved_to(upcoming))
    return None


@skill.startup
async def reschedule_stored(ctx: SkillContext) -> None:
    """Schedule every stored reminder whose job is missing (a kill between store and schedule)."""
    for reminder in await _reminders(ctx):
        if await ctx.scheduler.get(reminder.job_id) is None and await ctx.store.get(reminder.id) is not None:
            ctx.log.info(
                "reminder %s was not scheduled; scheduling %s", reminder.id, reminder.due.isoformat()
            )
            await ctx.scheduler.schedule(reminder.due, "due", {"id": reminder.id}, job_id=reminder.job_id)
