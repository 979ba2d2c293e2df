"""The state store: one SQLite database under the state directory, safe for several processes."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

DB_NAME = "state.db"
_BUSY_TIMEOUT_MS = 10_000


class StoreError(AssistantError):
    """The state database cannot be opened or written."""

    code = "store"


def connect(state_dir: Path) -> sqlite3.Connection:
    """Open the state database: WAL so readers never block the writer, FULL sync so a kill or
    power loss never loses a committed write, and a busy timeout so two processes take turns."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{state_dir}: cannot create the state directory: {exc.strerror}") from None
    path = state_dir / DB_NAME
    try:
        conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the state database: {exc}") from None
    return conn


class KeyValueStore:
    """JSON values by (namespace, key): the per-skill persistent store and small daemon state."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / DB_NAME
        self._conn = connect(state_dir)
        self._lock = threading.Lock()
        with self._conn:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kv ("
                " namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                " PRIMARY KEY (namespace, key))"
            )

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The stored value, or ``default`` when there is none."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Store ``value`` (anything JSON can hold), replacing what was there, durably."""
        try:
            encoded = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"cannot store {namespace}/{key}: value is not JSON ({exc})") from None
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
                (namespace, key, encoded),
            )

    def delete(self, namespace: str, key: str) -> bool:
        """Remove a key; True when it existed."""
        with self._lock, self._conn:
            cursor = self._conn.execute("DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key))
        return cursor.rowcount > 0

    def items(self, namespace: str) -> dict[str, Any]:
        """Every key and value in a namespace."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, value FROM kv WHERE namespace = ? ORDER BY key", (namespace,)
            ).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()
