"""The shared runtime: config, models and skills, loaded once and used by every session."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant import paths
from assistant.asr import WhisperAsr
from assistant.config import Config
from assistant.degrade import SkillsOnlySwitch
from assistant.llm.answerer import Answerer
from assistant.llm.local import LocalLlm
from assistant.llm.remote import RemoteLlm
from assistant.llm.response_cache import ResponseCache
from assistant.llm.tools import ToolSet
from assistant.metrics import Metrics
from assistant.models import resolve_model
from assistant.skill.alerts import AlertService
from assistant.skill.api import MusicOutput, SkillContext
from assistant.skill.context import DetachedMusic, HttpClients, SkillKeyValues
from assistant.skill.registry import SkillSet, load_skills
from assistant.skill.scheduler import JobStore, SchedulerService, SkillJobs
from assistant.speak.chunker import split_pieces
from assistant.speak.tts import PiperTts
from assistant.store import KeyValueStore
from assistant.timezone import local_now
from assistant.understand.intents import IntentMatcher
from assistant.understand.router import Router

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything sessions share: models, skills, the router and the skills' services."""

    config: Config
    asr: WhisperAsr | None
    llm: LocalLlm | None
    tts: PiperTts
    skills: SkillSet
    router: Router
    state_dir: Path
    store: KeyValueStore
    jobs: JobStore
    alerts: AlertService
    http: HttpClients
    music: MusicOutput = field(default_factory=DetachedMusic)
    """The music channel; the daemon replaces it with its mixer's."""
    scheduler: SchedulerService | None = None
    """Set by the daemon, which runs it; one-shot commands only store jobs."""
    now: Callable[[], dt.datetime] = local_now
    load_ms: dict[str, float] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    """Counters of what turns did, for status and export."""
    skills_only: SkillsOnlySwitch = field(default_factory=SkillsOnlySwitch)
    """Whether the LLM is switched off for being slow (budgets.skills_only_after)."""
    answerer: Answerer | None = None
    """The language models (remote, local) with their tools and response cache; None = skills only."""

    def skill_context(self, skill: str) -> SkillContext:
        """The context handed to one skill's handlers."""
        skill_dir = self.state_dir / "skills" / skill
        return SkillContext(
            skill=skill,
            config=self.config.skills.get(skill, {}),
            now=self.now,
            log=logging.getLogger(f"skill.{skill}"),
            store=SkillKeyValues(self.store, skill),
            scheduler=SkillJobs(skill, self.jobs, self.scheduler),
            alerts=self.alerts,
            http_factory=self.http.get,
            music=self.music,
            state_dir=skill_dir,
        )

    async def aclose(self) -> None:
        """Stop alerts, close HTTP clients, then release threads and databases."""
        await self.alerts.aclose()
        await self.http.aclose()
        if self.answerer is not None and isinstance(self.answerer.remote, RemoteLlm):
            await self.answerer.remote.aclose()
        self.close()

    def close(self) -> None:
        """Release worker threads and the state database."""
        self.store.close()
        self.jobs.close()
        for model in (self.asr, self.llm, self.tts):
            if model is not None:
                model.close()


async def _timed_load(name: str, load: object, timings: dict[str, float]) -> None:
    start = time.perf_counter()
    await asyncio.to_thread(load)  # type: ignore[arg-type]
    timings[name] = round((time.perf_counter() - start) * 1000, 1)


async def start_runtime(
    config: Config,
    *,
    state_dir: Path,
    need_asr: bool = True,
    need_llm: bool = True,
    warm: bool = True,
) -> Runtime:
    """Resolve, check and load every model in parallel, load skills, then warm the models."""
    data = paths.data_dir()
    if config.wake.mode == "wake":
        # Sessions load their own detector (it keeps per-stream state); a wrong name fails now.
        resolve_model(config.wake.model, "wake", data)
    asr = WhisperAsr(resolve_model(config.asr.model, "asr", data), config.asr) if need_asr else None
    remote = RemoteLlm(config.llm_remote, config.llm) if need_llm and config.llm_remote.url else None
    # With a remote model the local one is only loaded as its fallback.
    need_local = need_llm and (remote is None or config.llm_remote.fallback == "local")
    metrics = Metrics()
    llm = (
        LocalLlm(resolve_model(config.llm.model, "llm", data), config.llm, metrics.llm_prompt)
        if need_local
        else None
    )
    tts = PiperTts(resolve_model(config.tts.voice, "tts", data), config.tts, metrics.tts_cache)
    timings: dict[str, float] = {}
    loads = [_timed_load("tts", tts.load, timings)]
    if asr is not None:
        loads.append(_timed_load("asr", asr.load, timings))
    if llm is not None:
        loads.append(_timed_load("llm", llm.load, timings))
    await asyncio.gather(*loads)
    skills = load_skills()  # it logs each skill that fails to load
    tools = ToolSet(skills.skills.values() if config.llm.tools else ())
    answerer = None
    if llm is not None or remote is not None:
        answerer = Answerer(
            tools,
            llm,
            remote,
            cache=ResponseCache(
                config.llm.response_cache_entries, config.llm.response_cache_ttl_s, metrics.response_cache
            ),
            first_token_timeout_s=config.llm_remote.first_token_timeout_ms / 1000,
            retry_after_s=config.llm_remote.retry_after_s,
            tool_gate=config.llm.tool_gate,
        )
    router = Router(IntentMatcher(skills.skills.values()), llm_available=answerer is not None)
    if warm:
        start = time.perf_counter()
        warmers = [tts.warm(fixed_phrases(config))]
        if asr is not None:
            warmers.append(asr.warm())
        if llm is not None:
            # A cache shared by every state folder: the key says which model and prompt it is for.
            warmers.append(llm.warm(tools, config.llm.system_prompt, paths.cache_dir() / "llm-prompt"))
        await asyncio.gather(*warmers)
        timings["warm"] = round((time.perf_counter() - start) * 1000, 1)
    store = await asyncio.to_thread(KeyValueStore, state_dir)
    jobs = await asyncio.to_thread(JobStore, state_dir)
    http = HttpClients(config.budgets.http_timeout_ms / 1000)
    return Runtime(
        config,
        asr,
        llm,
        tts,
        skills,
        router,
        state_dir,
        store,
        jobs,
        AlertService(),
        http,
        load_ms=timings,
        metrics=metrics,
        answerer=answerer,
    )


def fixed_phrases(config: Config) -> list[str]:
    """The pieces of every fixed reply, as a turn would speak them (pre-synthesized at start)."""
    reply = config.reply
    texts = (
        reply.filler,
        reply.not_heard,
        reply.failure,
        reply.too_slow,
        reply.skills_only,
        reply.skill_timeout,
        reply.tool_error,
        reply.llm_unavailable,
        reply.llm_lost,
    )
    return [piece for text in texts for piece in split_pieces(text)]
