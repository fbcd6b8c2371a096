"""Reading audio files: empty, garbage and header-only files are one-line errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from accbench.audio import audio_info, load_audio
from accbench.errors import DataError


def _error(call, path, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        call(path, **kwargs)
    assert "\n" not in str(info.value) and info.value.path == str(path)
    return info.value


@pytest.mark.parametrize("read", [load_audio, audio_info])
def test_a_zero_byte_file_is_called_empty(tmp_path, read):
    path = tmp_path / "take1.wav"
    path.write_bytes(b"")
    error = _error(read, path, song="take1")
    assert str(error) == f"song 'take1', file {str(path)!r}: the file is empty (0 bytes), not audio"
    assert "Format not recognised" not in str(error)


@pytest.mark.parametrize("read", [load_audio, audio_info])
def test_a_short_garbage_file_names_libsndfile_reason_and_size_once(tmp_path, read):
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"hello, not a RIFF file")
    error = _error(read, path)
    assert str(error) == f"file {str(path)!r}: cannot read audio: Format not recognised (22 bytes)"
    assert str(error).count(str(path)) == 1


def test_a_truncated_wav_header_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    message = str(_error(load_audio, path, song="cut"))
    assert message.startswith(f"song 'cut', file {str(path)!r}: cannot read audio: ")
    assert message.endswith("(16 bytes)") and "Error opening" not in message


@pytest.mark.parametrize("read", [load_audio, audio_info])
def test_a_valid_file_without_samples_and_a_missing_file(tmp_path, read):
    path = tmp_path / "silent.wav"
    soundfile.write(str(path), np.zeros(0, dtype=np.float32), 8000)
    assert path.stat().st_size > 0
    assert _error(read, path).reason == "audio file has no samples"
    assert _error(read, tmp_path / "nope.wav").reason == "file not found"


def test_a_good_file_still_reads(tmp_path):
    path = tmp_path / "ok.wav"
    soundfile.write(str(path), np.full((80, 2), 0.25, dtype=np.float32), 8000, subtype="FLOAT")
    audio, rate = load_audio(path)
    assert rate == 8000 and audio.shape == (2, 80) and np.all(audio == 0.25)
    info = audio_info(path)
    assert (info.frames, info.samplerate, info.channels) == (80, 8000, 2)
