"""The state store: durable, shared by processes without corruption, bad values refused."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.store import DB_NAME, KeyValueStore, StoreError

WRITER = """
import sys
from pathlib import Path
from assistant.store import KeyValueStore
store = KeyValueStore(Path(sys.argv[1]))
name = sys.argv[2]
for i in range(300):
    store.put("shared", f"{name}-{i}", {"i": i, "by": name})
    counter = store.get("shared", "counter", 0)
    store.put(name, "last", i)
store.close()
"""


def test_values_round_trip_and_survive_reopening(tmp_path: Path) -> None:
    store = KeyValueStore(tmp_path)
    store.put("timers", "tea", {"seconds": 180, "name": "tea"})
    store.put("timers", "egg", [1, 2])
    assert store.get("timers", "tea") == {"seconds": 180, "name": "tea"}
    assert store.delete("timers", "egg") is True
    assert store.delete("timers", "egg") is False
    store.close()
    again = KeyValueStore(tmp_path)
    assert again.items("timers") == {"tea": {"seconds": 180, "name": "tea"}}
    assert again.get("timers", "nope", "default") == "default"
    again.close()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    KeyValueStore(tmp_path).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name]) for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = KeyValueStore(tmp_path)
    shared = store.items("shared")
    assert len(shared) == 600
    assert store.get("a", "last") == 299 and store.get("b", "last") == 299
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_a_value_json_cannot_hold_is_refused_and_the_old_one_kept(tmp_path: Path) -> None:
    store = KeyValueStore(tmp_path)
    store.put("ns", "k", 1)
    with pytest.raises(StoreError, match="ns/k"):
        store.put("ns", "k", object())
    assert store.get("ns", "k") == 1
    store.close()


def test_unwritable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the state directory"):
        KeyValueStore(blocker / "state")
