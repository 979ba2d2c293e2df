"""Scheduled skill events: persisted in the state database, fired on time, missed ones at start.

A job is deleted only after its handler has finished, so a process killed at any moment loses
nothing: the job fires again at the next start (marked as missed when it is late).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from assistant.skill.api import Job
from assistant.store import StoreError, connect

log = logging.getLogger(__name__)

POLL_S = 1.0
"""How often the database is re-read, to see jobs another process (a CLI command) added."""
MISSED_AFTER_S = 30.0
"""A job found this late at start fell due while the daemon was down."""


class JobStore:
    """Jobs in the ``jobs`` table of the state database."""

    def __init__(self, state_dir: Path) -> None:
        self._conn = connect(state_dir)
        self._lock = threading.Lock()
        with self._conn:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS jobs ("
                " skill TEXT NOT NULL, id TEXT NOT NULL, event TEXT NOT NULL,"
                " due_epoch REAL NOT NULL, due TEXT NOT NULL, data TEXT NOT NULL,"
                " PRIMARY KEY (skill, id))"
            )
            self._conn.execute("CREATE INDEX IF NOT EXISTS jobs_due ON jobs (due_epoch)")

    def put(self, job: Job) -> None:
        """Insert or replace a job, durably."""
        if job.due.tzinfo is None:
            raise ValueError(f"job {job.skill}/{job.id}: due time must carry a time zone")
        try:
            data = json.dumps(dict(job.data))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"job {job.skill}/{job.id}: data is not JSON ({exc})") from None
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO jobs (skill, id, event, due_epoch, due, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job.skill, job.id, job.event, job.due.timestamp(), job.due.isoformat(), data),
            )

    def delete(self, skill: str, job_id: str) -> bool:
        """Remove a job; True when it existed."""
        with self._lock, self._conn:
            cursor = self._conn.execute("DELETE FROM jobs WHERE skill = ? AND id = ?", (skill, job_id))
        return cursor.rowcount > 0

    def complete(self, job: Job) -> None:
        """Remove a handled job, unless its handler rescheduled it (same id, another time)."""
        with self._lock, self._conn:
            self._conn.execute(
                "DELETE FROM jobs WHERE skill = ? AND id = ? AND due = ?",
                (job.skill, job.id, job.due.isoformat()),
            )

    def get(self, skill: str, job_id: str) -> Job | None:
        """One job, or None."""
        rows = self._select("WHERE skill = ? AND id = ?", (skill, job_id))
        return rows[0] if rows else None

    def find(self, skill: str | None = None, event: str | None = None) -> list[Job]:
        """Jobs soonest first, optionally of one skill and event."""
        clauses, args = [], []
        if skill is not None:
            clauses.append("skill = ?")
            args.append(skill)
        if event is not None:
            clauses.append("event = ?")
            args.append(event)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._select(where, tuple(args))

    def due_by(self, when: dt.datetime) -> list[Job]:
        """Jobs due at or before ``when``, soonest first."""
        return self._select("WHERE due_epoch <= ?", (when.timestamp(),))

    def next_due(self) -> float | None:
        """Epoch seconds of the soonest job, or None when there is none."""
        with self._lock:
            row = self._conn.execute("SELECT MIN(due_epoch) FROM jobs").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def _select(self, where: str, args: tuple[Any, ...]) -> list[Job]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT skill, id, event, due, data FROM jobs {where} ORDER BY due_epoch, id", args
            ).fetchall()
        return [
            Job(
                id=job_id, skill=skill, event=event, due=dt.datetime.fromisoformat(due), data=json.loads(data)
            )
            for skill, job_id, event, due, data in rows
        ]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()


class SchedulerService:
    """Fires due jobs through ``dispatch``; owned and run by the daemon."""

    def __init__(
        self,
        jobs: JobStore,
        dispatch: Callable[[Job], Awaitable[None]],
        now: Callable[[], dt.datetime],
    ) -> None:
        self.jobs = jobs
        self.dispatch = dispatch
        self.now = now
        self.fired = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the jobs again now (one was added or changed in this process)."""
        self._wake.set()

    async def run(self) -> None:
        """Fire due jobs until cancelled; jobs that fell due while down are marked missed."""
        started = self.now()
        while True:
            now = self.now()
            for job in await asyncio.to_thread(self.jobs.due_by, now):
                missed = (started - job.due).total_seconds() > MISSED_AFTER_S
                await self._fire(Job(job.id, job.skill, job.event, job.due, job.data, missed=missed))
            next_due = await asyncio.to_thread(self.jobs.next_due)
            wait = POLL_S if next_due is None else min(POLL_S, max(0.0, next_due - self.now().timestamp()))
            self._wake.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _fire(self, job: Job) -> None:
        try:
            await self.dispatch(job)
        except Exception:
            log.exception("job %s/%s (%s) failed; dropped", job.skill, job.id, job.event)
        await asyncio.to_thread(self.jobs.complete, job)
        self.fired += 1


class SkillJobs:
    """One skill's view of the scheduler (what ``ctx.scheduler`` is)."""

    def __init__(self, skill: str, jobs: JobStore, service: SchedulerService | None) -> None:
        self.skill = skill
        self._jobs = jobs
        self._service = service

    async def schedule(
        self,
        due: dt.datetime,
        event: str,
        data: Mapping[str, Any] | None = None,
        *,
        job_id: str | None = None,
    ) -> Job:
        """Schedule ``event`` at ``due`` (replacing the job with the same id, if any)."""
        job = Job(job_id or uuid.uuid4().hex[:12], self.skill, event, due, dict(data or {}))
        await asyncio.to_thread(self._jobs.put, job)
        if self._service is not None:
            self._service.wake()
        return job

    async def cancel(self, job_id: str) -> bool:
        """Remove a scheduled job; True when it existed."""
        return await asyncio.to_thread(self._jobs.delete, self.skill, job_id)

    async def get(self, job_id: str) -> Job | None:
        """One scheduled job of this skill."""
        return await asyncio.to_thread(self._jobs.get, self.skill, job_id)

    async def jobs(self, event: str | None = None) -> list[Job]:
        """This skill's scheduled jobs, soonest first, optionally of one event."""
        return await asyncio.to_thread(self._jobs.find, self.skill, event)
