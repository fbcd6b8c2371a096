"""Models in another process: the ``subprocess:`` adapter and its framed stdin/stdout protocol.

A model may live in another Python, another virtual environment, a JAX program or a C++ binary. accbench
starts it as a child process and speaks **accbench-stream protocol version 1** over its stdin and stdout.
The full specification is ``docs/subprocess-protocol.md``; in short:

Framing
    Every message is one UTF-8 JSON object on one line (terminated by ``\\n``, at most 65536 bytes),
    optionally followed by a binary payload of raw **little-endian float32** PCM. A header that carries audio
    says ``"channels"`` and ``"samples"``; exactly ``4 * channels * samples`` payload bytes follow it,
    channel-major (all samples of channel 0, then channel 1, ...: the C-order bytes of a
    ``(channels, samples)`` array). The model's stdout carries protocol messages only; logs go to stderr.

Messages (host -> model, then the model's answer)
    ``{"type": "hello", "protocol": "accbench-stream", "protocol_version": 1, "options": {...}}``
        -> ``{"type": "info", "protocol_version": 1, "model": {"name", "version", "sample_rate", "hop",
        "channels", "output_channels"?, "latency"?, "causal"?}}``
    ``{"type": "reset", "song_id", "sample_rate", "hop", "future_visibility", "chunk_frames", "n_samples",
    "seed"}`` -> ``{"type": "ready"}``
    ``{"type": "step", "index", "chunk_start", "visible_end", "chunk_frames", "hop", "previous_played",
    "remaining", "channels", "samples"}`` + the newly visible input
        -> ``{"type": "chunk", "channels": C_out, "samples": chunk_frames * hop}`` + the output chunk
    ``{"type": "close"}`` -> ``{"type": "bye"}``, then the model exits.
    At any point the model may answer ``{"type": "error", "message": "..."}`` instead.

Only the samples that became visible since the previous call cross the pipe (the host never holds a
larger view to send). Every answer must arrive within a per-call timeout (``timeout_s``, default 10 s;
``startup_timeout_s``, default 60 s, for the handshake). A crash, a hang, a malformed frame, a wrong
length or an ``error`` message raises :class:`accbench.errors.ModelError` naming the model, song and call;
the process (its whole process group on POSIX) is killed, and the next ``reset`` starts a fresh one, so a
failure ends only that song.

The Python side of the protocol is :func:`serve`; ``python -m accbench.adapters.subprocess_adapter SPEC``
serves any model :func:`accbench.models.load_model` can load (e.g. to run it in another environment).
``examples/external_model.py`` is a self-contained model (numpy only) speaking the protocol.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import IO, Any, NoReturn

import numpy as np

from accbench.errors import ModelError
from accbench.protocol import ModelInfo, Session, StepContext

__all__ = [
    "MAX_HEADER_BYTES",
    "PROTOCOL_NAME",
    "PROTOCOL_VERSION",
    "SubprocessModel",
    "decode_payload",
    "encode_message",
    "load",
    "main",
    "serve",
]

PROTOCOL_NAME = "accbench-stream"
PROTOCOL_VERSION = 1
MAX_HEADER_BYTES = 65536
#: Largest audio payload accepted in one message (channels * samples), a guard against garbage headers.
MAX_PAYLOAD_SAMPLES = 1 << 28
_STDERR_LINES = 40


# ------------------------------------------------------------------------------------------- framing
def encode_message(header: Mapping[str, Any], audio: np.ndarray | None = None) -> bytes:
    """Encode one protocol message: a JSON header line, then the audio as little-endian float32.

    Parameters
    ----------
    header : mapping
        JSON-serialisable header; ``channels`` and ``samples`` are added when ``audio`` is given.
    audio : ndarray, shape (channels, samples), optional
        The payload.

    Returns
    -------
    message : bytes
    """
    header = dict(header)
    payload = b""
    if audio is not None:
        array = np.asarray(audio)
        if array.ndim != 2:
            raise ValueError(f"audio must be (channels, samples), got shape {array.shape}")
        header["channels"], header["samples"] = int(array.shape[0]), int(array.shape[1])
        payload = np.ascontiguousarray(array, dtype="<f4").tobytes()
    line = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"
    if len(line) > MAX_HEADER_BYTES:
        raise ValueError(f"header of {len(line)} bytes exceeds the protocol limit of {MAX_HEADER_BYTES}")
    return line + payload


def _payload_shape(header: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(channels, samples)`` announced by a header, ``None`` when it carries no audio."""
    if "channels" not in header and "samples" not in header:
        return None
    channels, samples = header.get("channels"), header.get("samples")
    for name, value in (("channels", channels), ("samples", samples)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"header field {name!r} must be a non-negative integer, got {value!r}")
    if channels * samples > MAX_PAYLOAD_SAMPLES:
        raise ValueError(f"payload of {channels} x {samples} samples exceeds the limit of {MAX_PAYLOAD_SAMPLES}")
    return channels, samples


def decode_payload(data: bytes, channels: int, samples: int) -> np.ndarray:
    """Turn payload bytes into a writable native float32 ``(channels, samples)`` array."""
    return np.frombuffer(data, dtype="<f4").reshape(channels, samples).astype(np.float32)


def _parse_header(line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"malformed header {line[:120]!r}: {error}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ValueError(f"malformed header {line[:120]!r}: expected a JSON object with a 'type'")
    return header


# ---------------------------------------------------------------------------------- host-side pipes
class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class _Reader:
    """Reads a pipe in a background thread so that every read can have a deadline."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = bytearray()
        self._eof = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="accbench-subprocess-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except OSError:
                data = b""
            with self._condition:
                if not data:
                    self._eof = True
                    self._condition.notify_all()
                    return
                self._buffer += data
                self._condition.notify_all()

    def _wait(self, ready: Any, deadline: float) -> None:
        while not ready():
            if self._eof:
                raise _Closed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            self._condition.wait(remaining)

    def read_line(self, deadline: float) -> bytes:
        with self._condition:
            self._wait(lambda: b"\n" in self._buffer or len(self._buffer) > MAX_HEADER_BYTES, deadline)
            end = self._buffer.find(b"\n")
            if end < 0 or end >= MAX_HEADER_BYTES:
                raise ValueError(f"header line longer than {MAX_HEADER_BYTES} bytes: {bytes(self._buffer[:120])!r}")
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            return line

    def read_exact(self, size: int, deadline: float) -> bytes:
        with self._condition:
            self._wait(lambda: len(self._buffer) >= size, deadline)
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            return data

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class _Writer:
    """Writes to a pipe in a background thread, so a child that stops reading cannot block the host."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._queue: collections.deque[bytes | None] = collections.deque()
        self._condition = threading.Condition()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="accbench-subprocess-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._queue:
                    self._condition.wait()
                data = self._queue.popleft()
            if data is None:
                return
            try:
                self._stream.write(data)
                self._stream.flush()
            except (OSError, ValueError) as error:  # broken pipe, closed file
                self.error = error
                return

    def send(self, data: bytes | None) -> None:
        with self._condition:
            self._queue.append(data)
            self._condition.notify()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class _StderrTail:
    """Keeps the last lines a child wrote to stderr, for error messages."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name="accbench-subprocess-stderr", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for raw in iter(self._stream.readline, b""):
                self.lines.append(raw.decode("utf-8", errors="replace").rstrip())
        except (OSError, ValueError):
            return

    def text(self) -> str:
        self._thread.join(0.2)
        lines = [line for line in self.lines if line]
        return "\n".join(lines[-10:])

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def _kill_process(process: subprocess.Popen) -> None:
    """Kill a child (and its process group on POSIX) and reap it; safe to call twice."""
    if process.poll() is None:
        try:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except (ProcessLookupError, PermissionError, OSError):
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # a process that survives SIGKILL is left to the OS
        process.wait(timeout=5)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _split_command(command: str | Sequence[str]) -> list[str]:
    args = shlex.split(command, posix=os.name == "posix") if isinstance(command, str) else [str(a) for a in command]
    if not args:
        raise ValueError("empty command")
    return [sys.executable if arg == "{python}" else arg for arg in args]


# ---------------------------------------------------------------------------------------- the model
class SubprocessModel:
    """A streaming model running in a child process (accbench-stream protocol version 1).

    Parameters
    ----------
    command : str or sequence of str
        The command line; a string is split like a POSIX shell would (no shell is run). The token
        ``{python}`` stands for the running Python interpreter.
    timeout_s : float
        Seconds each ``reset``, ``step`` and ``close`` answer may take (default 10).
    startup_timeout_s : float
        Seconds the process may take to start and answer the handshake (default 60).
    cwd : str, optional
        Working folder of the process.
    env : mapping, optional
        Extra environment variables (added to the current environment).
    options : mapping, optional
        JSON-serialisable options sent to the model in the handshake.

    Raises
    ------
    ModelError
        The process cannot be started, or its handshake fails or times out.
    """

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        timeout_s: float = 10.0,
        startup_timeout_s: float = 60.0,
        cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.command = command if isinstance(command, str) else shlex.join(command)
        self._label = f"subprocess:{self.command}"
        try:
            self._args = _split_command(command)
        except ValueError as error:
            raise ModelError(f"bad command: {error}", model=self._label) from None
        self.timeout_s = float(timeout_s)
        self.startup_timeout_s = float(startup_timeout_s)
        self._cwd = cwd
        self._env = None if env is None else {**os.environ, **{str(k): str(v) for k, v in env.items()}}
        self._options = dict(options or {})
        try:
            json.dumps(self._options, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ModelError(f"model options must be JSON-serialisable: {error}", model=self._label) from None
        self._process: subprocess.Popen | None = None
        self._finalizer: weakref.finalize | None = None
        self._song: str | None = None
        self._reset_done = False
        self.bytes_sent = 0  # audio payload bytes handed to the model, for tests and diagnostics
        self.info: ModelInfo = self._start()

    # ------------------------------------------------------------------------------ process control
    @property
    def name(self) -> str:
        """The model's declared name (or the command before the handshake)."""
        info = getattr(self, "info", None)
        return info.name if info is not None else self._label

    @property
    def pid(self) -> int | None:
        """Process id of the running child, ``None`` when none is running."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def _start(self) -> ModelInfo:
        try:
            process = subprocess.Popen(
                self._args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self._cwd,
                env=self._env,
                bufsize=0,
                start_new_session=os.name == "posix",
            )
        except OSError as error:
            raise ModelError(f"cannot start {self._args[0]!r}: {error}", model=self._label) from None
        self._process = process
        self._finalizer = weakref.finalize(self, _kill_process, process)
        self._reader = _Reader(process.stdout)
        self._writer = _Writer(process.stdin)
        self._stderr = _StderrTail(process.stderr)
        hello = {"type": "hello", "protocol": PROTOCOL_NAME, "protocol_version": PROTOCOL_VERSION}
        hello["options"] = self._options
        header, _ = self._exchange(hello, None, "info", self.startup_timeout_s, "handshake", None)
        if header.get("protocol_version") != PROTOCOL_VERSION:
            self._fail(
                f"model speaks protocol version {header.get('protocol_version')!r}, accbench speaks {PROTOCOL_VERSION}",
                None,
            )
        declared = header.get("model")
        if not isinstance(declared, dict):
            self._fail(f"handshake answer has no 'model' object: {header!r}", None)
        try:
            info = ModelInfo(
                name=str(declared["name"]),
                version=str(declared.get("version", "0")),
                sample_rate=declared["sample_rate"],
                hop=declared["hop"],
                channels=declared.get("channels", 1),
                output_channels=declared.get("output_channels"),
                causal=bool(declared.get("causal", True)),
                latency=declared.get("latency"),
            )
        except (KeyError, TypeError, ValueError) as error:
            self._fail(f"handshake declares an invalid model: {type(error).__name__}: {error}", None)
        previous = getattr(self, "info", None)
        if previous is not None and previous != info:
            self._fail(f"restarted model declares {info}, different from its first handshake {previous}", None)
        return info

    def _fail(self, reason: str, call: int | None, *, exited: bool = False) -> NoReturn:
        """Kill the process and raise a ModelError that quotes the end of its stderr."""
        process = self._process
        stderr = ""
        if process is not None:
            if exited:
                try:
                    code = process.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    code = None
                reason = f"{reason} (exit code {code})"
            self._shutdown()
            stderr = self._stderr.text()
        if stderr:
            reason = f"{reason}; its stderr ends with:\n{stderr}"
        raise ModelError(reason, model=self.name, song=self._song, call=call)

    def _shutdown(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _kill_process(process)
        self._writer.send(None)
        for part in (self._reader, self._writer, self._stderr):
            part.join(1.0)
        if self._finalizer is not None:
            self._finalizer.detach()
        self._reset_done = False

    def _exchange(
        self,
        header: Mapping[str, Any],
        audio: np.ndarray | None,
        expect: str,
        timeout_s: float,
        what: str,
        call: int | None,
    ) -> tuple[dict[str, Any], np.ndarray | None]:
        """Send one message and read the answer of type ``expect`` (with its payload, if any)."""
        process = self._process
        if process is None or process.poll() is not None:
            self._fail(f"the model process exited before {what}", call, exited=True)
        message = encode_message(header, audio)
        if audio is not None:
            self.bytes_sent += len(message) - message.index(b"\n") - 1
        self._writer.send(message)
        deadline = time.monotonic() + timeout_s
        try:
            answer = _parse_header(self._reader.read_line(deadline))
            shape = _payload_shape(answer)
            payload = None
            if shape is not None:
                payload = decode_payload(self._reader.read_exact(4 * shape[0] * shape[1], deadline), *shape)
        except _Timeout:
            self._fail(f"no answer to {what} within {timeout_s:g} s (the process was killed)", call)
        except _Closed:
            self._fail(f"the model process exited during {what}", call, exited=True)
        except ValueError as error:
            self._fail(f"protocol error during {what}: {error} (logs must go to stderr, not stdout)", call)
        if answer["type"] == "error":
            self._fail(f"the model reported an error during {what}: {answer.get('message', '')}", call)
        if answer["type"] != expect:
            self._fail(f"expected a {expect!r} message in answer to {what}, got {answer['type']!r}", call)
        return answer, payload

    # ---------------------------------------------------------------------------------- the protocol
    def reset(self, session: Session) -> None:
        """Start a song; a process that died during the previous song is restarted first."""
        self._song = session.song_id
        if self._process is None or self._process.poll() is not None:
            self._shutdown()
            self._start()
        header = {
            "type": "reset",
            "song_id": session.song_id,
            "sample_rate": session.sample_rate,
            "hop": session.hop,
            "future_visibility": session.future_visibility,
            "chunk_frames": session.chunk_frames,
            "n_samples": session.n_samples,
            "seed": session.seed,
        }
        self._exchange(header, None, "ready", self.timeout_s, "reset", None)
        self._reset_done = True

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        """Send the newly visible input, return the chunk the model answers with."""
        if not self._reset_done:
            self._fail("step called without a successful reset", ctx.index)
        header = {
            "type": "step",
            "index": ctx.index,
            "chunk_start": ctx.chunk_start,
            "visible_end": ctx.visible_end,
            "chunk_frames": ctx.chunk_frames,
            "hop": ctx.hop,
            "previous_played": bool(ctx.previous_played),
            "remaining": ctx.remaining,
        }
        _answer, chunk = self._exchange(header, np.asarray(new_input), "chunk", self.timeout_s, "step", ctx.index)
        expected = (self.info.out_channels, ctx.chunk_frames * ctx.hop)
        if chunk is None or chunk.shape != expected:
            got = None if chunk is None else chunk.shape
            self._fail(f"wrong chunk shape: got {got}, expected {expected}", ctx.index)
        return chunk

    def close(self) -> None:
        """Ask the model to exit; kill it if it does not within ``timeout_s``. Safe to call twice."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                self._writer.send(encode_message({"type": "close"}))
                self._reader.read_line(time.monotonic() + min(self.timeout_s, 5.0))
                process.wait(timeout=min(self.timeout_s, 5.0))
            except (_Timeout, _Closed, ValueError, subprocess.TimeoutExpired):
                pass
        self._shutdown()

    def __enter__(self) -> SubprocessModel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def load(
    command: str,
    *,
    timeout_s: float = 10.0,
    startup_timeout_s: float = 60.0,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> SubprocessModel:
    """Start ``command`` as a subprocess model (``load_model("subprocess:COMMAND")`` calls this).

    Adapter options are ``timeout_s``, ``startup_timeout_s``, ``cwd`` and ``env``; every other keyword is
    sent to the model in the handshake's ``options``.

    Examples
    --------
    >>> from accbench.models import load_model
    >>> model = load_model("subprocess:{python} examples/external_model.py")  # doctest: +SKIP
    """
    return SubprocessModel(
        command, timeout_s=timeout_s, startup_timeout_s=startup_timeout_s, cwd=cwd, env=env, options=options
    )


# ----------------------------------------------------------------------------------- the model side
def _read_message(stream: IO[bytes]) -> tuple[dict[str, Any], np.ndarray | None] | None:
    line = stream.readline(MAX_HEADER_BYTES + 1)
    if not line:
        return None
    header = _parse_header(line.rstrip(b"\n"))
    shape = _payload_shape(header)
    if shape is None:
        return header, None
    size = 4 * shape[0] * shape[1]
    data = stream.read(size)
    if len(data) != size:
        raise ValueError(f"payload truncated: {len(data)} of {size} bytes")
    return header, decode_payload(data, *shape)


def serve(
    model: Any,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> int:
    """Serve a streaming model over the accbench-stream protocol (the model side).

    Parameters
    ----------
    model : StreamingModel or callable
        The model, or a callable ``options -> model`` called with the handshake's options.
    stdin, stdout : binary streams, optional
        Default: the process's own stdin and stdout. While serving, ``sys.stdout`` is redirected to stderr
        so that a stray ``print`` cannot corrupt the protocol.

    Returns
    -------
    exit_code : int
        0 after ``close`` or end of input, 1 after an error was reported.
    """
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout.buffer
    saved_stdout, sys.stdout = sys.stdout, sys.stderr

    def send(header: Mapping[str, Any], audio: np.ndarray | None = None) -> None:
        stdout.write(encode_message(header, audio))
        stdout.flush()

    try:
        is_factory = isinstance(model, type) or not hasattr(model, "step")
        instance = None if is_factory else model
        while True:
            try:
                message = _read_message(stdin)
            except ValueError as error:
                send({"type": "error", "message": f"bad message from host: {error}"})
                return 1
            if message is None:
                return 0
            header, audio = message
            kind = header["type"]
            try:
                if kind == "hello":
                    if instance is None:
                        instance = model(**header.get("options", {}))
                    info: ModelInfo = instance.info
                    send(
                        {
                            "type": "info",
                            "protocol": PROTOCOL_NAME,
                            "protocol_version": PROTOCOL_VERSION,
                            "model": {
                                "name": info.name,
                                "version": info.version,
                                "sample_rate": int(info.sample_rate),
                                "hop": int(info.hop),
                                "channels": int(info.channels),
                                "output_channels": info.out_channels,
                                "latency": info.latency,
                                "causal": info.causal,
                            },
                        }
                    )
                elif kind == "reset":
                    fields = ("song_id", "sample_rate", "hop", "future_visibility", "chunk_frames", "n_samples")
                    instance.reset(Session(*(header[name] for name in fields), seed=header["seed"]))
                    send({"type": "ready"})
                elif kind == "step":
                    if audio is None:
                        raise ValueError("step message without audio")
                    audio.setflags(write=False)
                    names = ("index", "chunk_start", "visible_end", "chunk_frames", "hop", "previous_played")
                    ctx = StepContext(*(header[name] for name in names), remaining=header["remaining"])
                    send({"type": "chunk"}, np.asarray(instance.step(audio, ctx), dtype=np.float32))
                elif kind == "close":
                    instance.close()
                    send({"type": "bye"})
                    return 0
                else:
                    raise ValueError(f"unknown message type {kind!r}")
            except Exception as error:
                send({"type": "error", "message": f"{type(error).__name__}: {error}"})
                return 1
    finally:
        sys.stdout = saved_stdout


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m accbench.adapters.subprocess_adapter SPEC``: serve any loadable model over stdin/stdout."""
    import argparse

    from accbench.models import load_model

    parser = argparse.ArgumentParser(
        prog="python -m accbench.adapters.subprocess_adapter",
        description="Serve an accbench model over the accbench-stream protocol on stdin/stdout.",
    )
    parser.add_argument("spec", help="a model name or 'package.module:factory'")
    args = parser.parse_args(argv)
    return serve(lambda **options: load_model(args.spec, **options))


if __name__ == "__main__":
    sys.exit(main())
