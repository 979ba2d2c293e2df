"""Commands that talk to the running daemon over its control socket: ``status``, ``say``,
``mute``, ``unmute``, ``listen``, ``timers``, ``alarms``, ``reminders``, ``reload`` and
``ask --daemon``."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from assistant.control import client
from assistant.session import TurnResult


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the control commands."""
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print the daemon's answer as one JSON object")
    parents = [common, as_json]

    status = sub.add_parser(
        "status", parents=parents, help="what the running daemon is doing: state, models, skills, last turns"
    )
    status.set_defaults(func=_status)

    say = sub.add_parser("say", parents=parents, help="have the running daemon say something")
    say.add_argument("text", help="what to say")
    say.set_defaults(func=_say)

    mute = sub.add_parser(
        "mute", parents=parents, help="make the running daemon ignore the microphone (alerts still sound)"
    )
    mute.set_defaults(func=_mute, muted=True)
    unmute = sub.add_parser("unmute", parents=parents, help="make the running daemon listen again")
    unmute.set_defaults(func=_mute, muted=False)

    listen = sub.add_parser(
        "listen", parents=parents, help="push-to-talk: take the next utterance as a command (no wake word)"
    )
    listen.add_argument("--seconds", type=float, help="how long to wait for speech to start")
    listen.set_defaults(func=_listen)

    timers = sub.add_parser("timers", parents=parents, help="the running daemon's timers, paused ones too")
    timers.set_defaults(func=_jobs, skill="timers", noun="timers")
    alarms = sub.add_parser("alarms", parents=parents, help="the running daemon's alarms (their next rings)")
    alarms.set_defaults(func=_jobs, skill="alarms", noun="alarms")
    reminders = sub.add_parser("reminders", parents=parents, help="the running daemon's reminders")
    reminders.set_defaults(func=_jobs, skill="reminders", noun="reminders")

    reload = sub.add_parser(
        "reload", parents=parents, help="make the running daemon re-read its config (as SIGHUP does)"
    )
    reload.set_defaults(func=_reload)


async def _request(
    args: argparse.Namespace, cmd: str, params: Mapping[str, Any] | None = None, *, slow: bool = False
) -> dict[str, Any]:
    timeout = client.TURN_TIMEOUT_S if slow else client.QUICK_TIMEOUT_S
    return await client.request(cmd, params, runtime_dir=args.runtime_dir, timeout_s=timeout)


def _print_json(result: Mapping[str, Any]) -> None:
    print(json.dumps(result, ensure_ascii=False))


async def _status(args: argparse.Namespace) -> int:
    result = await _request(args, "status")
    if args.json:
        _print_json(result)
    else:
        print(render_status(result))
    return 0


async def _say(args: argparse.Namespace) -> int:
    result = await _request(args, "say", {"text": args.text}, slow=True)
    if args.json:
        _print_json(result)
    else:
        print(f"said: {result.get('said', args.text)}")
    return 0


async def _mute(args: argparse.Namespace) -> int:
    result = await _request(args, "mute" if args.muted else "unmute")
    if args.json:
        _print_json(result)
    elif result.get("muted"):
        print("muted: the microphone is ignored until `assistant unmute` (alerts are still spoken)")
    else:
        print(f"unmuted: {result.get('state', 'listening')}")
    return 0


async def _listen(args: argparse.Namespace) -> int:
    params = {} if args.seconds is None else {"seconds": args.seconds}
    result = await _request(args, "listen", params)
    if args.json:
        _print_json(result)
    else:
        print(f"listening for a command for {float(result.get('seconds', 0)):g} s")
    return 0


async def _reload(args: argparse.Namespace) -> int:
    result = await _request(args, "reload")
    if args.json:
        _print_json(result)
        return 0
    changed = result.get("changed") or []
    what = f"changed {', '.join(changed)}" if changed else "no live change"
    print(f"reloaded {result.get('source')}: {what}")
    restart = result.get("restart_needed") or []
    if restart:
        print(f"needs a restart to take effect: {', '.join(restart)}")
    return 0


async def _jobs(args: argparse.Namespace) -> int:
    result = await _request(args, "jobs", {"skill": args.skill})
    if args.json:
        _print_json(result)
        return 0
    jobs = result.get("jobs") or []
    if not jobs:
        print(f"no {args.noun}")
        return 0
    rows = [_job_row(job, args.skill) for job in jobs]
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    for text, when, at in rows:
        print(f"{text:<{width[0]}}  {when:<{width[1]}}  ({at})")
    return 0


def _job_row(job: Mapping[str, Any], skill: str) -> tuple[str, str, str]:
    """One line of ``assistant timers``/``alarms``/``reminders``: what, how long, when (or why not)."""
    text = job.get("text")
    if skill == "timers":
        name = f"{text or job.get('id')} timer"
    elif skill == "alarms":
        name = f"{text} alarm" if text else "alarm"  # text: its label, if it has one
    else:
        name = str(text or job.get("id"))
    if job.get("due") is None:
        # Kept by the skill with nothing scheduled (a paused timer): its time does not run.
        left = job.get("left_s")
        return name, "" if left is None else f"{span(float(left))} left", str(job.get("state") or "paused")
    due = dt.datetime.fromisoformat(str(job["due"])).astimezone()
    left = float(job.get("in_s") or 0)
    when = f"{span(left)} left" if skill == "timers" else f"in {span(left)}"
    return name, when if left > 0 else "due now", f"at {_clock(due)}"


async def ask_daemon(text: str, runtime_dir: str | None) -> dict[str, Any]:
    """``assistant ask --daemon``: the running daemon's session runs the turn (and speaks it);
    returns the turn in the ``ask --json`` shape."""
    return await client.request(
        "ask", {"text": text}, runtime_dir=runtime_dir, timeout_s=client.TURN_TIMEOUT_S
    )


def turn_result(data: Mapping[str, Any]) -> TurnResult:
    """A turn's JSON (``ask --json``) back as a TurnResult, for printing."""
    known = {f.name for f in dataclasses.fields(TurnResult) if f.init} - {"trace", "tool_call"}
    return TurnResult(**{key: value for key, value in data.items() if key in known})


# -- text rendering ------------------------------------------------------------------------------


def span(seconds: float) -> str:
    """A duration for people: "45 s", "9 min 58 s", "3 h 12 min", "2 d 3 h"."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min" if s % 3600 // 60 else f"{s // 3600} h"
    return f"{s // 86400} d {s % 86400 // 3600} h" if s % 86400 // 3600 else f"{s // 86400} d"


def _clock(when: dt.datetime) -> str:
    today = dt.datetime.now(when.tzinfo).date()
    if when.date() == today:
        return when.strftime("%H:%M:%S")
    return when.strftime("%a %d %b %H:%M")


def _mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"


def render_status(status: Mapping[str, Any]) -> str:
    """``assistant status`` for people."""
    lines = [
        f"hearkend {status.get('version')}, pid {status.get('pid')}, up {span(status.get('uptime_s', 0))}: "
        f"{status.get('state')}"
    ]
    config = status.get("config") or {}
    reloaded = config.get("reloads", 0)
    note = f" (reloaded {reloaded}×)" if reloaded else ""
    lines.append(f"config:    {config.get('source')}{note}")
    if config.get("restart_needed"):
        lines.append(f"           changed, needs a restart: {', '.join(config['restart_needed'])}")
    listening = status.get("listening") or {}
    muted = ", MUTED" if status.get("muted") else ""
    age = float(listening.get("audio_age_s", 0))
    lines.append(f"listening: mode {listening.get('mode')}{muted}, last audio {age:.1f} s ago")
    dropped = [
        f"{n} {why}"
        for n, why in (
            (listening.get("muted_utterances", 0), "while muted"),
            (listening.get("dropped_utterances", 0), "with turns already waiting"),
        )
        if n
    ]
    if dropped:
        lines.append(f"           utterances dropped: {', '.join(dropped)}")
    models = []
    for kind, model in (status.get("models") or {}).items():
        if model is None:
            models.append(f"{kind} (none)")
            continue
        load = f", loaded in {model['load_ms']:.0f} ms" if model.get("load_ms") is not None else ""
        models.append(f"{kind} {model.get('name')} ({model.get('device')}{load})")
    lines.append(f"models:    {'; '.join(models)}")
    skills = status.get("skills") or {}
    lines.append(f"skills:    {', '.join(skills.get('loaded') or []) or '(none)'}")
    for name, why in (skills.get("failed") or {}).items():
        lines.append(f"           failed: {name}: {why}")
    metrics = status.get("metrics") or {}
    turns = metrics.get("turns") or {}
    by_route = ", ".join(f"{route} {n}" for route, n in sorted(turns.items()))
    lines.append(
        f"turns:     {sum(turns.values())}{f' ({by_route})' if by_route else ''}, "
        f"{metrics.get('failures', 0)} failed"
    )
    over = metrics.get("over_budget") or {}
    if over:
        lines.append(f"           over budget: {', '.join(f'{k} {v}' for k, v in sorted(over.items()))}")
    degraded = metrics.get("degraded") or {}
    if degraded:
        lines.append(f"           degraded: {', '.join(f'{k} {v}' for k, v in sorted(degraded.items()))}")
    skills_only = status.get("skills_only") or {}
    if skills_only.get("active"):
        lines.append(f"           LLM off (skills only) for {span(skills_only.get('left_s') or 0)} more")
    caches = [
        f"{name.removesuffix('_cache')} {c['hits']} hits / {c['misses']} misses, {c['entries']} entries, "
        f"{_mib(c['bytes'])}"
        for name, c in metrics.items()
        if isinstance(c, dict) and {"hits", "misses", "entries", "bytes"} <= set(c)
    ]
    if caches:
        lines.append(f"caches:    {'; '.join(caches)}")
    output = status.get("output") or {}
    alerts = status.get("alerts") or {}
    ringing = f", ringing: {', '.join(alerts['ringing'])}" if alerts.get("ringing") else ""
    lines.append(
        f"output:    {output.get('spoken_s', 0):.1f} s spoken, {alerts.get('announced', 0)} announcements"
        f"{ringing}"
    )
    where = [f"socket {status.get('control_socket')}"]
    if status.get("http"):
        where.append(f"metrics {status['http']}/metrics")
    lines.append(f"control:   {', '.join(where)}")
    recent = status.get("turns") or []
    if recent:
        lines.append("last turns:")
        for turn in recent:
            at = dt.datetime.fromisoformat(str(turn["at"])).strftime("%H:%M:%S")
            skill = turn.get("skill")
            target = f" → {skill}.{turn.get('action')}" if skill else f" → {turn.get('route')}"
            timings = turn.get("timings_ms") or {}
            v2v = timings.get("voice_to_voice")
            took = f" [voice-to-voice {v2v:.0f} ms]" if v2v is not None else ""
            exceeded = turn.get("budget_exceeded") or []
            over_budget = f" over budget: {', '.join(exceeded)}" if exceeded else ""
            error = f" ERROR {turn['error']}" if turn.get("error") else ""
            lines.append(
                f"  {at} {turn.get('source', ''):<7} {turn.get('transcript')!r}{target}: "
                f"{turn.get('reply')!r}{took}{over_budget}{error}"
            )
    return "\n".join(lines)
