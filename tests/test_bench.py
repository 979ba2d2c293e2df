"""The benchmark end to end on a tiny corpus, and its corpus loading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.bench.corpus import BenchError, load_corpus

SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"


def test_corpus_reads_expectations_and_refuses_strays(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "what_time_is_it.wav", tmp_path / "a.wav")
    shutil.copy(SAMPLES / "tell_me_a_joke.wav", tmp_path / "b.wav")
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / "expected.tsv").write_text("file\ttranscript\tskill\na.wav\tWhat time is it?\tclock\n")
    samples = load_corpus(tmp_path)
    assert [s.path.name for s in samples] == ["a.wav", "b.wav"]
    assert (samples[0].transcript, samples[0].skill, samples[0].skill_known) == (
        "What time is it?",
        "clock",
        True,
    )
    assert (samples[1].transcript, samples[1].skill_known) == (None, False)
    (tmp_path / "expected.tsv").write_text("file\ttranscript\tskill\nmissing.wav\tx\t\n")
    with pytest.raises(BenchError, match=r"expected.tsv:2: no audio file named 'missing.wav'"):
        load_corpus(tmp_path)
    with pytest.raises(BenchError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BenchError, match="no audio files"):
        load_corpus(empty)


def test_bench_runs_ours_and_the_baseline_and_plots(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLES / "what_time_is_it.wav", corpus / "what_time_is_it.wav")
    (corpus / "expected.tsv").write_text(
        "file\ttranscript\tskill\nwhat_time_is_it.wav\tWhat time is it?\tclock\n"
    )
    plot = tmp_path / "waterfall.html"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "bench",
            str(corpus),
            "--baseline",
            "--json",
            "--plot",
            str(plot),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {"summary", "baseline", "ratio", "turns"} <= set(report)
    turns = report["turns"]
    assert [(t["pipeline"], t["file"]) for t in turns] == [
        ("ours", "what_time_is_it.wav"),
        ("baseline", "what_time_is_it.wav"),
    ]
    for summary in (report["summary"], report["baseline"]):
        assert summary["turns"] == 1
        assert summary["skill_accuracy"] == 1.0
        assert summary["wer"] == 0.0
        assert summary["voice_to_voice_ms"]["p50"] == summary["skill"]["voice_to_voice_ms"]["p50"] > 0
        assert summary["rss_mb"] > 0 and summary["cpu_s_per_turn"] > 0
    ours, base = report["summary"], report["baseline"]
    expected_ratio = round(base["voice_to_voice_ms"]["p50"] / ours["voice_to_voice_ms"]["p50"], 2)
    assert report["ratio"]["voice_to_voice_p50"] == expected_ratio
    # The baseline waits its fixed 800 ms of silence; paced input makes that real.
    assert turns[1]["timings_ms"]["endpoint"] >= 780
    page = plot.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "what_time_is_it.wav" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained


def test_bench_refuses_bad_arguments(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "bench", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "corpus folder not found" in proc.stderr


def test_the_bench_leaves_the_persons_timers_and_alarms_alone(tmp_path: Path) -> None:
    """Its commands set real timers, in a throwaway state directory: none lands in the user's."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLES / "set_a_timer.wav", corpus / "set_a_timer.wav")
    state = tmp_path / "state"
    env = {**os.environ, "XDG_STATE_HOME": str(state), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "bench", str(corpus), "--runs", "2", "--no-pace", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    turns = json.loads(proc.stdout)["turns"]
    assert [(t["skill"], t["action"]) for t in turns] == [("timers", "start")] * 2
    assert not (state / "hearkend").exists()
