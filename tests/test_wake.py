"""The wake word (real microWakeWord models), listening modes, follow-up and push-to-talk.

Spoken input is piper's joe voice (tests/data/wake_*.wav, made by scripts/make_samples.py, and
the bundled command samples). Listener tests run on a made-up clock, 30 ms a frame, so the
timeouts are exact and the tests fast; session tests run the real recogniser and skills.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

from assistant import paths
from assistant.audio.files import read_audio_file
from assistant.audio.sinks import MemorySink
from assistant.audio.sources import BufferSource
from assistant.config import Config, WakeConfig, parse_config, render_config
from assistant.errors import AudioFileError, ConfigError, ModelError
from assistant.frames import FRAME_BYTES, AudioChunk, SpeechEnded, WakeDetected
from assistant.listen.endpoint import Endpointer, EndpointSettings
from assistant.listen.vad import Vad
from assistant.listen.wake import WakeWordDetector
from assistant.listening import Listener
from assistant.models import resolve_model
from assistant.runtime import Runtime
from assistant.session import Session
from assistant.speak.sounds import load_sound
from assistant.understand.intents import normalize_text as normalize

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"
MODELS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")
T0 = 1000.0
"""Start of the made-up clock of listener tests."""


def audio(name: str) -> bytes:
    """A test recording as 16 kHz mono s16le."""
    path = DATA / name if (DATA / name).exists() else SAMPLES / name
    return read_audio_file(path)


def silence(seconds: float) -> bytes:
    return bytes(2 * round(16000 * seconds))


def detector(model: str = "okay_nabu", **settings: float | None) -> WakeWordDetector:
    return WakeWordDetector(resolve_model(model, "wake", paths.data_dir()), **settings)  # type: ignore[arg-type]


def detections(det: WakeWordDetector, pcm: bytes, chunk: int = FRAME_BYTES) -> list[WakeDetected]:
    """Feed ``pcm`` in pieces of ``chunk`` bytes, each stamped with the time of its last sample."""
    heard = []
    for start in range(0, len(pcm), chunk):
        piece = pcm[start : start + chunk]
        event = det.feed(piece, (start + len(piece)) / 32000)
        if event is not None:
            heard.append(event)
    return heard


# --- the detector on its own ------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_each_model_hears_its_own_wake_word_once_and_no_other(model: str) -> None:
    for spoken in MODELS:
        phrase = audio(f"wake_{spoken}.wav")
        pcm = silence(0.5) + phrase + silence(1.0)
        heard = detections(detector(model), pcm)
        if spoken != model:
            assert heard == [], f"{model} woke on {spoken}"
            continue
        assert len(heard) == 1, f"{model} did not hear its own phrase once: {heard}"
        (wake,) = heard
        assert wake.model == model
        assert wake.probability > detector(model).probability_cutoff
        # Heard as the phrase ends, not later in the silence after it.
        assert 0.5 + 0.3 < wake.t <= 0.5 + len(phrase) / 32000 + 0.3


@pytest.mark.parametrize("model", MODELS)
def test_no_model_wakes_on_commands_silence_or_noise(model: str) -> None:
    names = [*sorted(p.name for p in SAMPLES.glob("*.wav")), "silence.wav", "noise.wav"]
    assert len(names) >= 17
    det = detector(model)
    woke = {name: detections(det, silence(0.3) + audio(name) + silence(0.5)) for name in names}
    assert {name: w for name, w in woke.items() if w} == {}
    assert det.max_probability <= det.probability_cutoff


def test_wake_word_followed_by_a_command_is_heard_with_or_without_a_pause() -> None:
    for name in ("wake_okay_nabu_what_time.wav", "wake_okay_nabu_same_breath.wav"):
        assert len(detections(detector(), silence(0.3) + audio(name) + silence(0.5))) == 1, name


def test_the_detector_computes_exactly_what_the_library_does() -> None:
    """Features and inference run in our code for speed; the probabilities must not change."""
    pcm = silence(0.3) + audio("wake_okay_nabu_what_time.wav") + silence(0.5)
    reference = MicroWakeWord.from_config(
        resolve_model("okay_nabu", "wake", paths.data_dir()).with_suffix(".json")
    )
    features = MicroWakeWordFeatures()
    det = detector()
    steps, expected, compared = 0, 0.0, 0
    for start in range(0, len(pcm), FRAME_BYTES):
        frame = pcm[start : start + FRAME_BYTES]
        for f in features.process_streaming(frame):
            p = reference.process_streaming_prob(f)
            steps += 1
            if steps % reference.stride == 0:  # the other steps only collect features
                expected = p or 0.0
        det.feed(frame, start / 32000)
        assert det.probability == pytest.approx(expected, abs=1e-6), start
        compared += expected > 0
    assert compared > 50 and det.max_probability > 0.9


def test_how_the_audio_is_cut_into_pieces_does_not_matter() -> None:
    pcm = silence(0.4) + audio("wake_okay_nabu.wav") + silence(0.6)
    (reference,) = detections(detector(), pcm)
    for chunk in (320, 1234, 4000):  # 10 ms, an odd size, 125 ms
        (wake,) = detections(detector(), pcm, chunk)
        # Features come every 10 ms whatever the chunks; only the time stamp's grain differs.
        assert wake.probability == reference.probability
        assert abs(wake.t - reference.t) < chunk / 32000 + 0.001


def test_refractory_period_suppresses_a_double_trigger() -> None:
    once = audio("wake_okay_nabu.wav")
    twice = silence(0.4) + once + silence(0.3) + once + silence(0.8)
    assert len(detections(detector(refractory_s=2.0), twice)) == 1
    # Without the refractory period the second "okay nabu" is a second detection: it was the
    # refractory period that held it back, and one utterance of it still counts once.
    assert len(detections(detector(refractory_s=0.0), twice)) == 2
    spaced = silence(0.4) + once + silence(2.5) + once + silence(0.8)
    assert len(detections(detector(refractory_s=2.0), spaced)) == 2


def test_probability_cutoff_sets_the_sensitivity() -> None:
    pcm = silence(0.4) + audio("wake_okay_nabu.wav") + silence(0.6)
    default = detector()
    assert default.probability_cutoff == 0.85  # okay_nabu.json's own
    assert len(detections(default, pcm)) == 1
    # Above the highest probability it reached, the same audio no longer wakes it.
    assert default.max_probability < 0.999
    assert detections(detector(probability_cutoff=default.max_probability + 0.0005), pcm) == []
    assert len(detections(detector(probability_cutoff=0.5), pcm)) == 1


def test_detector_costs_little_cpu() -> None:
    det = detector()
    pcm = (silence(0.2) + audio("wake_okay_nabu_what_time.wav") + audio("noise.wav")) * 4
    seconds = len(pcm) / 32000
    start = time.process_time()
    detections(det, pcm)
    used = time.process_time() - start
    # About 6 ms per second of audio on this machine; 3 % of a core leaves room for a busy CI.
    assert used / seconds < 0.03, f"{1000 * used / seconds:.1f} ms CPU per second of audio"


def test_unknown_wake_model_is_an_error_listing_the_choices() -> None:
    with pytest.raises(ModelError) as caught:
        resolve_model("okay_naboo", "wake", paths.data_dir())
    message = str(caught.value)
    assert "wake.model" in message and "okay_naboo" in message
    for model in MODELS:
        assert model in message


def test_a_file_that_is_not_a_wake_model_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"this is not a model at all")
    with pytest.raises(ModelError, match="not a TensorFlow Lite model"):
        WakeWordDetector(fake)


def test_wake_config_is_validated_and_documented() -> None:
    assert Config().wake == WakeConfig()
    assert (WakeConfig().mode, WakeConfig().model) == ("wake", "okay_nabu")
    with pytest.raises(ConfigError, match=r"wake\.mode must be one of wake, always, push_to_talk"):
        parse_config("wake:\n  mode: sometimes\n")
    with pytest.raises(ConfigError, match=r"wake\.probability_cutoff must be a number"):
        parse_config("wake:\n  probability_cutoff: 1.5\n")
    with pytest.raises(ConfigError, match=r"wake\.follow_up must be one of always, questions, never"):
        parse_config("wake:\n  follow_up: sometimes\n")
    config = parse_config("wake:\n  model: hey_jarvis\n  probability_cutoff: 0.9\n  follow_up_s: 8\n")
    assert (config.wake.model, config.wake.probability_cutoff, config.wake.follow_up_s) == (
        "hey_jarvis",
        0.9,
        8.0,
    )
    shown = render_config(Config())
    for key in WakeConfig.__dataclass_fields__:
        assert f"\n  {key}: " in shown.split("\nwake:", 1)[1], key


# --- the listener's gate, on a made-up clock -------------------------------------------------


async def clocked(pcm: bytes) -> AsyncIterator[AudioChunk]:
    """``pcm`` in 30 ms frames stamped T0 + 30 ms × n, as fast as they can be taken."""
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    for n in range(len(pcm) // FRAME_BYTES):
        await asyncio.sleep(0)
        yield AudioChunk(pcm[n * FRAME_BYTES : (n + 1) * FRAME_BYTES], T0 + (n + 1) * 0.03)


class Heard:
    """A listener without speech recognition, and what it woke on."""

    def __init__(self, mode: str, *, timeout_s: float = 5.0) -> None:
        self.wakes: list[WakeDetected] = []
        self.listener = Listener(
            Vad(2),
            Endpointer(EndpointSettings()),
            None,
            lambda _: False,
            partial_after_ms=0,
            complete_command_ms=210,
            mode=mode,
            detector=detector() if mode == "wake" else None,
            no_speech_timeout_s=timeout_s,
            on_wake=self._woken,
        )

    async def _woken(self, wake: WakeDetected) -> None:
        self.wakes.append(wake)

    async def utterances(self, pcm: bytes) -> list[SpeechEnded]:
        return [s async for s in self.listener.utterances(clocked(pcm))]


def offset_of(utterance: SpeechEnded, pcm: bytes) -> float:
    """Where in ``pcm`` (seconds) the utterance's audio starts: it is a copy of whole frames."""
    at = pcm.find(utterance.pcm)
    assert at >= 0 and at == pcm.rfind(utterance.pcm) and at % FRAME_BYTES == 0
    return at / 32000


async def test_always_mode_takes_every_utterance_and_wake_mode_only_after_the_wake_word() -> None:
    command = silence(0.3) + audio("what_time_is_it.wav") + silence(1.0)
    assert len(await Heard("always").utterances(command)) == 1
    heard = Heard("wake")
    assert await heard.utterances(command) == []
    assert heard.wakes == []


@pytest.mark.parametrize(
    ("name", "pause"), [("wake_okay_nabu_what_time.wav", True), ("wake_okay_nabu_same_breath.wav", False)]
)
async def test_the_command_after_the_wake_word_is_cut_without_it(name: str, pause: bool) -> None:
    pcm = silence(0.3) + audio(name) + silence(1.0)
    heard = Heard("wake")
    (utterance,) = await heard.utterances(pcm)
    (wake,) = heard.wakes
    start = offset_of(utterance, pcm)
    if pause:
        # "Okay nabu, what ...": the command starts after the detection, in the pause.
        assert start >= round(wake.t - T0, 3)
    else:
        # "Okay nabu what ...": the detection lags the audio and "what" has begun; the
        # utterance reaches back to where the wake word ended (150 ms), and not further.
        assert round(wake.t - T0 - 0.15, 3) <= start < wake.t - T0
    # ...and all of the command: "what time is it" lasts about a second.
    assert len(utterance.pcm) / 32000 > 0.8
    assert not heard.listener.accepting  # the next command needs the wake word again


async def test_no_speech_after_the_wake_word_goes_back_to_waiting_for_it() -> None:
    wake, command = audio("wake_okay_nabu.wav"), audio("what_time_is_it.wav")
    late = silence(0.3) + wake + silence(3.0) + command + silence(1.0)
    heard = Heard("wake", timeout_s=2.0)
    assert await heard.utterances(late) == []
    assert len(heard.wakes) == 1
    in_time = silence(0.3) + wake + silence(1.0) + command + silence(1.0)
    assert len(await Heard("wake", timeout_s=2.0).utterances(in_time)) == 1


async def test_push_to_talk_listens_only_when_asked_and_for_one_command() -> None:
    command = audio("what_time_is_it.wav")
    pcm = silence(0.3) + command + silence(1.0) + audio("what_day_is_it.wav") + silence(1.0)
    heard = Heard("push_to_talk")
    assert await heard.utterances(pcm) == []
    heard.listener.open_window(3.0, after=T0)
    (utterance,) = await heard.utterances(pcm)
    assert offset_of(utterance, pcm) < 0.3 + len(command) / 32000  # the first command, not the second
    # No wake word in push-to-talk mode: saying it opens nothing.
    assert heard.listener.detector is None
    assert await heard.utterances(silence(0.3) + audio("wake_okay_nabu_what_time.wav") + silence(1)) == []


async def test_a_window_ignores_audio_from_before_it_and_closes_after_its_time() -> None:
    command = audio("what_time_is_it.wav")
    first_end = 0.3 + len(command) / 32000
    pcm = silence(0.3) + command + silence(1.0) + audio("what_day_is_it.wav") + silence(1.0)
    # Like a follow-up window opening once the reply has played: the first command is the
    # assistant's own voice still queued from the microphone, and is not listened to.
    heard = Heard("wake")
    heard.listener.open_window(3.0, after=T0 + first_end + 0.3)
    (utterance,) = await heard.utterances(pcm)
    assert offset_of(utterance, pcm) > first_end
    # A window that closed before anyone spoke takes nothing.
    closed = Heard("wake")
    closed.listener.open_window(0.5, after=T0)
    assert await closed.utterances(silence(1.0) + command + silence(1.0)) == []
    assert not closed.listener.accepting


async def test_the_wake_word_said_in_an_open_window_is_still_cut_off() -> None:
    pcm = silence(0.3) + audio("wake_okay_nabu_what_time.wav") + silence(1.0)
    heard = Heard("wake")
    heard.listener.open_window(5.0, after=T0)
    (utterance,) = await heard.utterances(pcm)
    (wake,) = heard.wakes
    assert offset_of(utterance, pcm) >= round(wake.t - T0 - 0.15, 3)


# --- sessions with the real models ------------------------------------------------------------


def wake_session(runtime: Runtime, **settings: object) -> tuple[Session, MemorySink]:
    sink = MemorySink()
    return Session(runtime, sink, wake=WakeConfig(mode="wake", **settings)), sink  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["wake_okay_nabu_what_time.wav", "wake_okay_nabu_same_breath.wav"])
async def test_spoken_wake_word_and_command_reach_the_clock_after_a_chime(
    runtime: Runtime, name: str
) -> None:
    session, sink = wake_session(runtime)
    source = BufferSource(audio(name), realtime=False, leading_silence_s=0.3, trailing_silence_s=1.0)
    (speech,) = [s async for s in session.utterances(source)]
    result = await session.handle_speech(speech)
    assert normalize(result.transcript) == "what time is it"  # no "okay nabu" reached recognition
    assert (result.route, result.skill, result.action) == ("skill", "clock", "time")
    assert sink.pieces[0] == load_sound("wake")  # the chime first, then the answer
    assert len(sink.pieces) >= 2 and result.reply
    assert session.listener.last_wake is not None and session.listener.last_wake.model == "okay_nabu"


async def test_the_wake_word_again_before_the_answer_drops_the_command_before_it(runtime: Runtime) -> None:
    """ "Okay nabu, what time is it … okay nabu": the second wake word comes while the first
    command waits to be answered, so the person has something else to say: nothing is answered."""
    session, sink = wake_session(runtime)
    pcm = audio("wake_okay_nabu_what_time.wav") + silence(0.8) + audio("wake_okay_nabu.wav")
    # Real time: the end of a command is stamped by the clock, as live (early end).
    source = BufferSource(pcm, realtime=True, leading_silence_s=0.3, trailing_silence_s=1.0)
    (speech,) = [s async for s in session.utterances(source)]  # the listener runs on meanwhile
    assert session.listener.last_wake is not None and session.listener.last_wake.t > speech.t_endpoint
    result = await session.handle_speech(speech)
    assert normalize(result.transcript) == "what time is it"
    assert result.route == "none" and result.skill is None and result.reply == ""
    assert result.degraded == ["interrupted"]
    assert all(piece == load_sound("wake") for piece in sink.pieces)  # chimes, no answer


class VirtualMicrophone:
    """Frames on the made-up clock, which stands still while a turn runs (its reply takes no time)."""

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.now = T0

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        async for chunk in clocked(self.pcm):
            self.now = chunk.t
            yield chunk


async def test_follow_up_window_takes_a_command_without_the_wake_word_then_closes(runtime: Runtime) -> None:
    session, _ = wake_session(runtime, follow_up_s=1.5, no_speech_timeout_s=2.0)
    mic = VirtualMicrophone(
        silence(0.3)
        + audio("wake_okay_nabu_what_time.wav")
        + silence(0.6)
        + audio("what_day_is_it.wav")  # within the follow-up window: no wake word needed
        + silence(3.0)
        + audio("whats_the_date_today.wav")  # after it closed: not a command
        + silence(1.0)
    )
    session.listener.clock = lambda: mic.now
    results = []
    async for speech in session.utterances(mic):
        results.append(await session.handle_speech(speech))
    assert [(r.skill, r.action) for r in results] == [("clock", "time"), ("clock", "day")]
    assert "date" not in normalize(" ".join(r.transcript for r in results))


@pytest.mark.parametrize(
    ("follow_up", "said", "listens"),
    [
        ("always", "what time is it", True),
        ("questions", "what time is it", False),
        ("questions", "set a timer", True),  # the timers skill asks "For how long ...?"
        ("never", "set a timer", False),
    ],
)
async def test_when_a_follow_up_window_opens(
    runtime: Runtime, follow_up: str, said: str, listens: bool
) -> None:
    session, _ = wake_session(runtime, follow_up=follow_up)
    now = time.monotonic()
    result = await session.handle_speech(SpeechEnded(b"", now, now, now, heard=said))
    assert result.reply
    assert session.listener.accepting is listens
    assert result.follow_up is (said == "set a timer")


async def test_push_to_talk_chimes_and_takes_one_command(runtime: Runtime) -> None:
    sink = MemorySink()
    session = Session(runtime, sink, wake=WakeConfig(mode="push_to_talk"))
    assert not session.listener.accepting
    await session.push_to_talk()
    assert session.listener.accepting and sink.pieces == [load_sound("wake")]
    source = BufferSource(audio("what_time_is_it.wav"), realtime=False, trailing_silence_s=1.0)
    (speech,) = [s async for s in session.utterances(source)]
    assert (await session.handle_speech(speech)).skill == "clock"


async def test_no_chime_when_configured_empty_and_a_bad_chime_fails_at_start(runtime: Runtime) -> None:
    session, sink = wake_session(runtime, chime="")
    source = BufferSource(audio("wake_okay_nabu.wav"), realtime=False, trailing_silence_s=0.5)
    assert [s async for s in session.utterances(source)] == []
    assert session.listener.last_wake is not None and sink.pieces == []
    with pytest.raises(AudioFileError, match="no-such-sound: not a bundled sound"):
        wake_session(runtime, chime="no-such-sound")


async def test_unknown_wake_model_in_a_session_names_the_choices(runtime: Runtime) -> None:
    with pytest.raises(ModelError, match="known wake models: okay_nabu, hey_jarvis, alexa, hey_mycroft"):
        wake_session(runtime, model="hey_nabu")


# --- the daemon from the command line ---------------------------------------------------------


def _run_daemon(tmp_path: Path, *args: str, until: str) -> tuple[str, str]:
    """``assistant run`` on a file until ``until`` is printed (then SIGTERM); its stdout, stderr."""
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    env.pop("STATE_DIRECTORY", None)
    err = tmp_path / "stderr.log"
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "--log-level", "info", "run", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
        assert proc.stdout is not None
        out: list[str] = []
        try:
            deadline = time.monotonic() + 180
            for line in proc.stdout:
                out.append(line)
                if until in line or "input ended" in err.read_text() or time.monotonic() > deadline:
                    break
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    return "".join(out), err.read_text()


def test_run_answers_after_the_wake_word_and_with_no_wake_any_command(tmp_path: Path) -> None:
    out, err = _run_daemon(
        tmp_path,
        "--input",
        str(DATA / "wake_okay_nabu_what_time.wav"),
        "--output",
        str(tmp_path / "said.wav"),
        until="route:",
    )
    assert "route:   skill → clock.time" in out, out + err
    assert "wake word 'Okay Nabu' heard" in err
    out, err = _run_daemon(
        tmp_path,
        "--no-wake",
        "--input",
        str(SAMPLES / "what_time_is_it.wav"),
        "--output",
        str(tmp_path / "said_again.wav"),
        until="route:",
    )
    assert "route:   skill → clock.time" in out, out + err
    assert "wake word" not in err
