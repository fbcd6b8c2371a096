"""The subprocess adapter: the example external model, the framed protocol, and every way a child can fail.

Every child is started with short timeouts and checked to be gone afterwards.
"""

from __future__ import annotations

import io
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import accbench
from accbench.adapters.subprocess_adapter import (
    MAX_HEADER_BYTES,
    SubprocessModel,
    decode_payload,
    encode_message,
    serve,
)
from accbench.errors import ModelError
from accbench.models import load_model
from accbench.protocol import Session, StepContext

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "external_model.py"
SR, HOP = 22050, 441


def _sine(seconds: float = 1.0, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)[np.newaxis, :]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process reused the id
        return True
    # A zombie still answers kill(0); it is reaped by the adapter, so give it a moment.
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _session(n_samples: int = SR, chunk_frames: int = 10, song: str = "song") -> Session:
    return Session(song, SR, HOP, future_visibility=0, chunk_frames=chunk_frames, n_samples=n_samples, seed=0)


def _ctx(index: int, chunk_frames: int = 10) -> StepContext:
    start = index * chunk_frames * HOP
    return StepContext(index, start, start, chunk_frames, HOP, True, SR - start)


# A model script that misbehaves on purpose at a chosen call.
FAULTY = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    fault, at = sys.argv[1], int(sys.argv[2])
    out = sys.stdout.buffer
    def send(header, payload=b""):
        out.write(json.dumps(header).encode() + b"\\n" + payload)
        out.flush()
    if fault == "handshake-garbage":
        out.write(b"Loading weights... done\\n"); out.flush(); time.sleep(30)
    if fault == "handshake-exit":
        print("cannot find my checkpoint", file=sys.stderr); sys.exit(3)
    if fault == "handshake-hang":
        time.sleep(30)
    calls = 0
    for line in sys.stdin.buffer:
        header = json.loads(line)
        if "channels" in header:
            sys.stdin.buffer.read(4 * header["channels"] * header["samples"])
        kind = header["type"]
        if kind == "hello":
            send({"type": "info", "protocol_version": 2 if fault == "version" else 1,
                  "model": {"name": "faulty", "version": "1", "sample_rate": 22050, "hop": 441}})
        elif kind == "reset":
            send({"type": "ready"})
        elif kind == "step":
            n = header["chunk_frames"] * header["hop"]
            if calls == at:
                if fault == "garbage":
                    out.write(b"step %d: loss=0.1\\n" % calls); out.flush(); time.sleep(30)
                if fault == "exit":
                    print("segmentation fault (simulated)", file=sys.stderr); sys.stderr.flush(); sys.exit(139)
                if fault == "hang":
                    time.sleep(30)
                if fault == "short":
                    n = n - 1
                if fault == "partial":
                    send({"type": "chunk", "channels": 1, "samples": n}, b"\\0" * (2 * n)); time.sleep(30)
                if fault == "error":
                    send({"type": "error", "message": "CUDA out of memory"}); continue
                if fault == "nan-length":
                    send({"type": "chunk", "channels": 1, "samples": -5}); time.sleep(30)
            calls += 1
            send({"type": "chunk", "channels": 1, "samples": n}, np.zeros(n, "<f4").tobytes())
        elif kind == "close":
            send({"type": "bye"}); sys.exit(0)
    """
)


@pytest.fixture
def faulty(tmp_path):
    script = tmp_path / "faulty_model.py"
    script.write_text(FAULTY)

    def make(fault: str, at: int = 1, timeout_s: float = 1.5) -> SubprocessModel:
        return SubprocessModel(
            [sys.executable, str(script), fault, str(at)], timeout_s=timeout_s, startup_timeout_s=timeout_s
        )

    return make


# ------------------------------------------------------------------------------------------- framing
def test_message_round_trip_is_little_endian_channel_major():
    audio = np.arange(6, dtype=np.float32).reshape(2, 3)
    message = encode_message({"type": "step", "index": 4}, audio)
    line, payload = message.split(b"\n", 1)
    assert b'"channels":2' in line and b'"samples":3' in line
    assert payload == audio.astype("<f4").tobytes()
    assert payload[:4] == b"\x00\x00\x00\x00" and payload[4:8] == np.float32(1).astype("<f4").tobytes()
    np.testing.assert_array_equal(decode_payload(payload, 2, 3), audio)


def test_encode_refuses_nan_in_header_and_huge_headers():
    with pytest.raises(ValueError):
        encode_message({"type": "x", "value": float("nan")})
    with pytest.raises(ValueError, match="exceeds"):
        encode_message({"type": "x", "blob": "a" * MAX_HEADER_BYTES})


def test_serve_answers_the_protocol_in_process():
    model = load_model("follower")
    x = _sine(0.2)
    requests = b"".join(
        [
            encode_message({"type": "hello", "protocol": "accbench-stream", "protocol_version": 1}),
            encode_message(
                {
                    "type": "reset",
                    "song_id": "s",
                    "sample_rate": SR,
                    "hop": HOP,
                    "future_visibility": 0,
                    "chunk_frames": 10,
                    "n_samples": x.shape[1],
                    "seed": 0,
                }
            ),
            encode_message(
                {
                    "type": "step",
                    "index": 0,
                    "chunk_start": 0,
                    "visible_end": 4410,
                    "chunk_frames": 10,
                    "hop": HOP,
                    "previous_played": True,
                    "remaining": x.shape[1],
                },
                x,
            ),
            encode_message({"type": "close"}),
        ]
    )
    answers = io.BytesIO()
    assert serve(model, io.BytesIO(requests), answers) == 0
    lines = answers.getvalue().split(b"\n", 3)
    assert b'"type":"info"' in lines[0] and b'"name":"follower"' in lines[0]
    assert lines[1] == b'{"type":"ready"}'
    assert b'"type":"chunk"' in lines[2] and b'"samples":4410' in lines[2]
    assert lines[3][4 * 4410 :] == b'{"type":"bye"}\n'


# ------------------------------------------------------------------------------- the example model
def test_example_model_through_the_simulator_sends_only_visible_samples():
    x = _sine(2.0)
    model = load_model(f"subprocess:{{python}} {EXAMPLE}", timeout_s=10)
    try:
        assert model.info.name == "octave-drone" and model.info.sample_rate == SR
        first = accbench.simulate(model, x, sample_rate=SR, future_visibility=-3, chunk_frames=7)
        visible = int(first.events["visible_end"].iloc[-1])
        assert visible < x.shape[1]
        assert model.bytes_sent == 4 * visible  # every visible sample once, nothing more
        second = accbench.simulate(model, x, sample_rate=SR, future_visibility=-3, chunk_frames=7)
    finally:
        model.close()
    assert first.output.shape == x.shape and first.output.dtype == np.float32
    np.testing.assert_array_equal(first.output, second.output)
    # It plays a tone an octave below the 440 Hz input once it has heard some of it.
    tail = first.output[0, SR:]
    spectrum = np.abs(np.fft.rfft(tail))
    peak_hz = np.argmax(spectrum) * SR / tail.size
    assert abs(peak_hz - 220.0) < 5.0
    assert model.pid is None


def test_example_model_options_are_sent_in_the_handshake():
    with SubprocessModel([sys.executable, str(EXAMPLE)], options={"voice": "fifth", "hop": 490}) as model:
        assert model.info.hop == 490
    with pytest.raises(ModelError, match="voice must be"):
        SubprocessModel([sys.executable, str(EXAMPLE)], options={"voice": "tritone"}, startup_timeout_s=10)


def test_python_models_can_be_served_from_another_process_bit_identically():
    x = _sine(1.0, 330.0)
    remote = load_model("subprocess:{python} -m accbench.adapters.subprocess_adapter follower", timeout_s=20)
    try:
        there = accbench.simulate(remote, x, sample_rate=SR, future_visibility=2, chunk_frames=5)
    finally:
        remote.close()
    here = accbench.simulate("follower", x, sample_rate=SR, future_visibility=2, chunk_frames=5)
    np.testing.assert_array_equal(there.output, here.output)


# ------------------------------------------------------------------------------------------ failures
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("garbage", "protocol error during step: malformed header b'step 1: loss=0.1'"),
        ("exit", "exited during step"),
        ("hang", "no answer to step within 1.5 s"),
        ("short", "wrong chunk shape: got (1, 4409), expected (1, 4410)"),
        ("partial", "no answer to step within 1.5 s"),
        ("error", "reported an error during step: CUDA out of memory"),
        ("nan-length", "'samples' must be a non-negative integer"),
    ],
)
def test_a_failing_step_names_the_model_song_and_call_and_kills_the_child(faulty, fault, message):
    model = faulty(fault, at=1)
    pid = model.pid
    model.reset(_session(song="bwv1.6"))
    model.step(np.zeros((1, 4410), np.float32), _ctx(0))
    began = time.monotonic()
    with pytest.raises(ModelError) as caught:
        model.step(np.zeros((1, 4410), np.float32), _ctx(1))
    assert time.monotonic() - began < 5.0
    error = caught.value
    assert message in str(error)
    assert (error.model, error.song, error.call) == ("faulty", "bwv1.6", 1)
    assert model.pid is None and not _alive(pid)
    model.close()


def test_stderr_of_a_crashed_model_is_quoted(faulty):
    model = faulty("exit", at=0)
    model.reset(_session())
    with pytest.raises(ModelError, match=r"(?s)exit code 139\).*segmentation fault \(simulated\)"):
        model.step(np.zeros((1, 4410), np.float32), _ctx(0))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("handshake-garbage", "malformed header b'Loading weights... done'"),
        ("handshake-exit", "exited during handshake (exit code 3); its stderr ends with:\ncannot find my checkpoint"),
        ("handshake-hang", "no answer to handshake within 1.5 s"),
        ("version", "speaks protocol version 2"),
    ],
)
def test_a_failing_handshake_is_a_clear_error(faulty, fault, message):
    began = time.monotonic()
    with pytest.raises(ModelError) as caught:
        faulty(fault)
    assert time.monotonic() - began < 5.0
    assert message in str(caught.value)
    assert "subprocess:" in caught.value.model


def test_missing_program_and_bad_options_are_clear_errors():
    with pytest.raises(ModelError, match="cannot start 'no-such-program-accbench'"):
        load_model("subprocess:no-such-program-accbench --flag")
    with pytest.raises(ModelError, match="JSON-serialisable"):
        SubprocessModel([sys.executable, str(EXAMPLE)], options={"weights": object()})


def test_a_failure_ends_only_that_song_the_next_reset_restarts_the_process(faulty):
    model = faulty("exit", at=1)
    first_pid = model.pid
    model.reset(_session(song="a"))
    model.step(np.zeros((1, 4410), np.float32), _ctx(0))
    with pytest.raises(ModelError):
        model.step(np.zeros((1, 4410), np.float32), _ctx(1))
    with pytest.raises(ModelError, match="without a successful reset"):
        model.step(np.zeros((1, 4410), np.float32), _ctx(2))
    model.reset(_session(song="b"))
    assert model.pid not in (None, first_pid)
    assert model.step(np.zeros((1, 4410), np.float32), _ctx(0)).shape == (1, 4410)
    second_pid = model.pid
    model.close()
    assert model.pid is None and not _alive(second_pid)
    model.close()  # twice is fine


def test_the_simulator_records_a_subprocess_crash_as_a_model_error(faulty):
    model = faulty("exit", at=2)
    try:
        with pytest.raises(ModelError) as caught:
            accbench.simulate(model, _sine(1.0), sample_rate=SR, future_visibility=0, chunk_frames=10, song_id="x")
    finally:
        model.close()
    assert caught.value.call == 2 and caught.value.song == "x"
