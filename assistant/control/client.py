"""The command line's end of the control socket: send one request, wait for its answer."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant import paths
from assistant.control import protocol
from assistant.control.protocol import ControlError
from assistant.errors import AssistantError

CONNECT_TIMEOUT_S = 5.0
QUICK_TIMEOUT_S = 15.0
"""Answer wait for commands that only read or flip state."""
TURN_TIMEOUT_S = 180.0
"""Answer wait for ``ask`` and ``say``, which finish only once the reply has been spoken."""


class DaemonNotRunning(AssistantError):
    """No daemon answers on the control socket."""

    code = "no-daemon"
    exit_code = 2


class DaemonError(AssistantError):
    """The daemon answered with an error."""

    code = "daemon"

    def __init__(self, error: ControlError) -> None:
        super().__init__(error.message)
        self.error_code = error.code
        """The protocol's error code (``unknown_command``, ``unavailable``, ...)."""


def socket_path(runtime_dir: str | os.PathLike[str] | None = None) -> Path:
    """The socket to connect to: the given runtime directory's, else ours, else the system service's."""
    own = paths.control_socket(runtime_dir)
    if runtime_dir is not None:
        return own
    system = paths.SYSTEM_RUNTIME_DIR / paths.CONTROL_SOCKET
    # `sudo assistant status` on a machine running the system service finds that one.
    if not own.exists() and system.exists():
        return system
    return own


async def request(
    cmd: str,
    args: Mapping[str, Any] | None = None,
    *,
    runtime_dir: str | os.PathLike[str] | None = None,
    timeout_s: float = QUICK_TIMEOUT_S,
) -> dict[str, Any]:
    """Send one request to the running daemon and return its result."""
    path = socket_path(runtime_dir)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            reader, writer = await asyncio.open_unix_connection(str(path), limit=protocol.MAX_RESPONSE_BYTES)
    except (FileNotFoundError, ConnectionRefusedError):
        raise DaemonNotRunning(f"no daemon running at {path}: start it with `assistant run`") from None
    except PermissionError:
        raise DaemonNotRunning(
            f"cannot connect to {path}: permission denied (the daemon runs as another user; "
            "run this command as that user, or as root)"
        ) from None
    except TimeoutError:
        raise DaemonNotRunning(f"the daemon at {path} does not accept connections (busy or hung)") from None
    except OSError as exc:
        raise DaemonNotRunning(f"cannot connect to {path}: {exc.strerror or exc}") from None
    try:
        writer.write(protocol.encode_request(cmd, args))
        await writer.drain()
        async with asyncio.timeout(timeout_s):
            line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError:
        raise AssistantError("the daemon closed the connection without answering (did it stop?)") from None
    except asyncio.LimitOverrunError:
        raise AssistantError(
            f"the daemon's answer is longer than {protocol.MAX_RESPONSE_BYTES} bytes"
        ) from None
    except TimeoutError:
        raise AssistantError(f"no answer from the daemon within {timeout_s:.0f} s") from None
    except OSError as exc:
        raise AssistantError(f"lost the connection to the daemon: {exc.strerror or exc}") from None
    finally:
        writer.close()
    try:
        return protocol.decode_response(line)
    except ControlError as exc:
        raise DaemonError(exc) from None
