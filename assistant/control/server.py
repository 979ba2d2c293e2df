"""The daemon's end of the control socket: a private Unix socket, one request per connection.

Only the daemon's own user (and root) can connect: the socket file is made 0600 before the
socket listens, and each peer's uid is checked again (SO_PEERCRED) in case the mode is changed.
A lock file beside the socket says which daemon owns it, so a socket left by a killed daemon is
replaced at once, while a running daemon's socket is never taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import stat
import struct
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from assistant.control import protocol
from assistant.control.protocol import ControlError, Request
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Mapping[str, Any]]]

READ_TIMEOUT_S = 10.0
"""A client that sends no complete request within this long is answered ``timeout``."""
MAX_CLIENTS = 16
"""Connections served at once; more are answered ``busy`` (a runaway script cannot pile up work)."""
_BACKLOG = 16
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes with its terminating NUL


class ControlSetupError(AssistantError):
    """The control socket cannot be created where it should be."""

    code = "control"


class ControlServer:
    """Serves requests on a Unix socket; ``handle`` answers each one."""

    def __init__(self, path: Path, handle: Handler) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._handle = handle
        self._server: asyncio.AbstractServer | None = None
        self._lock_fd: int | None = None
        self._inode: tuple[int, int] | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    @property
    def listening(self) -> bool:
        """True once the socket accepts requests."""
        return self._server is not None

    async def start(self) -> bool:
        """Create the socket and serve; False (and a warning) when another daemon holds it."""
        sock = await asyncio.to_thread(self._bind)
        if sock is None:
            return False
        try:
            self._server = await asyncio.start_unix_server(
                self._on_connect, sock=sock, limit=protocol.MAX_REQUEST_BYTES
            )
        except BaseException:
            sock.close()
            self._release()
            raise
        log.info("control socket listening at %s", self.path)
        return True

    async def aclose(self) -> None:
        """Stop serving, end the requests in progress, remove the socket and release its lock."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            clients = list(self._clients)
            for task in clients:
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
            await server.wait_closed()
        self._release()

    # -- setting up (blocking; runs in a thread) -----------------------------------------------

    def _bind(self) -> socket.socket | None:
        path = self.path
        if len(os.fsencode(path)) > _SUN_PATH_MAX:
            raise ControlSetupError(
                f"{path}: control socket path is longer than {_SUN_PATH_MAX} bytes; "
                "choose a shorter --runtime-dir"
            )
        _private_dir(path.parent)
        if not self._lock():
            return None
        try:
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                pass
            else:
                if not stat.S_ISSOCK(st.st_mode):
                    raise ControlSetupError(
                        f"{path} exists and is not a socket; remove it or choose another --runtime-dir"
                    )
                # We hold the lock, so no running daemon owns this socket: one was killed.
                os.unlink(path)
                log.info("replaced the stale control socket %s (its daemon did not exit cleanly)", path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(str(path))
                # Private before it listens (until listen() every connect is refused). chmod, not
                # umask: the umask is process-wide and would race files other threads create.
                os.chmod(path, 0o600)
                sock.listen(_BACKLOG)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                raise ControlSetupError(f"{path}: cannot create the control socket: {exc.strerror}") from None
            st = os.stat(path)
            self._inode = (st.st_dev, st.st_ino)
            return sock
        except BaseException:
            self._release()
            raise

    def _lock(self) -> bool:
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ControlSetupError(
                f"{self.lock_path}: cannot create the lock file: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            log.warning(
                "another hearkend daemon (pid %s) already serves the control socket %s; this one runs "
                "without control commands (assistant status, say, ...). Two daemons on one "
                "microphone answer twice: stop one, or give this one its own --runtime-dir",
                holder,
                self.path,
            )
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        return True

    def _release(self) -> None:
        inode, self._inode = self._inode, None
        if inode is not None:
            # Only our own socket: a later daemon may have replaced it (after a kill of ours).
            with contextlib.suppress(FileNotFoundError):
                st = os.lstat(self.path)
                if (st.st_dev, st.st_ino) == inode:
                    os.unlink(self.path)
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            # The lock file stays: removing it would let two daemons lock different files.
            os.close(fd)

    # -- serving -------------------------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            answer = await self._answer(reader, writer)
            if answer:
                writer.write(answer)
                await writer.drain()
        except OSError as exc:
            log.debug("control client went away: %s", exc)
        finally:
            self._clients.discard(task)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        uid = _peer_uid(writer)
        if uid is not None and uid not in (os.getuid(), 0):
            log.warning("control connection from uid %d refused (not this daemon's user)", uid)
            return protocol.encode_error(ControlError(protocol.FORBIDDEN, "not this daemon's user"))
        if len(self._clients) > MAX_CLIENTS:
            return protocol.encode_error(
                ControlError(protocol.BUSY, f"{MAX_CLIENTS} requests are in progress; try again")
            )
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = exc.partial  # a request without its newline, then EOF: still a request
            if not line.strip():
                return b""  # connected and left without asking anything
        except asyncio.LimitOverrunError:
            return protocol.encode_error(
                ControlError(protocol.TOO_LARGE, f"request is longer than {protocol.MAX_REQUEST_BYTES} bytes")
            )
        except TimeoutError:
            return protocol.encode_error(
                ControlError(protocol.TIMEOUT, f"no complete request line within {READ_TIMEOUT_S:.0f} s")
            )
        try:
            request = protocol.decode_request(line)
            result = await self._handle(request)
        except ControlError as exc:
            log.info("control request refused: %s (%s)", exc.message, exc.code)
            return protocol.encode_error(exc)
        except Exception as exc:
            log.exception("control request failed")
            return protocol.encode_error(ControlError(protocol.FAILED, f"{type(exc).__name__}: {exc}"))
        return protocol.encode_result(result)


def _private_dir(directory: Path) -> None:
    """Create the socket's directory (0700), or check an existing one is ours and not shared."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = directory.stat()
    except OSError as exc:
        raise ControlSetupError(f"{directory}: cannot create the runtime directory: {exc.strerror}") from None
    if st.st_uid != os.getuid():
        raise ControlSetupError(
            f"{directory} belongs to another user (uid {st.st_uid}); the control socket must live in "
            "a directory of the daemon's own user (choose one with --runtime-dir)"
        )
    if st.st_mode & 0o022:
        raise ControlSetupError(
            f"{directory} is writable by other users, who could replace the control socket; "
            "make it private (chmod 700) or choose another --runtime-dir"
        )


def _peer_uid(writer: asyncio.StreamWriter) -> int | None:
    """The connecting process's uid (Linux SO_PEERCRED); None where the platform cannot tell."""
    sock = writer.get_extra_info("socket")
    peercred = getattr(socket, "SO_PEERCRED", None)
    if sock is None or peercred is None:
        return None
    size = struct.calcsize("3i")
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, peercred, size))
    return int(uid)
