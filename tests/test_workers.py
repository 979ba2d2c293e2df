"""Worker threads bridged to asyncio: results, errors, early stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from assistant.workers import Worker


async def test_call_runs_off_the_loop_thread() -> None:
    worker = Worker("test")
    name = await worker.call(lambda: threading.current_thread().name)
    assert name.startswith("test") and name != threading.current_thread().name
    worker.close()


async def test_stream_delivers_items_in_order_and_reraises_errors() -> None:
    worker = Worker("test")

    def numbers(stop: threading.Event) -> Iterator[int]:
        yield from range(5)
        raise ValueError("model broke")

    got = []
    with pytest.raises(ValueError, match="model broke"):
        async for n in worker.stream(numbers):
            got.append(n)
    assert got == [0, 1, 2, 3, 4]
    worker.close()


async def test_closing_the_stream_stops_the_producer() -> None:
    worker = Worker("test")
    produced = []

    def endless(stop: threading.Event) -> Iterator[int]:
        i = 0
        while not stop.is_set():
            produced.append(i)
            yield i
            i += 1
            time.sleep(0.001)

    stream = worker.stream(endless, maxsize=2)
    async for n in stream:
        if n == 3:
            break
    await stream.aclose()
    count = len(produced)
    await asyncio.sleep(0.05)
    assert len(produced) == count  # nothing more after the consumer left
    assert count < 10
    # The worker is free again for the next job.
    assert await worker.call(lambda: 42) == 42
    worker.close()
