"""The alarms skill: one-off and repeating alarms that ring until stopped, with snooze.

Which hour a bare number means:

- "set an alarm for 7" (no day, no repeat): the next 7 o'clock, AM or PM, whichever comes
  first; an alarm a few hours away is what someone asks for in the afternoon.
- "wake me up at 7", "set an alarm for 6:30 tomorrow", "... on Friday", "... every day": the
  hour as said on a 24-hour clock, so 7 is 7 AM. Waking up and alarms on named or repeating
  days are morning things; "7 pm", "19:00" or "7 in the evening" say otherwise.

Configuration (``skills.alarms`` in the config file)::

    snooze_minutes: 9     # how long "snooze" waits when no time is said
    ring_every_s: 10      # a ringing alarm repeats its sound and words this often
    ring_limit: 12        # ... and gives up after this many rings

Each alarm is a record in the skill's store (written before its job is scheduled) and one job
``alarm:<id>`` for its next ring; a repeating alarm reschedules itself when it rings. A start-up
hook schedules any stored alarm whose job is missing (the process was killed in between).
"""

from __future__ import annotations

import datetime as dt
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

__all__ = ["skill"]

skill = Skill("alarms", "Alarms that ring at a time of day, once or on repeating days, with snooze.")

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WORKWEEK = (0, 1, 2, 3, 4)
_WEEKEND = (5, 6)
_JOB_PREFIX = "alarm:"

# --- the words of the templates ------------------------------------------------------------------

# Days said after a time ("for 6:30 tomorrow"): (days from today, part of the day or None).
_DAYS: dict[str, tuple[int, str | None]] = {
    "today": (0, None),
    "today's": (0, None),
    "todays": (0, None),
    "this morning": (0, "morning"),
    "this afternoon": (0, "afternoon"),
    "this evening": (0, "evening"),
    "tonight": (0, "night"),
    "tomorrow": (1, None),
    "tomorrow's": (1, None),
    "tomorrows": (1, None),
    "tomorrow morning": (1, "morning"),
    "tomorrow afternoon": (1, "afternoon"),
    "tomorrow evening": (1, "evening"),
    "tomorrow night": (1, "night"),
    "the day after tomorrow": (2, None),
    "day after tomorrow": (2, None),
}


def _every_phrases() -> dict[str, tuple[tuple[int, ...], str | None]]:
    """Repeats said after a time ("at 7 every weekday"): weekdays (() = daily) and part of day.

    hassil cannot split two free-text slots that touch ("{time} {repeat}"), so the repeats that
    follow a time are listed as choices; "on weekdays" and the like still use the repeat slot.
    """
    phrases: dict[str, tuple[tuple[int, ...], str | None]] = {}
    for every in ("every", "each"):
        phrases[f"{every} day"] = ((), None)
        phrases[f"{every} single day"] = ((), None)
        for period in ("morning", "afternoon", "evening", "night"):
            phrases[f"{every} {period}"] = ((), period)
        for word in ("weekday", "week day", "workday", "work day"):
            phrases[f"{every} {word}"] = (_WORKWEEK, None)
            phrases[f"{every} {word} morning"] = (_WORKWEEK, "morning")
        phrases[f"{every} weekend"] = (_WEEKEND, None)
        phrases[f"{every} weekend morning"] = (_WEEKEND, "morning")
        for index, name in enumerate(_WEEKDAY_NAMES):
            phrases[f"{every} {name.lower()}"] = ((index,), None)
            phrases[f"{every} {name.lower()} morning"] = ((index,), "morning")
            for other_index, other in enumerate(_WEEKDAY_NAMES):
                if other_index != index:
                    days = tuple(sorted((index, other_index)))
                    phrases[f"{every} {name.lower()} and {other.lower()}"] = (days, None)
                    phrases[f"{every} {name.lower()} and {every} {other.lower()}"] = (days, None)
    for word in ("daily", "everyday", "once a day"):
        phrases[word] = ((), None)
    phrases["nightly"] = ((), "night")
    for span in ("monday to friday", "monday through friday", "monday thru friday"):
        phrases[span] = (_WORKWEEK, None)
    return phrases


_EVERY = _every_phrases()

_POLITE = "[(hey|ok|okay)] [(could|can|would|will) you] [please]"
_SET = f"{_POLITE} [(set|make|create|add|put|schedule|start|give me)] [me] [(an|a|the|my|one)] [new] alarm"
_WAKE = (
    f"{_POLITE} (wake me [up]|wake up me|get me up|"
    "(set|make|create|add|put|schedule) [me] [(an|a|the|my)] [new] alarm to (wake me [up]|get me up)|"
    "i (need|want|have|got) to (wake|get) up)"
)
_AT = "(at|for|by)"
_LABEL = "[(called|named|labeled|labelled|titled) {label}]"
_END = "[please]"
_FOR_DAY = "[(for|on) (today|tonight|tomorrow|tomorrow morning|the morning|the weekend)]"
"""A day said after a question about alarms ("is my alarm set for tomorrow"), answered by listing them."""

_SET_SENTENCES = [
    f"{_SET} (for|at) {{when}} {_LABEL} {_END}",
    f"{_SET} in {{when}} {_LABEL} {_END}",
    f"{_SET} (for|at) {{time}} {{day}} {_LABEL} {_END}",
    f"{_SET} (for|at) {{time}} (on|for) {{when}} {_LABEL} {_END}",
    f"{_SET} [(for|on)] {{day}} {_AT} {{time}} {_LABEL} {_END}",
    f"{_SET} (for|on) {{when}} at {{time}} {_LABEL} {_END}",
    f"{_SET} (for|at) {{time}} on {{repeat}} {_LABEL} {_END}",
    f"{_SET} (for|at) {{time}} {{every}} {_LABEL} {_END}",
    f"{_SET} [for] {{every}} {_AT} {{time}} {_LABEL} {_END}",
    f"{_SET} on {{repeat}} {_AT} {{time}} {_LABEL} {_END}",
    f"{_POLITE} (set|make|create|add) (a|an|my) {{label}} alarm (for|at) {{when}} {_END}",
    f"{_WAKE} {_AT} {{time}} {_END}",
    f"{_WAKE} {_AT} {{time}} {{day}} {_END}",
    f"{_WAKE} {{day}} {_AT} {{time}} {_END}",
    f"{_WAKE} {_AT} {{time}} (on|for) {{when}} {_END}",
    f"{_WAKE} (on|for) {{when}} {_AT} {{time}} {_END}",
    f"{_WAKE} {_AT} {{time}} on {{repeat}} {_END}",
    f"{_WAKE} {_AT} {{time}} {{every}} {_END}",
    f"{_WAKE} {{every}} {_AT} {{time}} {_END}",
    f"{_WAKE} on {{repeat}} {_AT} {{time}} {_END}",
    f"{_WAKE} in {{when}} {_END}",
]

_TIME = Slot("time", "the time of day it rings, as said (a bare 7 is 7 AM)", required=False)
_WHEN = Slot(
    "instant",
    "when it rings; with a time of day given separately, only its date counts",
    required=False,
)
_DAY = Slot("choice", "the day it rings, said after the time", required=False, values=tuple(_DAYS))
_EVERY_SLOT = Slot(
    "choice",
    "how often it repeats, said after the time (or use repeat)",
    required=False,
    values=tuple(_EVERY),
)
_REPEAT = Slot("repeat", "the days it rings on, for a repeating alarm", required=False)
_LABEL_SLOT = Slot("text", "a name for the alarm", required=False)

# --- settings ------------------------------------------------------------------------------------


def _setting(ctx: SkillContext, key: str, default: float, minimum: float) -> float:
    """A number from the skill's config, or the default when it is missing or not a number."""
    value = ctx.config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        ctx.log.warning("skills.alarms.%s must be a number of at least %s; using %s", key, minimum, default)
        return default
    return float(value)


# --- times and days ------------------------------------------------------------------------------


def _with_period(hour: int, period: str | None) -> int:
    """An hour said with a part of the day: 7 "in the evening" is 19; 12 "at night" stays 0..23."""
    if period in ("afternoon", "evening") and hour < 12:
        return hour + 12
    if period == "night" and 5 <= hour < 12:
        return hour + 12
    return hour


# --- alarm records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alarm:
    """One alarm as stored (a JSON object in the skill's store, keyed by its id)."""

    id: str
    hour: int
    minute: int
    next: dt.datetime
    """When it rings next (a regular ring, not a snooze)."""
    weekdays: tuple[int, ...] | None = None
    """The days a repeating alarm rings on (() = every day); None for a one-off alarm."""
    label: str | None = None

    @property
    def job_id(self) -> str:
        """The id of its scheduled job."""
        return f"{_JOB_PREFIX}{self.id}"

    @property
    def clock(self) -> str:
        """Its time of day as said."""
        return spoken_clock(self.hour, self.minute)

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "id": self.id,
            "time": f"{self.hour:02d}:{self.minute:02d}",
            "next": self.next.isoformat(),
            "weekdays": None if self.weekdays is None else list(self.weekdays),
            "label": self.label,
        }

    @staticmethod
    def from_json(value: Mapping[str, Any]) -> Alarm:
        """Read the stored form back."""
        hour, minute = (int(part) for part in str(value["time"]).split(":"))
        weekdays = value.get("weekdays")
        return Alarm(
            id=str(value["id"]),
            hour=hour,
            minute=minute,
            next=dt.datetime.fromisoformat(str(value["next"])),
            weekdays=None if weekdays is None else tuple(int(d) for d in weekdays),
            label=value.get("label") or None,
        )

    def ring_text(self) -> str:
        """What a ringing alarm says."""
        if self.label:
            return f"It's {self.clock}: {self.label}."
        return f"It's {self.clock}, time to wake up."

    def describe(self, now: dt.datetime, zone: dt.tzinfo | None) -> str:
        """The alarm in a listing: "6:30 AM on weekdays", "the gym alarm at 8 PM today"."""
        when = (
            spoken_weekdays(self.weekdays) if self.weekdays is not None else spoken_day(self.next, now, zone)
        )
        if self.label:
            return f"the {self.label} alarm at {self.clock} {when}"
        return f"{self.clock} {when}"

    def named(self, now: dt.datetime, zone: dt.tzinfo | None) -> str:
        """The alarm as referred to: "your 7 AM alarm for tomorrow", "the gym alarm at 8 PM today"."""
        if self.label or self.weekdays is not None:
            return (
                self.describe(now, zone)
                if self.label
                else f"your {self.clock} alarm {self.describe_when(now, zone)}"
            )
        day = spoken_day(self.next, now, zone)
        return f"your {self.clock} alarm {'for ' + day if day in ('today', 'tomorrow') else day}"

    def describe_when(self, now: dt.datetime, zone: dt.tzinfo | None) -> str:
        """When it rings: "on weekdays", "tomorrow"."""
        if self.weekdays is not None:
            return spoken_weekdays(self.weekdays)
        return spoken_day(self.next, now, zone)


async def _alarms(ctx: SkillContext) -> list[Alarm]:
    """Every stored alarm, soonest first; a record that cannot be read is logged and skipped."""
    found = []
    for key, value in (await ctx.store.items()).items():
        try:
            found.append(Alarm.from_json(value))
        except (KeyError, TypeError, ValueError) as exc:
            ctx.log.warning("alarm record %r unreadable (%s); ignored", key, exc)
    return sorted(found, key=lambda alarm: (alarm.next, alarm.id))


async def _load(ctx: SkillContext, alarm_id: str) -> Alarm | None:
    value = await ctx.store.get(alarm_id)
    if value is None:
        return None
    try:
        return Alarm.from_json(value)
    except (KeyError, TypeError, ValueError) as exc:
        ctx.log.warning("alarm record %r unreadable (%s); ignored", alarm_id, exc)
        return None


async def _save(ctx: SkillContext, alarm: Alarm) -> None:
    """Store the alarm, then schedule its next ring: a kill in between is repaired at start."""
    await ctx.store.put(alarm.id, alarm.to_json())
    await ctx.scheduler.schedule(alarm.next, "ring", {"id": alarm.id}, job_id=alarm.job_id)


async def _delete(ctx: SkillContext, alarm: Alarm) -> None:
    """Remove the alarm's job, then its record (a kill in between leaves a job that finds nothing)."""
    await ctx.scheduler.cancel(alarm.job_id)
    await ctx.store.delete(alarm.id)
    await ctx.alerts.stop(alarm.job_id)


# --- setting -------------------------------------------------------------------------------------


def _first_ring(
    slots: Mapping[str, Any], now: dt.datetime, zone: dt.tzinfo | None
) -> tuple[int, int, dt.datetime, tuple[int, ...] | None] | str:
    """(hour, minute, first ring, repeat weekdays or None) from the slots, or what to answer instead."""
    when = dt.datetime.fromisoformat(slots["when"]) if slots.get("when") else None
    period: str | None = None
    weekdays: tuple[int, ...] | None = None
    if slots.get("every"):
        weekdays, period = _EVERY[slots["every"]]
    elif slots.get("repeat"):
        weekdays = tuple(slots["repeat"].get("weekdays") or ())
    day: dt.date | None = None
    if slots.get("day"):
        offset, period = _DAYS[slots["day"]]
        day = now.astimezone(zone).date() + dt.timedelta(days=offset)
    if slots.get("time"):
        hour, minute = (int(part) for part in str(slots["time"]).split(":"))
        hour = _with_period(hour, period)
        if when is not None and day is None and weekdays is None:
            day = when.astimezone(zone).date()
    elif when is not None:
        local = when.astimezone(zone)
        hour, minute = local.hour, local.minute
        if weekdays is None:
            return hour, minute, when, None
    else:
        return "For what time?"
    if weekdays is not None:
        if slots.get("repeat") and slots["repeat"].get("kind") == "weekly" and not weekdays:
            # "every week": the weekday of the first ring.
            weekdays = (next_wall_time(hour, minute, (), now, zone).weekday(),)
        return hour, minute, next_wall_time(hour, minute, weekdays, now, zone), weekdays
    if day is None:
        return hour, minute, next_wall_time(hour, minute, (), now, zone), None
    first = wall_time(day, hour, minute, zone)
    if first <= now:
        return f"{spoken_clock(hour, minute)} {spoken_day(first, now, zone)} has already passed."
    return hour, minute, first, None


@skill.intent(
    "set",
    description="Set an alarm at a time, once or repeating on some days, optionally with a name.",
    side_effects=True,
    slots={
        "time": _TIME,
        "when": _WHEN,
        "day": _DAY,
        "every": _EVERY_SLOT,
        "repeat": _REPEAT,
        "label": _LABEL_SLOT,
    },
    sentences=_SET_SENTENCES,
)
async def set_alarm(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Store and schedule a new alarm."""
    now = ctx.now()
    zone = wall_zone(now)
    found = _first_ring(slots, now, zone)
    if isinstance(found, str):
        return Reply(found)
    hour, minute, first, weekdays = found
    if first <= now:
        return Reply("That time has already passed.")
    label = str(slots["label"]).strip() if slots.get("label") else None
    for other in await _alarms(ctx):
        if other.next == first and other.weekdays == weekdays and other.label == label:
            return Reply(f"You already have an alarm at {other.describe(now, zone)}.")
    alarm = Alarm(uuid.uuid4().hex[:8], hour, minute, first, weekdays, label)
    await _save(ctx, alarm)
    name = f"{label.capitalize()} alarm" if label else "Alarm"
    if weekdays is not None:
        return Reply(f"{name} set for {alarm.clock} {spoken_weekdays(weekdays)}.")
    wait = first - now
    if wait < dt.timedelta(hours=1):
        minutes = max(1, round(wait.total_seconds() / 60))
        return Reply(f"{name} set for {alarm.clock}, {minutes} minute{'s' if minutes != 1 else ''} from now.")
    return Reply(f"{name} set for {alarm.clock} {spoken_day(first, now, zone)}.")


# --- listing -------------------------------------------------------------------------------------


@skill.intent(
    "list",
    description="Say which alarms are set.",
    time_sensitive=True,
    sentences=[
        f"{_POLITE} (what|which) alarm[s] (do i have|have i got|have i set|are set|is set|are there) "
        f"[set] {_END}",
        f"{_POLITE} (what|which) are my alarms {_END}",
        f"{_POLITE} (list|show|tell me|read [out]|give me) [me] [(all|all of)] [(my|the)] alarms {_END}",
        f"{_POLITE} (do i have|have i got|did i set) (any|an|a) alarm[s] [set] {_FOR_DAY} {_END}",
        f"{_POLITE} (is|are) there (any|an) alarm[s] [set] {_FOR_DAY} {_END}",
        f"{_POLITE} (is|are) my alarm[s] (set|on) {_FOR_DAY} {_END}",
        f"{_POLITE} (when|what time) (is|does) my [next] alarm [(set for|go off|ring)] {_END}",
        f"{_POLITE} (when|what time) will my [next] alarm (go off|ring) {_END}",
        f"{_POLITE} what time (is|did) my alarm set for {_END}",
        "[(my|the)] alarms",
    ],
)
async def list_alarms(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Say every alarm, soonest first."""
    now = ctx.now()
    zone = wall_zone(now)
    alarms = await _alarms(ctx)
    if not alarms:
        return Reply("You have no alarms.")
    described = [alarm.describe(now, zone) for alarm in alarms]
    if len(alarms) == 1:
        return Reply(f"You have one alarm, at {described[0]}.")
    return Reply(f"You have {len(alarms)} alarms: {spoken_list(described)}.")


# --- cancelling ----------------------------------------------------------------------------------

_CANCEL = (
    # Not "stop": "stop the alarm" with nothing ringing must not delete the next one.
    f"{_POLITE} (cancel|delete|remove|clear|disable|turn off|switch off|shut off|get rid of|unset|deactivate)"
)


def _matching(
    alarms: Sequence[Alarm], slots: Mapping[str, Any], now: dt.datetime, zone: dt.tzinfo | None
) -> tuple[list[Alarm], dt.date | None, str]:
    """The alarms the slots name, the day named (if any) and how to say what was asked for."""
    day: dt.date | None = None
    if slots.get("day"):
        day = now.astimezone(zone).date() + dt.timedelta(days=_DAYS[slots["day"]][0])
    elif slots.get("when"):
        day = dt.datetime.fromisoformat(slots["when"]).astimezone(zone).date()
    picked = list(alarms)
    asked = "alarm"
    if slots.get("label"):
        wanted = str(slots["label"]).strip().lower()
        picked = [a for a in picked if (a.label or "").lower() == wanted]
        asked = f"{wanted} alarm"
    if slots.get("time"):
        hour, minute = (int(part) for part in str(slots["time"]).split(":"))
        exact = [a for a in picked if (a.hour, a.minute) == (hour, minute)]
        # "my 7 alarm" with only a 7 PM alarm set: an hour said without AM/PM may mean either.
        picked = exact or [
            a for a in picked if hour <= 12 and a.minute == minute and a.hour % 12 == hour % 12
        ]
        asked = f"{spoken_clock(hour, minute)} alarm"
    if day is not None:
        picked = [a for a in picked if a.weekdays is None and a.next.astimezone(zone).date() == day] + [
            a for a in picked if a.weekdays is not None and _rings_on(a, day, now, zone)
        ]
        asked = f"{asked} {spoken_day(wall_time(day, 12, 0, zone), now, zone)}"
    return picked, day, asked


def _rings_on(alarm: Alarm, day: dt.date, now: dt.datetime, zone: dt.tzinfo | None) -> bool:
    """A repeating alarm has a ring on ``day`` that is still to come."""
    assert alarm.weekdays is not None
    if alarm.weekdays and day.weekday() not in alarm.weekdays:
        return False
    return wall_time(day, alarm.hour, alarm.minute, zone) >= alarm.next


@skill.intent(
    "cancel",
    description="Cancel an alarm by time, name or day (a repeating one skips that day), or silence it.",
    side_effects=True,
    slots={"time": _TIME, "label": _LABEL_SLOT, "day": _DAY, "when": _WHEN},
    sentences=[
        f"{_CANCEL} [(my|the|that|this)] alarm {_END}",
        f"{_CANCEL} [(my|the)] {{time}} alarm {_END}",
        f"{_CANCEL} [(my|the)] alarm (for|at) {{time}} {_END}",
        f"{_CANCEL} [(my|the)] alarm (for|at) {{time}} {{day}} {_END}",
        f"{_CANCEL} [(my|the)] alarm (for|on) {{day}} {_END}",
        f"{_CANCEL} [(my|the)] {{day}} alarm {_END}",
        f"{_CANCEL} [(my|the)] alarm (for|on) {{when}} {_END}",
        f"{_CANCEL} [(my|the)] {{label}} alarm {_END}",
        f"{_CANCEL} [(my|the)] alarm (called|named|labeled|labelled|titled) {{label}} {_END}",
        "(i don't|i do not|i dont) need (my|the|an|a) alarm [(for|on)] {day}",
    ],
)
async def cancel_alarm(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Cancel the alarm the user names; on a repeating alarm named by day, skip just that day."""
    now = ctx.now()
    zone = wall_zone(now)
    if slots.get("label") in _DAYS and not slots.get("day"):
        # "cancel my tomorrow alarm" read as an alarm named "tomorrow".
        slots = {**slots, "day": slots["label"], "label": None}
    named = any(slots.get(key) for key in ("time", "label", "day", "when"))
    ringing = [key for key in ctx.alerts.ringing() if key.startswith(_JOB_PREFIX)]
    if not named and ringing:
        # "Turn off the alarm" while one rings means silence it, not delete every future ring.
        for key in ringing:
            await ctx.alerts.stop(key)
        return Reply("Alarm off.")
    snoozed = [job for job in await ctx.scheduler.jobs("ring") if job.data.get("snooze")]
    if not named and snoozed:
        # Up before the snooze ends: "turn off the alarm" ends the snooze, not the alarm.
        for job in snoozed:
            await _end_snooze(ctx, job, now, zone)
        return Reply("OK, snooze cancelled.")
    alarms = await _alarms(ctx)
    if not alarms:
        return Reply("You have no alarms.")
    picked, day, asked = _matching(alarms, slots, now, zone)
    if not named:
        if len(alarms) > 1:
            listed = spoken_list([a.describe(now, zone) for a in alarms])
            example = alarms[0].clock
            return Reply(
                f"You have {len(alarms)} alarms: {listed}. Say which one, like: cancel my {example} alarm."
            )
        picked = alarms
    if not picked:
        return Reply(f"You have no {asked}.")
    done: list[str] = []
    notes: list[str] = []
    for alarm in picked:
        if alarm.weekdays is not None and day is not None:
            # A repeating alarm named by a day loses only that day's ring, and only its next
            # ring can be skipped (it has one scheduled ring at a time).
            skipped = wall_time(day, alarm.hour, alarm.minute, zone)
            if skipped != alarm.next:
                notes.append(
                    f"I can only skip the next ring of your {alarm.clock} alarm, "
                    f"which is {spoken_day(alarm.next, now, zone)}."
                )
                continue
            after = next_wall_time(alarm.hour, alarm.minute, alarm.weekdays, skipped, zone)
            await _save(ctx, _replace_next(alarm, after))
            done.append(f"your {alarm.clock} alarm won't ring {spoken_day(skipped, now, zone)}")
        else:
            await _delete(ctx, alarm)
            done.append(f"I cancelled {alarm.named(now, zone)}")
    if len(done) > 2:
        done = [f"I cancelled {len(done)} alarms"]
    sentences = [f"OK, {' and '.join(done)}."] if done else []
    return Reply(" ".join(sentences + notes))


async def _end_snooze(ctx: SkillContext, job: Job, now: dt.datetime, zone: dt.tzinfo | None) -> None:
    """Drop a snooze; a repeating alarm's regular ring (the next one still to come) takes its place."""
    alarm = await _load(ctx, str(job.data.get("id", "")))
    if alarm is None:
        await ctx.scheduler.cancel(job.id)
        return
    upcoming = alarm.next
    if upcoming <= now and alarm.weekdays is not None:
        upcoming = next_wall_time(alarm.hour, alarm.minute, alarm.weekdays, now, zone)
    await _save(ctx, _replace_next(alarm, upcoming))


def _replace_next(alarm: Alarm, when: dt.datetime) -> Alarm:
    return Alarm(alarm.id, alarm.hour, alarm.minute, when, alarm.weekdays, alarm.label)


@skill.intent(
    "cancel_all",
    description="Cancel every alarm.",
    side_effects=True,
    sentences=[
        f"{_CANCEL} (all|every|each) [of] [(my|the)] alarm[s] {_END}",
        f"{_CANCEL} [(my|the)] alarms {_END}",
        f"{_CANCEL} all [of] [(my|the)] alarms {_END}",
    ],
)
async def cancel_all_alarms(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Cancel every alarm, and silence any ringing one."""
    alarms = await _alarms(ctx)
    for alarm in alarms:
        await _delete(ctx, alarm)
    # Snoozes of one-off alarms have a job but no record any more.
    for job in await ctx.scheduler.jobs("ring"):
        await ctx.scheduler.cancel(job.id)
    for key in ctx.alerts.ringing():
        if key.startswith(_JOB_PREFIX):
            await ctx.alerts.stop(key)
    if not alarms:
        return Reply("You have no alarms.")
    if len(alarms) == 1:
        return Reply("OK, your alarm is cancelled.")
    return Reply(f"OK, all {len(alarms)} alarms are cancelled.")


# --- snoozing ------------------------------------------------------------------------------------

# What each ringing alarm says, so a snooze can repeat it after a one-off alarm's record is
# gone. Ringing lives in this process only, and so does this.
_ringing_text: dict[str, str] = {}


@skill.intent(
    "snooze",
    description="Snooze the ringing alarm, for the configured time or as long as said.",
    side_effects=True,
    slots={
        "duration": Slot("duration", "how long to snooze", required=False),
        "minutes": Slot("number", "how many more minutes", required=False, minimum=1, maximum=120),
    },
    sentences=[
        f"{_POLITE} (snooze|snoose|snooz|snoozed|snooze button) [(it|that|the alarm|my alarm|alarm)] {_END}",
        f"{_POLITE} (snooze|snoose|snooz) [(it|that|the alarm|my alarm|alarm)] [for] {{duration}} {_END}",
        f"{_POLITE} [(give me|let me sleep|i need|just)] {{minutes}} more minute[s] {_END}",
    ],
)
async def snooze(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Silence the ringing alarm and ring it again in a few minutes."""
    ringing = [key for key in ctx.alerts.ringing() if key.startswith(_JOB_PREFIX)]
    if not ringing:
        return Reply("No alarm is ringing.")
    if slots.get("duration"):
        seconds = float(slots["duration"])
    elif slots.get("minutes"):
        seconds = float(slots["minutes"]) * 60
    else:
        seconds = _setting(ctx, "snooze_minutes", 9, 1) * 60
    if seconds < 60:
        return Reply("Snooze for at least a minute.")
    due = ctx.now() + dt.timedelta(seconds=seconds)
    for key in ringing:
        await ctx.alerts.stop(key)
        text = _ringing_text.pop(key, "Time to wake up.")
        # The snooze takes the alarm's job: a repeating alarm's next regular ring is put back
        # when the snooze has rung (see ``ring``).
        await ctx.scheduler.schedule(
            due, "ring", {"id": key.removeprefix(_JOB_PREFIX), "snooze": True, "ring_text": text}, job_id=key
        )
    minutes = round(seconds / 60)
    return Reply(f"Snoozing for {minutes} minute{'s' if minutes != 1 else ''}.")


# --- ringing -------------------------------------------------------------------------------------


async def _ring(ctx: SkillContext, key: str, text: str) -> None:
    _ringing_text[key] = text
    await ctx.alerts.ring(
        key,
        text,
        sound="alarm",
        every_s=_setting(ctx, "ring_every_s", 10, 0.01),
        limit=int(_setting(ctx, "ring_limit", 12, 1)),
    )


@skill.event("ring")
async def ring(ctx: SkillContext, job: Job) -> Reply | None:
    """An alarm (or a snooze) is due: ring it, or say once that it rang while the assistant was off."""
    alarm_id = str(job.data.get("id", ""))
    key = f"{_JOB_PREFIX}{alarm_id}"
    now = ctx.now()
    zone = wall_zone(now)
    alarm = await _load(ctx, alarm_id)
    if job.data.get("snooze"):
        if job.missed:
            reply: Reply | None = Reply("While I was off, your snoozed alarm went off.")
        else:
            reply = None
            # "text" in snoozes stored before it was renamed (a job's "text" is what listings name
            # it by: `assistant alarms` would show a whole sentence).
            said = job.data.get("ring_text") or job.data.get("text")
            await _ring(ctx, key, str(said or "Time to wake up."))
        if alarm is not None:
            # Put back the regular ring the snooze displaced.
            await _end_snooze(ctx, job, now, zone)
        return reply
    if alarm is None:
        return None  # cancelled, or already handled before a kill
    if alarm.next != job.due:
        # This ring was handled before the process was killed; make sure the next is scheduled.
        await ctx.scheduler.schedule(alarm.next, "ring", {"id": alarm.id}, job_id=alarm.job_id)
        return None
    if job.missed:
        name = f"{alarm.label} alarm at {alarm.clock}" if alarm.label else f"{alarm.clock} alarm"
        reply = Reply(f"While I was off, your {name} went off.")
    else:
        reply = None
        await _ring(ctx, key, alarm.ring_text())
    # The ring is out before the record changes: a kill in between repeats it (as missed)
    # rather than losing it.
    if alarm.weekdays is None:
        await ctx.store.delete(alarm.id)
    else:
        after = max(job.due, now)
        await _save(
            ctx, _replace_next(alarm, next_wall_time(alarm.hour, alarm.minute, alarm.weekdays, after, zone))
        )
    return reply


@skill.startup
async def reschedule_stored(ctx: SkillContext) -> None:
    """Schedule every stored alarm whose job is missing (a kill between store and schedule)."""
    for alarm in await _alarms(ctx):
        if await ctx.scheduler.get(alarm.job_id) is None and await ctx.store.get(alarm.id) is not None:
            ctx.log.info("alarm %s had no scheduled ring; scheduling %s", alarm.id, alarm.next.isoformat())
            await ctx.scheduler.schedule(alarm.next, "ring", {"id": alarm.id}, job_id=alarm.job_id)
