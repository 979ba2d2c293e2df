"""What the control socket and the HTTP endpoint answer, read from (or done by) the daemon."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from assistant import __version__
from assistant.control import protocol
from assistant.control.prometheus import Exposition
from assistant.control.protocol import ControlError, Request
from assistant.errors import ConfigError
from assistant.metrics import CacheCounters, Metrics
from assistant.skill.api import Job
from assistant.skill.context import SkillKeyValues
from assistant.trace import STAGES

if TYPE_CHECKING:
    from assistant.daemon import Daemon

log = logging.getLogger(__name__)

Command = Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]

ROUTES = ("skill", "llm", "none")
DEGRADE_ACTIONS = ("filler", "llm_cancelled", "skills_only")
HELD_TIMEOUT_S = 5.0
"""How long a skill's ``@skill.held`` lister may take for a listing."""
_JOB_TEXT_KEYS = ("text", "task", "label", "name", "title")
"""Fields that describe a job in a listing, looked for in its data, then in the record it names."""


class ControlCommands:
    """The commands of the control protocol, plus ``/metrics`` and ``/health``."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self._commands: dict[str, Command] = {
            "status": self._status,
            "ask": self._ask,
            "say": self._say,
            "mute": self._mute,
            "unmute": self._unmute,
            "jobs": self._jobs,
            "listen": self._listen,
            "reload": self._reload,
        }

    @property
    def names(self) -> list[str]:
        """The commands this daemon answers."""
        return sorted(self._commands)

    async def handle(self, request: Request) -> dict[str, Any]:
        """Answer one request; bad ones raise ControlError."""
        command = self._commands.get(request.cmd)
        if command is None:
            raise ControlError(
                protocol.UNKNOWN_COMMAND, f"unknown command {request.cmd!r}; known: {', '.join(self.names)}"
            )
        return await command(request.args)

    # -- commands ------------------------------------------------------------------------------

    async def _status(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args)
        return self.status()

    def status(self) -> dict[str, Any]:
        """Everything ``assistant status`` shows, as JSON-ready data."""
        daemon, runtime = self.daemon, self.daemon.runtime
        config = runtime.config
        session, mixer = daemon.session, daemon.mixer
        listener = session.listener if session is not None else None
        llm_left = runtime.skills_only.until
        return {
            "version": __version__,
            "protocol": protocol.VERSION,
            "pid": os.getpid(),
            "state": daemon.state,
            "muted": daemon.muted,
            "uptime_s": round(daemon.uptime_s(), 1),
            "started": _iso(daemon.started_at),
            "config": {
                "source": config.source,
                "reloads": daemon.reloads,
                "reload_failures": daemon.reload_failures,
                "restart_needed": list(daemon.restart_needed),
            },
            "listening": {
                "mode": getattr(listener, "mode", None),
                "audio_age_s": round(daemon.audio_age_s(), 2),
                "early_ends": getattr(listener, "early_ends", 0),
                "muted_utterances": daemon.muted_utterances,
                "dropped_utterances": daemon.dropped_utterances,
            },
            "models": self._models(),
            "skills": {
                "loaded": sorted(runtime.skills.skills),
                "failed": dict(runtime.skills.failed),
            },
            "skills_only": {
                "active": runtime.skills_only.active(),
                "left_s": None if llm_left is None else round(max(0.0, llm_left - time.monotonic()), 1),
            },
            "turns": [
                {"at": _iso(record.at), "source": record.source, **record.result.to_json()}
                for record in daemon.turns
            ],
            "metrics": runtime.metrics.snapshot(),
            "alerts": {
                "ringing": runtime.alerts.ringing(),
                "announced": runtime.alerts.announced,
                "dropped": runtime.alerts.dropped,
                "cut": runtime.alerts.cut,
            },
            "scheduler": {"fired": runtime.scheduler.fired if runtime.scheduler is not None else 0},
            "output": {
                "spoken_s": round(mixer.samples_written / mixer.sample_rate, 2) if mixer is not None else 0.0,
                "dropped_speech": mixer.dropped_speech if mixer is not None else 0,
            },
            "control_socket": str(daemon.control.path) if daemon.control is not None else None,
            "http": daemon.http_address,
        }

    def _models(self) -> dict[str, Any]:
        runtime = self.daemon.runtime
        config = runtime.config
        loaded: dict[str, tuple[object | None, str]] = {
            "asr": (runtime.asr, config.asr.model),
            "llm": (runtime.llm, config.llm.model),
            "tts": (runtime.tts, config.tts.voice),
        }
        out: dict[str, Any] = {}
        for kind, (model, name) in loaded.items():
            if model is None:
                out[kind] = None
                continue
            out[kind] = {
                "name": name,
                "device": getattr(model, "device", None),
                "load_ms": runtime.load_ms.get(kind),
            }
        return out

    async def _ask(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args, ("text",))
        result = await self.daemon.ask(protocol.text_arg(args, "text"))
        return result.to_json()

    async def _say(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args, ("text",))
        text = protocol.text_arg(args, "text")
        await self.daemon.say(text)
        return {"said": text}

    async def _mute(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args)
        await self.daemon.set_muted(True)
        return {"muted": True, "state": self.daemon.state}

    async def _unmute(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args)
        await self.daemon.set_muted(False)
        return {"muted": False, "state": self.daemon.state}

    async def _listen(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args, ("seconds",))
        seconds = args.get("seconds")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 60
        ):
            raise ControlError(protocol.BAD_ARGS, '"seconds" must be a number of seconds from 0 to 60')
        window = await self.daemon.push_to_talk(None if seconds is None else float(seconds))
        return {"listening": True, "seconds": window}

    async def _reload(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args)
        try:
            plan = await self.daemon.reload()
        except ConfigError as exc:
            raise ControlError(
                protocol.FAILED, f"config not reloaded (the running one is kept): {exc}"
            ) from None
        return {"source": plan.config.source, "changed": plan.changed, "restart_needed": plan.restart}

    async def _jobs(self, args: Mapping[str, Any]) -> dict[str, Any]:
        protocol.no_other_args(args, ("skill",))
        skill = protocol.optional_text_arg(args, "skill")
        runtime = self.daemon.runtime
        jobs = await asyncio.to_thread(runtime.jobs.find, skill)
        now = runtime.now()
        listed = []
        for job in jobs:
            listed.append(
                {
                    "skill": job.skill,
                    "id": job.id,
                    "event": job.event,
                    "due": job.due.isoformat(),
                    "in_s": round((job.due - now).total_seconds(), 1),
                    "text": await self._job_text(job),
                    "state": "scheduled",
                }
            )
        listed.extend(await self._held(skill))
        return {"now": now.isoformat(), "jobs": listed}

    async def _held(self, skill: str | None) -> list[dict[str, Any]]:
        """What skills keep with no job scheduled (paused timers), from their ``@skill.held``."""
        runtime = self.daemon.runtime
        skills = runtime.skills.skills
        names = sorted(skills) if skill is None else [skill] if skill in skills else []
        out: list[dict[str, Any]] = []
        for name in names:
            for lister in skills[name].holders:
                try:
                    async with asyncio.timeout(HELD_TIMEOUT_S):
                        held = await lister(runtime.skill_context(name))
                except Exception:
                    # One plugin's failure must not hide the rest of the listing.
                    log.exception("listing what skill %s holds failed; left out", name)
                    continue
                out.extend(
                    {
                        "skill": name,
                        "id": item.id,
                        "event": None,
                        "due": None,
                        "in_s": None,
                        "text": item.text,
                        "state": item.state,
                        "left_s": None if item.left_s is None else round(item.left_s, 1),
                    }
                    for item in held
                )
        return out

    async def _job_text(self, job: Job) -> str | None:
        """What a job is about: a text field of its data, or of the skill's record its ``id`` names
        (reminders keep their words in their own store and only the id in the job)."""
        found = _text_of(job.data)
        if found is not None:
            return found
        ref = job.data.get("id")
        if isinstance(ref, str) and ref:
            record = await SkillKeyValues(self.daemon.runtime.store, job.skill).get(ref)
            if isinstance(record, Mapping):
                return _text_of(record)
        return None

    # -- HTTP ----------------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the daemon works (microphone frames arrive), with what probes like to see."""
        daemon = self.daemon
        reasons = daemon.problems()
        ok = not reasons
        return ok, {
            "status": "ok" if ok else "degraded",
            "state": daemon.state,
            "muted": daemon.muted,
            "uptime_s": round(daemon.uptime_s(), 1),
            "audio_age_s": round(daemon.audio_age_s(), 2),
            "skills_only": daemon.runtime.skills_only.active(),
            "reasons": reasons,
        }

    def metrics_text(self) -> str:
        """The Prometheus page."""
        daemon, runtime = self.daemon, self.daemon.runtime
        metrics = runtime.metrics
        page = Exposition("hearkend")
        page.gauge("info", "Build information.", 1, {"version": __version__})
        page.gauge("uptime_seconds", "Seconds since the daemon started.", daemon.uptime_s())
        page.gauge("muted", "1 while microphone audio is ignored.", int(daemon.muted))
        page.gauge("degraded", "1 while degraded (no microphone audio).", int(not self.health()[0]))
        page.gauge("audio_age_seconds", "Seconds since the last microphone frame.", daemon.audio_age_s())
        page.labelled(
            "turns",
            "counter",
            "Finished turns by route.",
            "route",
            {route: metrics.turns.get(route, 0) for route in (*ROUTES, *metrics.turns)},
        )
        page.counter("turn_failures", "Turns that failed with an error.", metrics.failures)
        page.labelled(
            "over_budget",
            "counter",
            "Turns over a stage's latency budget, by stage.",
            "stage",
            {stage: metrics.over_budget.get(stage, 0) for stage in (*STAGES, *metrics.over_budget)},
        )
        page.labelled(
            "degraded_turns",
            "counter",
            "Turns in which a degrade action ran, by action.",
            "action",
            {action: metrics.degraded.get(action, 0) for action in (*DEGRADE_ACTIONS, *metrics.degraded)},
        )
        page.counter(
            "skills_only_switches",
            "Times the LLM was switched off for being slow.",
            metrics.skills_only_switches,
        )
        page.gauge(
            "skills_only_active", "1 while the LLM is switched off.", int(runtime.skills_only.active())
        )
        page.counter(
            "muted_utterances", "Utterances heard while muted, and dropped.", daemon.muted_utterances
        )
        page.counter(
            "dropped_utterances",
            "Utterances dropped because earlier ones already waited for their turn (queue full).",
            daemon.dropped_utterances,
        )
        page.counter("barge_ins", "Answers cut off by the wake word or a stop phrase.", metrics.barge_ins)
        page.labelled(
            "answers_ahead",
            "counter",
            "Model decisions started on the transcript of a pause, by outcome.",
            "outcome",
            {o: metrics.answers_ahead.get(o, 0) for o in ("started", "used", "dropped")},
        )
        page.counter("alerts_announced", "Announcements spoken.", runtime.alerts.announced)
        page.counter("alerts_dropped", "Announcements dropped (queue full).", runtime.alerts.dropped)
        page.counter("alerts_cut", "Announcements cut off by the wake word (barge-in).", runtime.alerts.cut)
        scheduler = runtime.scheduler
        page.counter("jobs_fired", "Scheduled skill events fired.", scheduler.fired if scheduler else 0)
        mixer = daemon.mixer
        spoken = mixer.samples_written / mixer.sample_rate if mixer is not None else 0.0
        page.counter("audio_out_seconds", "Seconds of audio written to the output.", spoken)
        page.counter("config_reloads", "Config reloads applied.", daemon.reloads)
        page.counter("config_reload_failures", "Config reloads refused (bad config).", daemon.reload_failures)
        caches = _caches(metrics)
        for name, kind, doc in (
            ("hits", "counter", "Cache lookups answered from the cache."),
            ("misses", "counter", "Cache lookups that had to do the work."),
            ("evictions", "counter", "Cache entries dropped to stay within bounds."),
            ("entries", "gauge", "Cache entries held."),
            ("bytes", "gauge", "Bytes held by the cache."),
        ):
            values = {cache: getattr(counters, name) for cache, counters in caches.items()}
            page.labelled(f"cache_{name}", kind, doc, "cache", values)
        spoken_turns = (r.result.timings_ms for r in reversed(daemon.turns))
        last = next((t["voice_to_voice"] for t in spoken_turns if "voice_to_voice" in t), None)
        if last is not None:
            page.gauge(
                "last_voice_to_voice_seconds",
                "Voice-to-voice latency of the latest spoken turn.",
                last / 1000,
            )
        page.histogram(
            "voice_to_voice_seconds",
            "Voice-to-voice latency of spoken turns (last voiced frame to first reply audio).",
            daemon.voice_to_voice,
        )
        return page.text()


def _caches(metrics: Metrics) -> dict[str, CacheCounters]:
    """Every cache's counters, by name ("tts" for ``tts_cache``), whichever caches there are."""
    out = {}
    for f in dataclasses.fields(metrics):
        value = getattr(metrics, f.name)
        if isinstance(value, CacheCounters):
            out[f.name.removesuffix("_cache")] = value
    return out


def _text_of(record: Mapping[str, Any]) -> str | None:
    for key in _JOB_TEXT_KEYS:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")
