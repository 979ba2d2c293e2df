"""Run blocking model work in owned worker threads and bridge its results back to asyncio."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.05
_DONE = object()


class Worker:
    """One dedicated thread for one model: models are not thread-safe, and one thread each keeps
    the CPU split between stages predictable on a two-core machine."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._jobs = 0
        self._jobs_lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """Whether work handed to this worker is queued or still running on its thread."""
        with self._jobs_lock:
            return self._jobs > 0

    def _submit(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        with self._jobs_lock:
            self._jobs += 1
        try:
            job = self._pool.submit(fn)
        except BaseException:  # a closed pool refuses work: it was never counted as running
            self._job_done(None)
            raise
        # Counted until the thread is done with it (or it was cancelled before starting): a
        # cancelled awaiting coroutine does not stop the thread, and "busy" must say so.
        job.add_done_callback(self._job_done)
        return asyncio.wrap_future(job, loop=loop)

    def _job_done(self, _job: object) -> None:
        with self._jobs_lock:
            self._jobs -= 1

    async def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on this worker's thread and await its result without blocking the loop."""
        return await self._submit(fn)

    async def stream(
        self, make: Callable[[threading.Event], Iterator[T]], maxsize: int = 64
    ) -> AsyncGenerator[T, None]:
        """Iterate a blocking generator on this worker's thread; stopping early cancels it.

        ``make`` receives an Event that is set when the consumer stops; long-running generators
        check it between items so cancelled work ends promptly.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=maxsize)
        stop = threading.Event()

        def deliver(item: object) -> bool:
            future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            while True:
                try:
                    future.result(timeout=_POLL_S)
                    return True
                except concurrent.futures.TimeoutError:
                    if stop.is_set():
                        future.cancel()
                        return False

        def produce() -> None:
            try:
                for item in make(stop):
                    if stop.is_set() or not deliver(item):
                        return
            except BaseException as exc:  # handed to the consumer, which re-raises it
                deliver(_Failure(exc))
                return
            deliver(_DONE)

        job = self._submit(produce)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.exc
                yield item  # type: ignore[misc]
        finally:
            stop.set()
            # Let the thread finish its current step so the model is free for the next caller.
            await asyncio.shield(job)

    def close(self) -> None:
        """Stop accepting work; running work finishes in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
