"""The torch adapter: device/dtype/inference mode, warm-up, compile, declared latency, clear errors."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import accbench  # noqa: E402
from accbench.adapters.torch_adapter import TorchModel  # noqa: E402
from accbench.errors import ModelError  # noqa: E402
from accbench.models import load_model  # noqa: E402

SR, HOP = 8000, 80

MODULE = textwrap.dedent(
    '''
    import torch

    class EchoGain(torch.nn.Module):
        """Plays the input delayed by one chunk, times a learned gain (state: the last visible samples)."""

        sample_rate = 8000
        hop = 80
        name = "echo-gain"
        version = "3"

        def __init__(self, gain=0.5, latency=None, bad_shape=False, returns_numpy=False):
            super().__init__()
            self.gain = torch.nn.Parameter(torch.tensor(float(gain)))
            self.latency = latency
            self.bad_shape = bad_shape
            self.returns_numpy = returns_numpy
            self.calls = 0
            self.resets = 0
            self.modes = []
            self.dtypes = []
            self.history = torch.zeros(1, 0)

        def reset(self, session):
            self.resets += 1
            self.history = torch.zeros(1, 0, dtype=self.gain.dtype)

        def step(self, new_input, ctx):
            self.calls += 1
            self.modes.append(torch.is_inference_mode_enabled())
            self.dtypes.append(new_input.dtype)
            self.history = torch.cat([self.history, new_input], dim=1)
            n = ctx.chunk_frames * ctx.hop
            out = torch.zeros(1, n, dtype=new_input.dtype)
            piece = self.history[:, ctx.chunk_start - n : ctx.chunk_start] if ctx.chunk_start >= n else None
            if piece is not None:
                out[:, : piece.shape[1]] = self.gain * piece
            if self.bad_shape:
                return out[:, :-1]
            if self.returns_numpy:
                return out.numpy()
            return out

    def make(**options):
        return EchoGain(**options)

    def not_a_module(**options):
        return object()

    def broken(**options):
        raise RuntimeError("checkpoint missing")
    '''
)


@pytest.fixture
def echo(tmp_path, monkeypatch):
    (tmp_path / "accbench_test_echo.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "accbench_test_echo"


def _input(seconds: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.standard_normal((1, int(SR * seconds))).astype(np.float32)


def test_torch_model_runs_in_inference_mode_with_warm_up_not_counted(echo):
    model = load_model(f"torch:{echo}:make", gain=0.5, warmup_calls=3)
    assert isinstance(model, TorchModel)
    assert (model.info.name, model.info.version, model.info.sample_rate, model.info.hop) == ("echo-gain", "3", SR, HOP)
    x = _input()
    result = accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    n_calls = len(result.events)
    assert model.warmed_up_calls == 3
    assert model.module.calls == n_calls + 3  # warm-up calls happened, the simulator saw only its own
    assert model.module.resets == 2  # before and after warm-up: no warm-up state leaks into the song
    assert all(model.module.modes)
    chunk = 4 * HOP
    expected = np.zeros_like(x)
    expected[:, chunk:] = 0.5 * x[:, :-chunk]
    np.testing.assert_allclose(result.output, expected, rtol=1e-6)
    # A second song with the same chunk size is not warmed up again; a new chunk size is.
    accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    assert model.warmed_up_calls == 3
    accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=2)
    assert model.warmed_up_calls == 6


def test_dtype_and_no_grad_options(echo):
    model = load_model(f"torch:{echo}:make", dtype="float64", inference_mode=False, warmup_calls=0)
    x = _input()
    result = accbench.simulate(model, x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    assert result.output.dtype == np.float32
    assert set(model.module.dtypes) == {torch.float64}
    assert not any(model.module.modes)
    assert model.module.gain.dtype == torch.float64


def test_compile_gives_the_same_output(echo):
    x = _input(0.3)
    plain = accbench.simulate(load_model(f"torch:{echo}:make"), x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    compiled_model = load_model(f"torch:{echo}:make", compile="eager")
    compiled = accbench.simulate(compiled_model, x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    np.testing.assert_array_equal(plain.output, compiled.output)


def test_declared_latency_is_used_unless_overridden(echo):
    model = load_model(f"torch:{echo}:make", latency="fixed:5ms")
    assert model.info.latency == "fixed:5ms"
    result = accbench.simulate(model, _input(), sample_rate=SR, future_visibility=-1, chunk_frames=4)
    assert set(result.events["inference_time"]) == {40}  # 5 ms at 8 kHz
    module = __import__(echo).make(latency="fixed:5ms")
    assert TorchModel(module, latency="fixed:1ms").info.latency == "fixed:1ms"


def test_wrong_output_shape_or_type_is_a_model_error_naming_the_model(echo):
    model = load_model(f"torch:{echo}:make", bad_shape=True, warmup_calls=0)
    with pytest.raises(ModelError, match=r"step returned a tensor of shape \(1, 319\), expected \(1, 320\)") as caught:
        accbench.simulate(model, _input(), sample_rate=SR, future_visibility=0, chunk_frames=4, song_id="s1")
    assert caught.value.model == "echo-gain" and caught.value.call == 0 and caught.value.song == "s1"
    numpy_model = load_model(f"torch:{echo}:make", returns_numpy=True, warmup_calls=0)
    with pytest.raises(ModelError, match="step returned ndarray, expected a torch.Tensor"):
        accbench.simulate(numpy_model, _input(), sample_rate=SR, future_visibility=0, chunk_frames=4)
    warming = load_model(f"torch:{echo}:make", bad_shape=True)
    with pytest.raises(ModelError, match="warm-up failed"):
        accbench.simulate(warming, _input(), sample_rate=SR, future_visibility=0, chunk_frames=4)


def test_bad_factories_and_options_are_clear_errors(echo):
    with pytest.raises(ModelError, match="factory returned object, expected a torch.nn.Module"):
        load_model(f"torch:{echo}:not_a_module")
    with pytest.raises(ModelError, match="factory raised RuntimeError: checkpoint missing"):
        load_model(f"torch:{echo}:broken")
    with pytest.raises(ModelError, match="has no attribute 'nope'"):
        load_model(f"torch:{echo}:nope")
    with pytest.raises(ModelError, match="dtype must be one of"):
        load_model(f"torch:{echo}:make", dtype="int8")
    with pytest.raises(ModelError, match="has no step"):
        TorchModel(torch.nn.Linear(2, 2))
    with pytest.raises(ModelError, match="declares neither"):
        TorchModel(type("NoInfo", (torch.nn.Module,), {"step": lambda self, x, ctx: x})())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
def test_unavailable_device_is_a_clear_error(echo):
    with pytest.raises(ModelError, match="device 'cuda' requested but CUDA is not available"):
        load_model(f"torch:{echo}:make", device="cuda")
    with pytest.raises(ModelError, match="invalid device 'gpu0'"):
        load_model(f"torch:{echo}:make", device="gpu0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device_gives_the_cpu_output(echo):
    x = _input(0.3)
    cpu = accbench.simulate(load_model(f"torch:{echo}:make"), x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    gpu_model = load_model(f"torch:{echo}:make", device="cuda")
    assert gpu_model.module.gain.device.type == "cuda"
    gpu = accbench.simulate(gpu_model, x, sample_rate=SR, future_visibility=0, chunk_frames=4)
    np.testing.assert_allclose(gpu.output, cpu.output, rtol=1e-6, atol=1e-7)
