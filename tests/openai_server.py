"""Servers for the remote-model tests: llama-cpp-python's real OpenAI-compatible server, and a
small local one that speaks the same streaming format with scripted content and faults."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from aiohttp import web


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(model: Path, *, threads: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m llama_cpp.server`` on loopback with tool calling; yields its /v1 URL and process."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        *("--model", str(model), "--chat_format", "chatml-function-calling"),
        *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads)),
    ]
    # Its log goes to a file: a pipe nobody reads fills up and would stall the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (it must outlive this statement: closed in finally)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"llama_cpp.server exited: {log.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not start within 180 s")
            time.sleep(0.3)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One server-sent event in the chat-completions streaming format."""
    body = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class ScriptedOpenAi:
    """A chat-completions endpoint that streams what a test scripted (or misbehaves as told)."""

    def __init__(self) -> None:
        self.events: list[bytes] = []
        self.status = 200
        self.stall_s = 0.0
        self.requests: list[dict[str, Any]] = []
        self.whole: dict[str, Any] = {}
        """The body of a non-streamed answer."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.json())
        if self.stall_s:
            await asyncio.sleep(self.stall_s)
        if self.status != 200:
            return web.Response(status=self.status, text="model overloaded")
        if not self.requests[-1].get("stream"):
            return web.json_response(self.whole)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for event in self.events:
            await response.write(event)
        await response.write_eof()
        return response


@asynccontextmanager
async def scripted_openai() -> AsyncIterator[tuple[str, ScriptedOpenAi]]:
    """Serve a ScriptedOpenAi on loopback; yields its /v1 URL and the script."""
    script = ScriptedOpenAi()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", script.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/v1", script
    finally:
        await runner.cleanup()
