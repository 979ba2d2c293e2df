"""The library of one state directory: opened once per process, scanned in a worker thread."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from assistant.skill import SkillContext

from .library import MusicLibrary, ScanStats
from .settings import Settings

__all__ = ["LibraryIndex", "ScanReport", "index_for"]

_MARKER = "index"
"""Store key recording which folders the index at which path was last fully scanned for."""
_FAILURES_LOGGED = 20


class _ScanAborted(Exception):
    """Raised in the scanning thread to end a scan whose task was cancelled."""


class ScanReport:
    """One finished scan: the library's changes and its size after it."""

    def __init__(self, stats: ScanStats, songs: int, seconds: float) -> None:
        self.stats = stats
        self.songs = songs
        """Tracks in the index after the scan."""
        self.seconds = seconds

    def spoken(self) -> str:
        """A short sentence for the person who asked for the rescan."""
        s = self.stats
        counts = ((s.added, "new"), (s.updated, "changed"), (s.removed, "removed"))
        changed = [f"{n} {what}" for n, what in counts if n]
        songs = "1 song" if self.songs == 1 else f"{self.songs} songs"
        detail = f" ({', '.join(changed)})" if changed else ", nothing changed"
        return f"Your music library is up to date: {songs}{detail}."


class LibraryIndex:
    """A MusicLibrary with at most one scan running, its progress, and who wants to hear of it."""

    def __init__(self, library: MusicLibrary) -> None:
        self.library = library
        self.progress = (0, 0)
        """(files done, files found) of the running or last scan."""
        self.announce_when_done = False
        """Someone asked for the scan and was told to wait: say the result when it ends."""
        self._task: asyncio.Task[ScanReport] | None = None
        self._scanned: list[str] | None = None
        """The folders this process has fully scanned, so a handler need not ask the store."""

    @property
    def running(self) -> asyncio.Task[ScanReport] | None:
        """The scan in progress on the running loop, if any."""
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return None
        return task

    async def count(self) -> int:
        """Number of indexed tracks."""
        return await asyncio.to_thread(self.library.count)

    async def needs_scan(self, ctx: SkillContext, settings: Settings) -> bool:
        """True when the index was never scanned for the configured folders."""
        folders = settings.folder_names()
        if self._scanned == folders:
            return False
        marker = await ctx.store.get(_MARKER)
        return not (
            isinstance(marker, dict)
            and marker.get("db") == str(self.library.db_path)
            and marker.get("folders") == folders
        )

    def scan(self, ctx: SkillContext, settings: Settings) -> asyncio.Task[ScanReport]:
        """The running scan, or a new one of the configured folders (a task owned here)."""
        task = self.running
        if task is None:
            task = asyncio.create_task(self._scan(ctx, settings), name="music-scan")
            task.add_done_callback(_log_failure(ctx.log))
            self._task = task
        return task

    async def _scan(self, ctx: SkillContext, settings: Settings) -> ScanReport:
        log = ctx.log
        abort = threading.Event()
        self.progress = (0, 0)
        last_logged = -1

        def progress(done: int, total: int) -> None:
            # Runs in the scanning thread: raising here is the only way to end a scan early.
            nonlocal last_logged
            if abort.is_set():
                raise _ScanAborted
            self.progress = (done, total)
            tenth = done * 10 // total if total else 10
            if done and tenth != last_logged:
                last_logged = tenth
                log.info("music scan: %d/%d files (%d%%)", done, total, done * 100 // max(1, total))

        log.info("scanning music in %s", ", ".join(settings.folder_names()))
        start = time.monotonic()
        try:
            stats = await asyncio.to_thread(self.library.scan, list(settings.folders), progress)
        except BaseException:
            abort.set()  # cancelled (shutdown, or a one-shot command ending): stop the thread too
            self.announce_when_done = False
            raise
        report = ScanReport(stats, await self.count(), time.monotonic() - start)
        log.info(
            "music scan done in %.1f s: %d songs (%d added, %d updated, %d removed, %d unchanged), "
            "%d unreadable",
            report.seconds,
            report.songs,
            stats.added,
            stats.updated,
            stats.removed,
            stats.unchanged,
            len(stats.failed),
        )
        for path, why in stats.failed[:_FAILURES_LOGGED]:
            log.warning("music scan skipped %s: %s", path, why)
        if len(stats.failed) > _FAILURES_LOGGED:
            log.warning("music scan skipped %d more", len(stats.failed) - _FAILURES_LOGGED)
        folders = settings.folder_names()
        await ctx.store.put(
            _MARKER,
            {
                "db": str(self.library.db_path),
                "folders": folders,
                "at": ctx.now().isoformat(timespec="seconds"),
                "songs": report.songs,
            },
        )
        self._scanned = folders
        if self.announce_when_done:
            self.announce_when_done = False
            await ctx.alerts.announce(report.spoken())
        return report


def _log_failure(log: logging.Logger) -> Callable[[asyncio.Task[ScanReport]], None]:
    def done(task: asyncio.Task[ScanReport]) -> None:
        # Retrieving the exception here also keeps asyncio from warning that nobody did.
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("music scan failed: %s", exc, exc_info=exc)

    return done


_indexes: dict[Path, LibraryIndex] = {}
_opening = threading.Lock()


def _open(db_path: Path) -> LibraryIndex:
    with _opening:
        index = _indexes.get(db_path)
        if index is None:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            index = _indexes[db_path] = LibraryIndex(MusicLibrary(db_path))
        return index


async def index_for(ctx: SkillContext) -> LibraryIndex:
    """The library in this skill's state directory, opened once per process."""
    if ctx.state_dir is None:
        raise RuntimeError("the music skill needs a state directory for its index")
    db_path = Path(ctx.state_dir) / "library.db"
    index = _indexes.get(db_path)
    if index is not None:
        return index
    return await asyncio.to_thread(_open, db_path)
