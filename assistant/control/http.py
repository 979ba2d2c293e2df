"""The loopback HTTP endpoint: ``/metrics`` for Prometheus and ``/health`` for probes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from assistant.control.prometheus import CONTENT_TYPE
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

_SHUTDOWN_S = 1.0  # a scrape in progress at exit gets this long; SIGTERM must end within 5 s


class HttpSetupError(AssistantError):
    """The HTTP endpoint cannot listen where the config says."""

    code = "http"


class HttpEndpoint:
    """Serves ``/metrics`` (from ``metrics()``) and ``/health`` (from ``health()``)."""

    def __init__(
        self,
        host: str,
        port: int,
        metrics: Callable[[], str],
        health: Callable[[], tuple[bool, dict[str, Any]]],
    ) -> None:
        self.host = host
        self.port = port
        self._metrics = metrics
        self._health = health
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; a port that cannot be had fails the start, naming it."""
        app = web.Application()
        app.router.add_get("/metrics", self._get_metrics)
        app.router.add_get("/health", self._get_health)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=_SHUTDOWN_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise HttpSetupError(
                f"http: cannot listen on {self.host}:{self.port} (config http.host/http.port): "
                f"{exc.strerror or exc}"
            ) from None
        self._runner = runner
        log.info("serving /metrics and /health on http://%s:%d", self.host, self.port)

    async def aclose(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _get_metrics(self, request: web.Request) -> web.Response:
        response = web.Response(text=self._metrics())
        # Set whole: aiohttp's content_type argument refuses a charset inside it.
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    async def _get_health(self, request: web.Request) -> web.Response:
        ok, body = self._health()
        return web.json_response(body, status=200 if ok else 503)
