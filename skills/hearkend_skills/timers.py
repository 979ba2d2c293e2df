"""The timers skill: several named countdowns at once that survive restarts, ring, pause and stretch."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from assistant.skill import Held, Job, Reply, Skill, SkillContext, Slot, spoken_list
from assistant.understand.slots import format_duration

skill = Skill("timers", "Kitchen-style countdown timers: several at once, named, paused, stretched.")

DEFAULTS: dict[str, float] = {
    "max_duration_s": 24 * 3600,
    "max_timers": 10,
    "ring_every_s": 15,
    "ring_limit": 4,
}
"""Settings under ``skills.timers`` in the config file, and their defaults."""

PENDING_S = 60
"""How long a "which one?" question waits for its answer ("the pasta timer")."""

_PREFIX = "timer:"
_PENDING = "pending"

# --- sentence fragments ---------------------------------------------------------------------------
# "tamer" (and "time" where nothing else could mean it) are what small recognizers make of
# "timer"; "tires"/"times" of "timers" in short commands.
_TIMER = "(timer|tamer)"
_TIMERS = "(timers|tamers|tires)"
_POLITE = "[(hey|ok|okay)] [(can|could|would|will) you] [please]"
_SET = f"{_POLITE} (set|start|create|make|put on|add|give me|get me|i need|i want|i'd like|i would like) [me]"
_THE = "[(the|my|that|this)]"
_ONE = f"{_THE} [{{name}}] {_TIMER}"
"""A timer referred to, named or not: "the timer", "my pasta timer"."""
_ONE_CALLED = f"{_THE} {_TIMER} (called|named|for) [the] {{name}}"
"""A timer referred to by name after it: "the timer called pasta"."""
_ALL = f"(all|every|both) [of] {_THE} ({_TIMERS}|{_TIMER})"
_END = "[please]"
_CALLED = "(called|named|labeled|labelled|for)"
_CANCEL = (
    "(cancel|stop|delete|remove|end|kill|turn off|switch off|clear|dismiss|get rid of|never mind|"
    "forget [about])"
)

_NAME = Slot("text", "the timer's name, such as pasta or laundry", required=False)
_DURATION = Slot("duration", "how long the timer runs")
_UNITS: dict[str, int] = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}
"""Units of "a 10 minute pasta timer". No abbreviations: hassil lets a wildcard start inside a
word, so "min" would read "5 minute timer" as a timer named "ute"."""
_UNIT_WORDS: dict[str, str] = {
    **dict.fromkeys(("second", "seconds", "sec", "secs"), "second"),
    **dict.fromkeys(("minute", "minutes", "min", "mins"), "minute"),
    **dict.fromkeys(("hour", "hours", "hr", "hrs"), "hour"),
}
"""Unit words as name lookups compare them."""


@dataclass(frozen=True)
class Timer:
    """One timer as kept in the skill's store."""

    name: str
    """What it is called when spoken of ("pasta", or "5 minute" when the user gave no name)."""
    duration_s: int
    """How long it was set for, plus any time added or taken off."""
    end: dt.datetime | None
    """When it rings; None while paused."""
    left_s: int | None = None
    """Seconds it still had when paused; None while running."""
    named: bool = True
    """False when the name was made up from its length."""

    @property
    def key(self) -> str:
        """The name in the form lookups compare (digits, singular units)."""
        return name_key(self.name)

    @property
    def label(self) -> str:
        """How replies name it: "pasta timer"."""
        return f"{self.name} timer"

    def remaining(self, now: dt.datetime) -> int:
        """Whole seconds until it rings (rounded up, so a fresh 5 minute timer has 5 minutes)."""
        if self.end is None:
            return self.left_s or 0
        return max(0, math.ceil((self.end - now).total_seconds()))

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "name": self.name,
            "duration_s": self.duration_s,
            "end": None if self.end is None else self.end.isoformat(),
            "left_s": self.left_s,
            "named": self.named,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Timer:
        """Read the stored form back."""
        end = value.get("end")
        return cls(
            name=str(value["name"]),
            duration_s=int(value["duration_s"]),
            end=None if end is None else dt.datetime.fromisoformat(end),
            left_s=None if value.get("left_s") is None else int(value["left_s"]),
            named=bool(value.get("named", True)),
        )


# --- names ----------------------------------------------------------------------------------------

# fmt: off
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_ORDINALS = ["second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_COUNTS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
# fmt: on


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9'\s]", " ", text.lower().replace("-", " ")).split()


def clean_name(text: str) -> str:
    """A spoken name without the words around it: "the pasta timer" → "pasta"."""
    words = _words(text)
    while len(words) > 1 and words[0] in ("the", "my", "a", "an", "that", "this"):
        if words[0] in ("a", "an") and words[1] in _UNIT_WORDS:
            break  # "an hour" is a length, not an article
        words = words[1:]
    while len(words) > 1 and words[-1] in ("timer", "timers", "tamer", "one"):
        words = words[:-1]
    return " ".join(words)


def name_key(text: str) -> str:
    """A name as lookups compare it, so "five-minute" finds the "5 minute" timer."""
    words = _words(clean_name(text))
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in _TENS:
            value = _TENS[word]
            if following in _SMALL[1:10]:
                value += _SMALL.index(following)
                i += 1
            out.append(str(value))
        elif word in _SMALL:
            out.append(str(_SMALL.index(word)))
        elif word in ("a", "an") and following in _UNIT_WORDS:
            out.append("1")
        else:
            out.append(_UNIT_WORDS.get(word, word))
        i += 1
    return " ".join(out)


def default_name(seconds: int) -> str:
    """The name of an unnamed timer, after its length: "5 minute", "90 second", "2 hour"."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute"
    if seconds < 120:
        return f"{seconds} second"
    return f"{seconds // 60} minute {seconds % 60} second"


# --- wording --------------------------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count(n: int) -> str:
    return _COUNTS[n] if n < len(_COUNTS) else str(n)


def _and(items: list[str], *, comma: bool = False) -> str:
    """Items joined for speech; ``comma`` puts one before "and" even for two (long items)."""
    if len(items) == 2 and not comma:
        return f"{items[0]} and {items[1]}"
    return spoken_list(items)


def spoken_length(seconds: int) -> str:
    """A timer's length as said: "24 hours" rather than "1 day", which no one sets a timer for."""
    hours, rest = divmod(seconds, 3600)
    if hours < 24:
        return format_duration(seconds)
    return f"{hours} hours, {format_duration(rest)}" if rest else f"{hours} hours"


def spoken_left(seconds: int) -> str:
    """Time left as said: exact under an hour, to the minute above (seconds are noise there)."""
    if seconds >= 3600:
        seconds = (seconds + 30) // 60 * 60
    return spoken_length(seconds)


def _mention(timer: Timer) -> str:
    """A timer in a list: "pasta" when the user named it, else "the 5 minute timer"."""
    return timer.name if timer.named else f"the {timer.label}"


def _state(timer: Timer, now: dt.datetime) -> str:
    left = timer.remaining(now)
    if timer.end is None:
        return f"paused with {spoken_left(left)} left"
    return f"with {spoken_left(left)} left" if left else "going off now"


def _one_status(timer: Timer, now: dt.datetime) -> str:
    left = timer.remaining(now)
    if timer.end is None:
        return f"Your {timer.label} is paused with {spoken_left(left)} left."
    if left == 0:
        return f"Your {timer.label} is going off now."
    return f"You have {spoken_left(left)} left on your {timer.label}."


# --- state ----------------------------------------------------------------------------------------


def _setting(ctx: SkillContext, key: str) -> float:
    """A number from ``skills.timers``; a missing or unusable one falls back to its default."""
    value = ctx.config.get(key, DEFAULTS[key])
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        ctx.log.warning(
            "skills.timers.%s must be a positive number, not %r; using %s", key, value, DEFAULTS[key]
        )
        return DEFAULTS[key]
    return float(value)


async def _timers(ctx: SkillContext) -> list[Timer]:
    """Every timer, the soonest to ring first (paused ones by what they have left)."""
    now = ctx.now()
    found = [Timer.from_json(v) for k, v in (await ctx.store.items()).items() if k.startswith(_PREFIX)]
    return sorted(found, key=lambda t: (t.remaining(now), t.name))


async def _save(ctx: SkillContext, timer: Timer) -> None:
    """Store a timer and (re)schedule its end, or unschedule it while paused."""
    # Stored before scheduled: a kill in between leaves a timer that status shows, never a
    # ring for a timer that does not exist.
    await ctx.store.put(_PREFIX + timer.key, timer.to_json())
    if timer.end is None:
        await ctx.scheduler.cancel(_PREFIX + timer.key)
    else:
        data = {"key": timer.key, "name": timer.name}
        await ctx.scheduler.schedule(timer.end, "done", data, job_id=_PREFIX + timer.key)


async def _remove(ctx: SkillContext, timer: Timer) -> None:
    await ctx.scheduler.cancel(_PREFIX + timer.key)
    await ctx.store.delete(_PREFIX + timer.key)


async def _ask(ctx: SkillContext, timers: list[Timer], verb: str, action: str, **extra: Any) -> Reply:
    """Ask which timer is meant, remembering the question for a short "the pasta timer" answer."""
    pending = {"action": action, "asked": ctx.now().isoformat(), **extra}
    await ctx.store.put(_PENDING, pending)
    names = _and([_mention(t) for t in timers])
    return Reply(
        f"You have {_count(len(timers))} timers: {names}. Which one should I {verb}?", follow_up=True
    )


async def _pick(
    ctx: SkillContext,
    slots: Mapping[str, Any],
    *,
    verb: str,
    action: str,
    want: Callable[[Timer], bool] = lambda t: True,
    none_wanted: str = "",
    **extra: Any,
) -> Timer | Reply:
    """The timer a command is about: the named one, the only one that fits, or a question."""
    # A new command drops an unanswered "which one?", so a later "the pasta timer" only reports.
    await ctx.store.delete(_PENDING)
    timers = await _timers(ctx)
    if not timers:
        return Reply("You don't have any timers.")
    name = slots.get("name")
    if name:
        key = name_key(str(name))
        for timer in timers:
            if timer.key == key:
                return timer
        others = _and([_mention(t) for t in timers])
        return Reply(f"You don't have a {clean_name(str(name))} timer. You have {others}.")
    fitting = [t for t in timers if want(t)]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        return Reply(none_wanted)
    return await _ask(ctx, fitting, verb, action, **extra)


# --- intents --------------------------------------------------------------------------------------


@skill.intent(
    "start",
    description="Start a countdown timer, optionally with a name.",
    side_effects=True,
    slots={
        "duration_s": replace(_DURATION, required=False),
        "name": _NAME,
        "amount": Slot("number", "the number in '10 minute pasta timer' (only with unit)", required=False),
        "unit": Slot("choice", "the unit in '10 minute pasta timer'", required=False, values=tuple(_UNITS)),
    },
    sentences=[
        f"{_SET} [(a|an|the|one)] [new] ({_TIMER}|time) [for] {{duration_s}} [for me] {_END}",
        f"{_SET} (a|an|one) [new] {_TIMER} [for] {{duration_s}} {_CALLED} [the] {{name}}",
        f"{_SET} (a|an|one) [new] {_TIMER} {_CALLED} [the] {{name}} for {{duration_s}}",
        f"{_SET} (a|an) [new] {_TIMER} {_END}",
        f"{_SET} (a|an|the|my) {{name}} {_TIMER} for {{duration_s}} {_END}",
        f"[{_SET}] [(a|an|one)] {{duration_s}} ({_TIMER}|countdown) [for me] {_END}",
        f"[{_SET}] [(a|an|one)] {{duration_s}} {_TIMER} (called|named|for) [the] {{name}} {_END}",
        f"[{_SET}] [(a|an|one)] {{amount}} {{unit}} {{name}} {_TIMER} {_END}",
        f"{_TIMER} [for] {{duration_s}} {_END}",
        f"{_TIMER} [for] {{duration_s}} (called|named|for) [the] {{name}}",
        f"[{_POLITE}] [(start|set)] [a] (countdown|count down) [(for|of|from)] {{duration_s}} {_END}",
    ],
)
async def start(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Start a timer after checking its length, the number running and its name."""
    if "duration_s" in slots:
        seconds = int(slots["duration_s"])
    elif "amount" in slots and "unit" in slots:
        seconds = round(float(slots["amount"]) * _UNITS[str(slots["unit"])])
    else:
        return Reply("For how long should the timer run?", follow_up=True)
    limit = int(_setting(ctx, "max_duration_s"))
    if seconds <= 0:
        return Reply("That timer would end right away.")
    if seconds > limit:
        return Reply(f"Timers can run for up to {spoken_length(limit)}.")
    timers = await _timers(ctx)
    most = int(_setting(ctx, "max_timers"))
    if len(timers) >= most:
        return Reply(
            f"You already have {_count(most)} timers, which is as many as I can keep. Cancel one first."
        )
    now = ctx.now()
    taken = {t.key for t in timers}
    name = clean_name(str(slots.get("name", "")))
    if name == "s" and "unit" in slots:
        # "5 minutes timer" also reads as unit "minute" and name "s" (a hassil wildcard may start
        # inside a word), and that reading explains more with template words, so it wins.
        name = ""
    if name:
        if name_key(name) in taken:
            held = next(t for t in timers if t.key == name_key(name))
            state = _state(held, now)
            return Reply(f"You already have a {held.label}, {state}. Cancel it first, or pick another name.")
        timer = Timer(name, seconds, now + dt.timedelta(seconds=seconds))
        await _save(ctx, timer)
        return Reply(f"{_cap(timer.label)} set for {spoken_length(seconds)}.")
    # An unnamed timer is named after its length; a second one of that length gets "second".
    base = default_name(seconds)
    name = next(
        (n for n in (base, *(f"{o} {base}" for o in _ORDINALS)) if name_key(n) not in taken),
        f"{base} {len(timers) + 1}",
    )
    timer = Timer(name, seconds, now + dt.timedelta(seconds=seconds), named=False)
    await _save(ctx, timer)
    if name == base:
        return Reply(f"Timer set for {spoken_length(seconds)}.")
    return Reply(f"{_cap(timer.label)} set for {spoken_length(seconds)}.")


@skill.intent(
    "cancel",
    description="Cancel one timer (the named one, or the only one), or silence a ringing one.",
    side_effects=True,
    slots={"name": _NAME},
    sentences=[f"{_POLITE} {_CANCEL} {form} {_END}" for form in (_ONE, _ONE_CALLED)],
)
async def cancel(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Cancel a timer; one that is ringing is what "cancel the timer" means first."""
    ringing = [k for k in ctx.alerts.ringing() if k.startswith(_PREFIX)]
    name = slots.get("name")
    if name:
        ringing = [k for k in ringing if k == _PREFIX + name_key(str(name))]
    if ringing:
        for key in ringing:
            await ctx.alerts.stop(key)
        return Reply("Okay, timer stopped." if len(ringing) == 1 else "Okay, timers stopped.")
    picked = await _pick(ctx, slots, verb="cancel", action="cancel")
    if isinstance(picked, Reply):
        return picked
    await _remove(ctx, picked)
    return Reply(f"{_cap(picked.label)} cancelled.")


@skill.intent(
    "cancel_all",
    description="Cancel every timer.",
    side_effects=True,
    sentences=[
        f"{_POLITE} (cancel|stop|delete|remove|end|kill|turn off|clear|reset|get rid of) {_ALL} {_END}",
        f"{_POLITE} (cancel|stop|delete|remove|clear|reset|get rid of) {_THE} {_TIMERS} {_END}",
    ],
)
async def cancel_all(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Cancel every timer and silence any that are ringing."""
    stopped = [k for k in ctx.alerts.ringing() if k.startswith(_PREFIX)]
    for key in stopped:
        await ctx.alerts.stop(key)
    timers = await _timers(ctx)
    for timer in timers:
        await _remove(ctx, timer)
    if not timers:
        return Reply("Okay, timers stopped." if stopped else "You don't have any timers.")
    if len(timers) == 1:
        return Reply(f"{_cap(timers[0].label)} cancelled.")
    return Reply(f"All {_count(len(timers))} timers cancelled.")


def _pause_timer(timer: Timer, now: dt.datetime) -> Timer:
    return replace(timer, end=None, left_s=timer.remaining(now))


def _resume_timer(timer: Timer, now: dt.datetime) -> Timer:
    return replace(timer, end=now + dt.timedelta(seconds=timer.left_s or 0), left_s=None)


@skill.intent(
    "pause",
    description="Pause a running timer; it keeps the time it has left.",
    side_effects=True,
    slots={"name": _NAME},
    sentences=[f"{_POLITE} (pause|hold|freeze|suspend) {form} {_END}" for form in (_ONE, _ONE_CALLED)],
)
async def pause(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Pause one timer: unschedule it and remember what it had left."""
    picked = await _pick(
        ctx,
        slots,
        verb="pause",
        action="pause",
        want=lambda t: t.end is not None,
        none_wanted="Your timers are all paused already.",
    )
    if isinstance(picked, Reply):
        return picked
    if picked.end is None:
        return Reply(f"Your {picked.label} is already paused.")
    paused = _pause_timer(picked, ctx.now())
    await _save(ctx, paused)
    return Reply(f"{_cap(paused.label)} paused with {spoken_left(paused.remaining(ctx.now()))} left.")


@skill.intent(
    "pause_all",
    description="Pause every running timer.",
    side_effects=True,
    sentences=[
        f"{_POLITE} (pause|hold|freeze|suspend) {_ALL} {_END}",
        f"{_POLITE} (pause|hold|freeze|suspend) {_THE} {_TIMERS} {_END}",
    ],
)
async def pause_all(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Pause every running timer."""
    now = ctx.now()
    timers = await _timers(ctx)
    running = [t for t in timers if t.end is not None]
    if not timers:
        return Reply("You don't have any timers.")
    if not running:
        return Reply("Your timers are all paused already.")
    for timer in running:
        await _save(ctx, _pause_timer(timer, now))
    if len(running) == 1:
        return Reply(f"{_cap(running[0].label)} paused.")
    return Reply(f"{_cap(_count(len(running)))} timers paused.")


@skill.intent(
    "resume",
    description="Resume a paused timer.",
    side_effects=True,
    slots={"name": _NAME},
    sentences=[
        f"{_POLITE} (resume|continue|unpause|un pause) {form} [again] {_END}" for form in (_ONE, _ONE_CALLED)
    ]
    + [f"{_POLITE} (start|restart|run) {_ONE} again {_END}"],
)
async def resume(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Resume one paused timer with the time it had left."""
    picked = await _pick(
        ctx,
        slots,
        verb="resume",
        action="resume",
        want=lambda t: t.end is None,
        none_wanted="None of your timers is paused.",
    )
    if isinstance(picked, Reply):
        return picked
    if picked.end is not None:
        return Reply(f"Your {picked.label} is already running.")
    resumed = _resume_timer(picked, ctx.now())
    await _save(ctx, resumed)
    return Reply(f"{_cap(resumed.label)} resumed with {spoken_left(resumed.remaining(ctx.now()))} left.")


@skill.intent(
    "resume_all",
    description="Resume every paused timer.",
    side_effects=True,
    sentences=[
        f"{_POLITE} (resume|continue|unpause|un pause|restart) {_ALL} {_END}",
        f"{_POLITE} (resume|continue|unpause|un pause|restart) {_THE} {_TIMERS} {_END}",
    ],
)
async def resume_all(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Resume every paused timer."""
    now = ctx.now()
    timers = await _timers(ctx)
    paused = [t for t in timers if t.end is None]
    if not timers:
        return Reply("You don't have any timers.")
    if not paused:
        return Reply("None of your timers is paused.")
    for timer in paused:
        await _save(ctx, _resume_timer(timer, now))
    if len(paused) == 1:
        return Reply(f"{_cap(paused[0].label)} resumed.")
    return Reply(f"{_cap(_count(len(paused)))} timers resumed.")


async def _shift(ctx: SkillContext, slots: Mapping[str, Any], sign: int) -> Reply:
    """Add (sign 1) or take off (sign -1) time from one timer."""
    if "duration_s" in slots:
        seconds = int(slots["duration_s"])
    elif "unit" in slots:
        seconds = round(float(slots.get("amount", 1)) * _UNITS[str(slots["unit"])])
    else:
        return Reply("How much time?", follow_up=True)
    verb, action = ("add time to", "add_time") if sign > 0 else ("take time off", "remove_time")
    picked = await _pick(ctx, slots, verb=verb, action=action, duration_s=seconds)
    if isinstance(picked, Reply):
        return picked
    if seconds == 0:
        return Reply(f"Your {picked.label} stays as it is.")
    now = ctx.now()
    left = picked.remaining(now) + sign * seconds
    if left <= 0:
        return Reply(f"Your {picked.label} only has {spoken_left(picked.remaining(now))} left.")
    limit = int(_setting(ctx, "max_duration_s"))
    if left > limit:
        return Reply(f"Timers can run for up to {spoken_length(limit)}.")
    delta = dt.timedelta(seconds=sign * seconds)
    if picked.end is None:
        changed = replace(picked, left_s=left, duration_s=max(1, picked.duration_s + sign * seconds))
    else:
        changed = replace(
            picked, end=picked.end + delta, duration_s=max(1, picked.duration_s + sign * seconds)
        )
    await _save(ctx, changed)
    done = "Added" if sign > 0 else "Took off"
    left_now = spoken_left(changed.remaining(now))
    return Reply(f"{done} {spoken_length(seconds)}. Your {changed.label} now has {left_now} left.")


@skill.intent(
    "add_time",
    description="Add time to a timer.",
    side_effects=True,
    slots={
        "duration_s": replace(_DURATION, required=False),
        "name": _NAME,
        "amount": Slot("number", "the number in 'two more minutes' (only with unit)", required=False),
        "unit": Slot("choice", "the unit in 'another minute'", required=False, values=tuple(_UNITS)),
    },
    sentences=[
        f"{_POLITE} (add|put) [(another|an extra|extra)] {{duration_s}} [more] (to|on|onto) {_ONE} {_END}",
        f"{_POLITE} add [(another|an extra|extra)] {{duration_s}} [more] {_END}",
        f"{_POLITE} (add|put) {{amount}} more {{unit}} [(to|on|onto) {_ONE}] {_END}",
        f"{_POLITE} (add|put) (another|an extra|one more) {{unit}} [(to|on|onto) {_ONE}] {_END}",
        f"{_POLITE} (extend|increase|lengthen) {_ONE} by {{duration_s}} {_END}",
    ],
)
async def add_time(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Add time to a timer, within the longest a timer may run."""
    return await _shift(ctx, slots, 1)


@skill.intent(
    "remove_time",
    description="Take time off a timer.",
    side_effects=True,
    slots={"duration_s": _DURATION, "name": _NAME},
    sentences=[
        f"{_POLITE} (take|remove|subtract|knock|cut|shave) {{duration_s}} (off|from|off of) {_ONE} {_END}",
        f"{_POLITE} (take|knock|shave) {{duration_s}} off {_END}",
        f"{_POLITE} (reduce|shorten|decrease) {_ONE} by {{duration_s}} {_END}",
    ],
)
async def remove_time(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Take time off a timer, unless that would end it."""
    return await _shift(ctx, slots, -1)


@skill.intent(
    "status",
    description="Say how long one timer, or each timer, has left.",
    time_sensitive=True,
    slots={"name": _NAME},
    sentences=[
        "how much [more] time [do i have] (is left|left|is remaining|remaining|remains|is there) "
        f"[(on|in|for) {_ONE}] {_END}",
        f"how much [more] time (do i have|have i got) [left] [(on|in|for) {_ONE}] {_END}",
        f"how much [more] time (is|is there|do i have|have i got) (on|in) {_ONE} {_END}",
        f"how many (minutes|seconds|hours) [(are|do i have|have i got)] (left|remaining) "
        f"[(on|in|for) {_ONE}] {_END}",
        f"[how much] time (left|remaining) (on|in|for) {_ONE} {_END}",
        f"how (long|much longer) [is] [(left|remaining)] (on|for|in) {_ONE} {_END}",
        "how (long|much longer) (is left|left|is remaining|remaining|remains|do i have [left]|"
        f"until it's done|until it's finished) {_END}",
        f"how (long|much longer) (until|till|before) {_ONE} (goes off|rings|is done|ends|finishes) {_END}",
        f"(what|which) {_TIMERS} (do i have|have i got|are (running|set|there|on|going)) {_END}",
        f"[(do i have|have i got|are there)] any {_TIMERS} [(running|set|on|going)] {_END}",
        f"how (is|are) {_THE} [{{name}}] ({_TIMER}|{_TIMERS}) (doing|going|coming along) {_END}",
        f"how's {_THE} [{{name}}] {_TIMER} (doing|going|coming along) {_END}",
        f"(check|show|list) [(on|me)] [all] {_THE} [{{name}}] ({_TIMER}|{_TIMERS}) {_END}",
        f"[(what's|what is|whats)] [the] status of {_ONE} {_END}",
        f"[(what's|what is|whats)] [the] status of {_THE} {_TIMERS} {_END}",
        f"{_TIMER} status {_END}",
        f"is {_ONE} (done|finished|still running|running) [yet] {_END}",
        f"(what's|what is|whats) left on {_ONE} {_END}",
    ],
)
async def status(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Say what one timer (or each) has left."""
    now = ctx.now()
    timers = await _timers(ctx)
    if not timers:
        return Reply("You don't have any timers.")
    if slots.get("name"):
        picked = await _pick(ctx, slots, verb="check", action="status")
        return picked if isinstance(picked, Reply) else Reply(_one_status(picked, now))
    if len(timers) == 1:
        return Reply(_one_status(timers[0], now))
    items = _and([f"{_mention(t)} {_state(t, now)}" for t in timers], comma=True)
    return Reply(f"You have {_count(len(timers))} timers: {items}.")


_ACTIONS: dict[str, Callable[[SkillContext, dict[str, Any]], Awaitable[Reply]]] = {
    "cancel": cancel,
    "pause": pause,
    "resume": resume,
    "add_time": add_time,
    "remove_time": remove_time,
    "status": status,
}


@skill.intent(
    "choose",
    description="Answer which timer was meant, after being asked; otherwise say how that timer is doing.",
    time_sensitive=True,
    slots={"name": replace(_NAME, required=True)},
    sentences=[f"(the|my) {{name}} {_TIMER} [please]"],
)
async def choose(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Finish the command that asked "which one?", or report on the timer named."""
    pending = await ctx.store.get(_PENDING)
    await ctx.store.delete(_PENDING)
    if isinstance(pending, dict) and pending.get("action") in _ACTIONS:
        asked = dt.datetime.fromisoformat(str(pending["asked"]))
        if (ctx.now() - asked).total_seconds() <= PENDING_S:
            extra = {k: v for k, v in pending.items() if k not in ("action", "asked")}
            return await _ACTIONS[str(pending["action"])](ctx, {**extra, "name": slots["name"]})
    return await status(ctx, slots)


@skill.held
async def paused_timers(ctx: SkillContext) -> list[Held]:
    """The paused timers (no job waits for them), for ``assistant timers``."""
    now = ctx.now()
    return [
        Held(_PREFIX + t.key, t.name, float(t.remaining(now))) for t in await _timers(ctx) if t.end is None
    ]


@skill.event("done")
async def done(ctx: SkillContext, job: Job) -> Reply | None:
    """A timer ran out: ring until stopped, or say once that it ended while the assistant was off."""
    key = str(job.data.get("key", ""))
    stored = await ctx.store.get(_PREFIX + key)
    if stored is None:
        # Cancelled just as it fell due.
        ctx.log.info("timer %r ended but is no longer stored; not ringing", key)
        return None
    timer = Timer.from_json(stored)
    if timer.end is None or timer.end > job.due + dt.timedelta(seconds=1):
        # Paused or lengthened after this job was read: its new job rings instead.
        return None
    await ctx.store.delete(_PREFIX + key)
    if job.missed:
        await ctx.alerts.announce(f"While I was off, your {timer.label} finished.", sound="chime")
        return None
    await ctx.alerts.ring(
        _PREFIX + key,
        f"Your {timer.label} is done.",
        sound="alarm",
        every_s=_setting(ctx, "ring_every_s"),
        limit=int(_setting(ctx, "ring_limit")),
    )
    return None
