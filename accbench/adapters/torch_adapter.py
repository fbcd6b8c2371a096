"""The ``torch:`` adapter: a ``torch.nn.Module`` with a ``step`` method as a streaming model.

``load_model("torch:pkg.module:factory", device="cuda", dtype="bfloat16", compile=True)`` calls
``factory(**other_options)``, which returns an ``nn.Module``, and wraps it in :class:`TorchModel`.

What the module provides
    ``step(new_input, ctx) -> Tensor``: ``new_input`` is a ``(channels, n_new)`` tensor on the module's
    device and dtype (only the newly visible samples, as everywhere in accbench), ``ctx`` the
    :class:`~accbench.protocol.StepContext`; it returns ``(output_channels, chunk_frames * hop)``.
    Either an ``info`` attribute (a :class:`~accbench.protocol.ModelInfo`) or the attributes ``sample_rate``
    and ``hop`` (and optionally ``channels``, ``output_channels``, ``name``, ``version``, ``latency``).
    Optionally ``reset(session)`` (new song: clear state, seed any randomness from ``session.seed``; the
    adapter never touches torch's global RNG) and ``close()``.

What the adapter does
    Moves the module to ``device`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) and ``dtype`` and puts it in
    ``eval()`` mode; runs every call under ``torch.inference_mode()`` (or ``no_grad`` with
    ``inference_mode=False``); optionally compiles ``step`` with ``torch.compile`` (``compile=True`` or a
    backend name); runs ``warmup_calls`` untimed calls on silence at each ``reset`` whose chunk size was not
    warmed up yet, then resets the module again so warm-up leaves no state behind; converts the output to
    float32 numpy on the CPU (which waits for the device); and checks the output's type and shape, raising
    :class:`~accbench.errors.ModelError` naming the model otherwise. The module's declared ``latency`` (a
    latency spec such as ``"linear:12ms,0.4ms/frame"``) becomes ``info.latency`` unless ``latency=`` is
    given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from typing import Any

import numpy as np

from accbench.errors import ModelError
from accbench.protocol import ModelInfo, Session, StepContext

__all__ = ["DTYPES", "TorchModel", "load"]

DTYPES = ("float32", "float16", "bfloat16", "float64")


def _torch() -> Any:
    try:
        import torch
    except ImportError as error:  # pragma: no cover - torch is installed wherever this adapter is used
        raise ModelError("the torch adapter needs PyTorch: pip install 'accbench[torch]'", model="torch") from error
    return torch


def _resolve_device(torch: Any, device: str, label: str) -> Any:
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ModelError(f"invalid device {device!r}: {error}", model=label) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} requested but CUDA is not available to this torch", model=label)
    if resolved.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ModelError(f"device {device!r} requested but MPS is not available to this torch", model=label)
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ModelError(f"device {device!r}: expected cpu, cuda[:N] or mps", model=label)
    return resolved


class TorchModel:
    """Wrap an ``nn.Module`` with a ``step`` method as a streaming model (see the module docstring).

    Parameters
    ----------
    module : torch.nn.Module
    device : str
        ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    dtype : {"float32", "float16", "bfloat16", "float64"}
        Parameter and input dtype (default float32); the output is always float32.
    inference_mode : bool
        Run calls under ``torch.inference_mode()`` (default) instead of ``torch.no_grad()``.
    compile : bool or str
        ``True`` compiles ``step`` with ``torch.compile``; a string is the compile backend (e.g. ``"eager"``).
    warmup_calls : int
        Untimed calls on silence at each ``reset`` with a chunk size not yet warmed up (default 2).
    latency : str, optional
        Latency spec overriding the module's own declaration.
    name : str, optional
        Model name overriding the module's.
    """

    def __init__(
        self,
        module: Any,
        *,
        device: str = "cpu",
        dtype: str = "float32",
        inference_mode: bool = True,
        compile: bool | str = False,
        warmup_calls: int = 2,
        latency: str | None = None,
        name: str | None = None,
    ) -> None:
        torch = _torch()
        self._torch = torch
        label = name or getattr(module, "name", None) or type(module).__name__
        if not isinstance(module, torch.nn.Module):
            raise ModelError(
                f"expected a torch.nn.Module with a step method, got {type(module).__name__}", model=str(label)
            )
        if not callable(getattr(module, "step", None)):
            raise ModelError(f"{type(module).__name__} has no step(new_input, ctx) method", model=str(label))
        if dtype not in DTYPES:
            raise ModelError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", model=str(label))
        if int(warmup_calls) < 0:
            raise ModelError(f"warmup_calls must be >= 0, got {warmup_calls}", model=str(label))
        self.info = self._declared_info(module, latency, name)
        self.device = _resolve_device(torch, device, self.info.name)
        self.dtype = getattr(torch, dtype)
        self.module = module.to(device=self.device, dtype=self.dtype).eval()
        self.inference_mode = bool(inference_mode)
        self.warmup_calls = int(warmup_calls)
        self.warmed_up_calls = 0  # warm-up calls made so far (not seen by the simulator)
        self._warm: set[tuple[int, int]] = set()
        self._step = module.step
        if compile:
            options = {"backend": compile} if isinstance(compile, str) else {}
            try:
                self._step = torch.compile(module.step, **options)
            except Exception as error:
                raise ModelError(
                    f"torch.compile failed: {type(error).__name__}: {error}", model=self.info.name
                ) from error
        self._session: Session | None = None

    @staticmethod
    def _declared_info(module: Any, latency: str | None, name: str | None) -> ModelInfo:
        declared = getattr(module, "info", None)
        label = name or getattr(module, "name", None) or type(module).__name__
        try:
            if isinstance(declared, ModelInfo):
                info = declared
            else:
                missing = [attr for attr in ("sample_rate", "hop") if getattr(module, attr, None) is None]
                if missing:
                    raise ModelError(
                        f"{type(module).__name__} declares neither an accbench ModelInfo 'info' nor "
                        f"{' and '.join(missing)}",
                        model=str(label),
                    )
                info = ModelInfo(
                    name=str(label),
                    version=str(getattr(module, "version", "0")),
                    sample_rate=int(module.sample_rate),
                    hop=int(module.hop),
                    channels=int(getattr(module, "channels", 1)),
                    output_channels=getattr(module, "output_channels", None),
                    latency=getattr(module, "latency", None),
                )
            changes: dict[str, Any] = {}
            if latency is not None:
                changes["latency"] = latency
            if name is not None:
                changes["name"] = name
            if changes:
                info = dataclasses.replace(info, **changes)
        except (TypeError, ValueError) as error:
            raise ModelError(f"invalid model declaration: {error}", model=str(label)) from None
        return info

    def _grad_context(self) -> Any:
        return self._torch.inference_mode() if self.inference_mode else self._torch.no_grad()

    def _call(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        torch = self._torch
        array = np.array(new_input, dtype=np.float32, copy=True)  # the simulator's view is read-only
        x = torch.from_numpy(array).to(device=self.device, dtype=self.dtype)
        with self._grad_context():
            y = self._step(x, ctx)
        if not isinstance(y, torch.Tensor):
            raise ModelError(
                f"step returned {type(y).__name__}, expected a torch.Tensor", model=self.info.name, call=ctx.index
            )
        expected = (self.info.out_channels, ctx.chunk_frames * ctx.hop)
        if tuple(y.shape) != expected:
            raise ModelError(
                f"step returned a tensor of shape {tuple(y.shape)}, expected {expected} "
                "(output_channels, chunk_frames * hop)",
                model=self.info.name,
                song=None if self._session is None else self._session.song_id,
                call=ctx.index,
            )
        return y.detach().to(device="cpu", dtype=torch.float32).numpy()

    def _module_reset(self, session: Session) -> None:
        reset = getattr(self.module, "reset", None)
        if callable(reset):
            with self._grad_context():
                reset(session)

    def _warm_up(self, session: Session) -> None:
        key = (session.chunk_frames, session.hop)
        if self.warmup_calls == 0 or key in self._warm:
            return
        chunk = session.chunk_frames * session.hop
        first = min(max(session.future_visibility * session.hop, 0) + chunk, max(session.n_samples, 1))
        for index in range(self.warmup_calls):
            size = first if index == 0 else chunk
            silence = np.zeros((self.info.channels, size), dtype=np.float32)
            ctx = StepContext(
                index, index * chunk, first + index * chunk, session.chunk_frames, session.hop, True, chunk
            )
            self._call(silence, ctx)
            self.warmed_up_calls += 1
        self._warm.add(key)
        self._module_reset(session)  # warm-up leaves no state behind

    def reset(self, session: Session) -> None:
        """Reset the module for a new song, warming it up first for a new chunk size."""
        self._session = session
        self._module_reset(session)
        try:
            self._warm_up(session)
        except ModelError as error:
            raise ModelError(f"warm-up failed: {error.reason}", model=self.info.name, song=session.song_id) from error

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        """Run the module's ``step`` on the newly visible input; returns float32 ``(channels, K)``."""
        return self._call(new_input, ctx)

    def close(self) -> None:
        """Call the module's ``close`` if it has one and release the session."""
        close = getattr(self.module, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()
        self._session = None


def load(target: str, **options: Any) -> TorchModel:
    """Build the module with ``factory(**options)`` from ``"pkg.module:factory"`` and wrap it.

    Adapter options are the keyword arguments of :class:`TorchModel` (``device``, ``dtype``,
    ``inference_mode``, ``compile``, ``warmup_calls``, ``latency``, ``name``); every other keyword goes to the
    factory.

    Raises
    ------
    ModelError
        Import failure, a factory that raises or returns something that is not an ``nn.Module`` with ``step``,
        an unavailable device, an invalid dtype.
    """
    from accbench.models import import_target

    spec = f"torch:{target}"
    adapter_keys = inspect.signature(TorchModel).parameters.keys() - {"module"}
    adapter_options = {key: options.pop(key) for key in adapter_keys & options.keys()}
    factory = import_target(target, spec)
    try:
        module = factory(**options)
    except Exception as error:
        raise ModelError(f"factory raised {type(error).__name__}: {error}", model=spec) from error
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ModelError(
            f"factory returned {type(module).__name__}, expected a torch.nn.Module with a step method", model=spec
        )
    return TorchModel(module, **adapter_options)
