"""An external streaming model speaking the accbench-stream protocol (version 1) on stdin/stdout.

It needs only Python and numpy, not accbench: the point is that a model in another environment (another
Python, a JAX program, a C++ binary) can be benchmarked by reimplementing these ~100 lines. Run it with::

    accbench run --model "subprocess:python examples/external_model.py" ...
    # or, from Python:
    accbench.load_model("subprocess:{python} examples/external_model.py", voice="fifth")

The model: an "octave drone". From the visible input it estimates the pitch of the last 2048 samples by
autocorrelation and plays a sine one octave below it (``voice="octave"``) or a fifth below
(``voice="fifth"``), with an amplitude that follows the input level. The sine's phase runs on across chunks.

Protocol summary (the specification is docs/subprocess-protocol.md): one JSON header line per message,
followed, when the header has ``channels`` and ``samples``, by ``4 * channels * samples`` bytes of
little-endian float32 audio, channel-major. Host messages: hello, reset, step (+ input), close. Answers:
info, ready, chunk (+ output), bye, or error. Logs go to stderr, never to stdout.
"""

from __future__ import annotations

import json
import sys

import numpy as np

PROTOCOL_VERSION = 1


def read_message(stream):
    """Read one header line and its payload; ``None`` at end of input."""
    line = stream.readline()
    if not line:
        return None
    header = json.loads(line)
    audio = None
    if "channels" in header:
        channels, samples = header["channels"], header["samples"]
        data = stream.read(4 * channels * samples)
        audio = np.frombuffer(data, dtype="<f4").reshape(channels, samples)
    return header, audio


def write_message(stream, header, audio=None):
    """Write one header line and, when ``audio`` is given, its payload."""
    if audio is not None:
        header = {**header, "channels": int(audio.shape[0]), "samples": int(audio.shape[1])}
    stream.write(json.dumps(header).encode("utf-8") + b"\n")
    if audio is not None:
        stream.write(np.ascontiguousarray(audio, dtype="<f4").tobytes())
    stream.flush()


class OctaveDrone:
    """The model: state lives here, the protocol loop is in ``main``."""

    def __init__(self, sample_rate=22050, hop=441, voice="octave", window=2048):
        if voice not in ("octave", "fifth"):
            raise ValueError(f"voice must be 'octave' or 'fifth', got {voice!r}")
        self.sample_rate, self.hop, self.window = int(sample_rate), int(hop), int(window)
        self.ratio = 0.5 if voice == "octave" else 2.0 / 3.0
        self.reset()

    def reset(self):
        self.recent = np.zeros(self.window)  # last `window` visible input samples (mono)
        self.phase = 0.0  # oscillator phase in cycles
        self.frequency = 0.0
        self.level = 0.0

    def pitch(self):
        """Fundamental of the recent input by autocorrelation, 80 to 1000 Hz; 0 when unvoiced."""
        x = self.recent - self.recent.mean()
        if np.sqrt(np.mean(x**2)) < 1e-3:
            return 0.0
        spectrum = np.fft.rfft(x, n=2 * len(x))
        ac = np.fft.irfft(np.abs(spectrum) ** 2)[: len(x)]
        low, high = int(self.sample_rate / 1000), int(self.sample_rate / 80)
        lag = low + int(np.argmax(ac[low:high]))
        return self.sample_rate / lag if ac[lag] > 0.3 * ac[0] else 0.0

    def step(self, new_input, n_out):
        if new_input.shape[1]:
            mono = new_input.mean(axis=0).astype(np.float64)
            self.recent = np.concatenate([self.recent, mono])[-self.window :]
            self.level = float(np.sqrt(np.mean(self.recent**2)))
            found = self.pitch()
            if found:
                self.frequency = found * self.ratio
        if self.frequency <= 0:
            return np.zeros((1, n_out), dtype=np.float32)
        cycles = self.phase + self.frequency * np.arange(n_out) / self.sample_rate
        self.phase = float((self.phase + self.frequency * n_out / self.sample_rate) % 1.0)
        out = min(1.0, 2.0 * self.level) * 0.3 * np.sin(2 * np.pi * cycles)
        return out[np.newaxis, :].astype(np.float32)


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    model = None
    while True:
        message = read_message(stdin)
        if message is None:
            return 0
        header, audio = message
        try:
            if header["type"] == "hello":
                options = header.get("options", {})
                model = OctaveDrone(**options)
                info = {"name": "octave-drone", "version": "1", "sample_rate": model.sample_rate, "hop": model.hop}
                write_message(stdout, {"type": "info", "protocol_version": PROTOCOL_VERSION, "model": info})
            elif header["type"] == "reset":
                model.reset()
                write_message(stdout, {"type": "ready"})
            elif header["type"] == "step":
                n_out = header["chunk_frames"] * header["hop"]
                write_message(stdout, {"type": "chunk"}, model.step(audio, n_out))
            elif header["type"] == "close":
                write_message(stdout, {"type": "bye"})
                return 0
            else:
                raise ValueError(f"unknown message type {header['type']!r}")
        except Exception as error:
            print(f"external_model: {error!r}", file=sys.stderr)
            write_message(stdout, {"type": "error", "message": f"{type(error).__name__}: {error}"})
            return 1


if __name__ == "__main__":
    sys.exit(main())
