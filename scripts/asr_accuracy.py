#!/usr/bin/env python3
"""Word error rate and time of the recognizer's decoding settings on synthesized commands.

Speaks phrases of tests/data/phrases.tsv with the embedded piper voice at three paces and with
espeak-ng (when installed), optionally under room noise, then transcribes each with several
settings: our short window of a few sizes (greedy), whisper's own 30 s window (greedy), and
faster-whisper's defaults (beam 5, the bench's baseline). Prints WER and median time per setting.

    scripts/asr_accuracy.py [--phrases N] [--noise-db SNR] [--windows 6,8,10,15]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.asr import WhisperAsr
from assistant.audio.files import read_audio_file
from assistant.bench.baseline import DEFAULT_WHISPER
from assistant.bench.stats import word_error_rate
from assistant.config import load_config
from assistant.models import resolve_model
from assistant.paths import data_dir
from assistant.speak.tts import PiperTts

ROOT = Path(__file__).resolve().parent.parent


def _phrases(count: int, seed: int) -> list[str]:
    with (ROOT / "tests" / "data" / "phrases.tsv").open(encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")][1:]
    texts = sorted({r[0] for r in rows})
    random.Random(seed).shuffle(texts)
    return texts[:count]


def _resample(pcm: bytes, rate: int) -> bytes:
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    n = int(len(audio) * 16000 / rate)
    out = np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio)
    return out.astype(np.int16).tobytes()


def _with_noise(pcm: bytes, snr_db: float | None, rng: np.random.Generator) -> bytes:
    if snr_db is None:
        return pcm
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    power = float(np.mean(audio**2)) or 1.0
    noise = rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), audio.size)
    return np.clip(audio + noise, -32768, 32767).astype(np.int16).tobytes()


def _speak(texts: list[str], snr_db: float | None) -> list[tuple[str, str, bytes]]:
    """(voice, text, 16 kHz PCM with a little silence around) for every phrase and voice."""
    config = load_config(None)
    rng = np.random.default_rng(7)
    pad = bytes(16000 // 5 * 2)
    out: list[tuple[str, str, bytes]] = []
    for pace in (0.85, 1.0, 1.2):
        tts_config = dataclasses.replace(config.tts, length_scale=pace)
        tts = PiperTts(resolve_model(config.tts.voice, "tts", data_dir()), tts_config)
        tts.load()
        for text in texts:
            pcm = _resample(tts.synthesize_sync(text), tts.sample_rate)
            out.append((f"piper x{pace}", text, _with_noise(pad + pcm + pad, snr_db, rng)))
    if shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as tmp:
            for i, text in enumerate(texts):
                wav = Path(tmp) / f"{i}.wav"
                subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), text], check=True)
                pcm = read_audio_file(wav)
                out.append(("espeak-ng", text, _with_noise(pad + pcm + pad, snr_db, rng)))
    return out


def main() -> int:
    """Print WER and median time per decoding setting."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrases", type=int, default=40)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--noise-db", type=float, default=None, help="signal-to-noise ratio of added noise")
    parser.add_argument("--windows", default="6,8,10,15")
    parser.add_argument("--beams", default="1", help="beam sizes to try with each window")
    parser.add_argument("--no-baseline", action="store_true", help="skip the 30 s settings")
    parser.add_argument("--show", action="store_true", help="print every wrong transcript")
    args = parser.parse_args()
    config = load_config(None)
    samples = _speak(_phrases(args.phrases, args.seed), args.noise_db)
    print(f"{len(samples)} utterances", file=sys.stderr)
    settings: list[tuple[str, float, int, dict[str, object] | None]] = [
        (f"window {w} s beam {b}", float(w), int(b), None)
        for w in args.windows.split(",")
        for b in args.beams.split(",")
    ]
    if not args.no_baseline:
        settings += [
            ("window 30 s greedy", 30.0, 1, None),
            ("baseline (beam 5, 30 s)", 30.0, 5, DEFAULT_WHISPER),
        ]
    for label, window, beam, options in settings:
        asr_config = dataclasses.replace(config.asr, window_s=window, beam_size=beam)
        asr = WhisperAsr(resolve_model(config.asr.model, "asr", data_dir()), asr_config)
        asr.load()
        pairs: list[tuple[str, str]] = []
        times: list[float] = []
        for voice, text, pcm in samples:
            start = time.perf_counter()
            heard = asr.transcribe_sync(pcm, options)
            times.append((time.perf_counter() - start) * 1000)
            pairs.append((text, heard.text))
            if args.show and word_error_rate([(text, heard.text)]):
                print(f"    {voice:<11} {text!r} -> {heard.text!r}")
        wer = word_error_rate(pairs) or 0.0
        wrong = sum(1 for ref, hyp in pairs if word_error_rate([(ref, hyp)]))
        print(
            f"{label:<26} WER {wer * 100:5.1f} %   wrong {wrong:3d}/{len(pairs)}   "
            f"median {statistics.median(times):5.0f} ms"
        )
        asr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
