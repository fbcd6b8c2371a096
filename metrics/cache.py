"""Cache of analyses keyed by audio content, analyzer name, analyzer version and parameters; the ``@cached`` decorator.

An analysis of an input or reference (beats, chords, chroma, embeddings) is computed once per song and
reused by every config of a sweep. The key is a SHA-256 of the audio bytes (with shape, dtype and sample
rate), the analyzer's name and version, and its parameters, so a changed file, a changed parameter or a
new analyzer version never reuses a stale result (unlike caches keyed by file name).

Caching an analyzer
-------------------
:func:`cached` (like librosa's ``@cache``, but keyed by content) turns a plain analyzer
``f(audio, sample_rate, **params) -> dict`` into a cached one. The parameters of the key come from the call
itself: ``inspect.signature(f).bind(...)`` followed by ``apply_defaults()``, so every parameter, given or
defaulted, is in the key; an analyzer that forwards ``**options`` to helper functions declares them
(``helpers=``) and every defaulted parameter of those helpers enters the key with its effective value. Changing
a default (of the analyzer or of a helper) therefore changes the key and recomputes; it can never serve a
stale entry. Settings that are not parameters (module constants the result depends on, a backend's package
version) are declared with ``depends_on=``; parameters that must not enter the key (not JSON-serialisable,
or not affecting the result) with ``ignore=``.

The wrapper adds two keyword-only arguments, so every cached analyzer is called as
``analyzer(audio, sample_rate, cache=cache, content_hash=h, **options)``:

- ``cache``: an :class:`AnalysisCache`; ``None`` (the default) means the cache of the enclosing analyzer call
  if there is one, else :func:`default_cache`.
- ``content_hash``: :func:`audio_hash` of ``audio`` when the caller has it already (a caller scoring one
  signal many times hashes it once).

Docstrings: the shared arguments are documented once, here, for every analyzer. The wrapper's docstring is
the analyzer's with the entries ``audio`` and ``sample_rate`` added at the start of its numpydoc Parameters
section and ``cache`` and ``content_hash`` at its end (like scipy's docstring templates), so an analyzer's own
docstring lists only its own parameters (or has no Parameters section) and ``help()`` shows them all.

Analyzers calling analyzers: while a cached analyzer computes, the wrapper records the active cache, the audio
object and its hash in a :class:`contextvars.ContextVar`. An analyzer called inside it (``beats`` calls
``onset_envelope``) without ``cache=`` uses that cache and, when it gets the *same audio object* at the same
sample rate, that hash. This keeps analyzer bodies plain functions of audio and parameters (passing the cache
on explicitly would put ``cache=`` and ``content_hash=`` back into every analyzer that calls another); the
identity check means an inner call on other audio hashes its own; context variables are per thread, so
concurrent workers never see each other's caches. :func:`uses_cache` gives a function that only dispatches to
cached analyzers (a backend switch) the same two arguments without caching anything itself.

Values
------
A value is a dict of names to arrays or scalars (numbers or strings; no object arrays), stored as ``.npz``
without pickle (``allow_pickle=False``) and written atomically (:func:`accbench.atomic.atomic_path`). 0-d
entries come back as Python scalars (``str``, ``float``, ``int``, ``bool``) and arrays stay arrays, with the
same types on all three paths: a fresh computation, an in-memory hit and an on-disk hit. ``computed`` and
``hits`` count computations and hits per analyzer name, which tests use to check that a sweep analyses each
song once.

Key format and compatibility
----------------------------
A key is ``sha256("<analyzer>|<version>|<content hash>|<parameters as sorted JSON>")`` and an entry lives at
``<root>/<analyzer>/<key[:2]>/<key>.npz``, as before the decorator. The parameters of the analyzers in
:mod:`accbench.metrics.analysis` are now named after their signatures (and include ``sample_rate``), so their
keys changed when they moved to :func:`cached`: entries written before are simply not found and are
recomputed; they are never served stale. No analyzer version was bumped for this (the outputs did not change).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import inspect
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accbench.atomic import atomic_path
from accbench.audio import as_channels_first

__all__ = [
    "AnalysisCache",
    "audio_hash",
    "cached",
    "default_cache",
    "default_cache_dir",
    "options_for",
    "uses_cache",
]


def default_cache_dir() -> Path:
    """``$ACCBENCH_CACHE``, else ``~/.cache/accbench``."""
    root = os.environ.get("ACCBENCH_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "accbench"


def audio_hash(audio: np.ndarray, sample_rate: int) -> str:
    """SHA-256 hex digest of an audio array's content, shape, dtype and sample rate."""
    array = np.ascontiguousarray(audio)
    digest = hashlib.sha256()
    digest.update(f"{array.dtype.str}|{array.shape}|{int(sample_rate)}|".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def _params_key(params: Mapping[str, object]) -> str:
    return json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))


def _storable(analyzer: str, value: Mapping[str, Any]) -> dict[str, np.ndarray]:
    arrays = {str(name): np.asarray(item) for name, item in value.items()}
    for name, array in arrays.items():
        if array.dtype == object:
            raise TypeError(f"analyzer {analyzer!r} returned an object array for {name!r}; cannot cache it")
    return arrays


def _restored(arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """0-d arrays as Python scalars (``str``, ``float``, ``int``, ``bool``); other arrays unchanged."""
    return {name: array.item() if array.ndim == 0 else array for name, array in arrays.items()}


class AnalysisCache:
    """Analyses cached in memory and, when ``root`` is given, on disk.

    Parameters
    ----------
    root : path or None
        Folder for ``.npz`` files; ``None`` keeps results in memory only.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else None
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.computed: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()

    def key(self, analyzer: str, version: str, content_hash: str, params: Mapping[str, object]) -> str:
        """The cache key of one analysis."""
        text = f"{analyzer}|{version}|{content_hash}|{_params_key(params)}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, analyzer: str, key: str) -> Path | None:
        if self.root is None:
            return None
        return self.root / analyzer / key[:2] / f"{key}.npz"

    def _load(self, path: Path | None) -> dict[str, Any] | None:
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                return _restored({name: stored[name] for name in stored.files})
        except (OSError, ValueError, EOFError):
            return None  # an unreadable entry is recomputed and replaced

    def get_or_compute(
        self,
        analyzer: str,
        version: str,
        content_hash: str,
        params: Mapping[str, object],
        compute: Callable[[], Mapping[str, Any]],
    ) -> dict[str, Any]:
        """Return the cached analysis, computing and storing it on a miss.

        Parameters
        ----------
        analyzer : str
            Analyzer name (a folder name: letters, digits, ``-``, ``_``, ``.``).
        version : str
            Analyzer version; bump it whenever the analyzer's output changes.
        content_hash : str
            From :func:`audio_hash` (or a hash combining several inputs).
        params : mapping
            JSON-serialisable parameters that affect the result.
        compute : callable
            Returns a mapping of names to arrays or scalars (numeric or string; no object arrays).

        Returns
        -------
        dict
            A new dict on every call: arrays as arrays, 0-d values as Python scalars, whether computed now,
            found in memory or read from disk.
        """
        key = self.key(analyzer, version, content_hash, params)
        with self._lock:
            if key in self._memory:
                self.hits[analyzer] += 1
                return dict(self._memory[key])
        path = self._path(analyzer, key)
        value = self._load(path)
        if value is not None:
            with self._lock:
                self._memory[key] = value
                self.hits[analyzer] += 1
            return dict(value)
        arrays = _storable(analyzer, compute())
        if path is not None:
            with atomic_path(path) as temporary, open(temporary, "wb") as handle:
                np.savez(handle, **arrays)
        value = _restored(arrays)
        with self._lock:
            self._memory[key] = value
            self.computed[analyzer] += 1
        return dict(value)

    def clear_memory(self) -> None:
        """Forget in-memory entries (on-disk entries stay)."""
        with self._lock:
            self._memory.clear()


_DEFAULT: AnalysisCache | None = None


def default_cache() -> AnalysisCache:
    """The process-wide cache used when a caller passes none (memory only unless ``ACCBENCH_CACHE`` is set)."""
    global _DEFAULT
    if _DEFAULT is None:
        root = os.environ.get("ACCBENCH_CACHE")
        _DEFAULT = AnalysisCache(root if root else None)
    return _DEFAULT


# ----------------------------------------------------------------------------------------------------------
# The decorator


@dataclass(frozen=True)
class _Active:
    """The cache, audio object and content hash of the analyzer call in progress."""

    cache: AnalysisCache
    audio: object
    sample_rate: int
    content_hash: str | None


_ACTIVE: contextvars.ContextVar[_Active | None] = contextvars.ContextVar("accbench_active_analysis", default=None)


def _resolve(
    audio: np.ndarray, sample_rate: int, cache: AnalysisCache | None, content_hash: str | None, *, need_hash: bool
) -> _Active:
    """Explicit arguments first, then the enclosing call's (same audio object only), then the defaults."""
    active = _ACTIVE.get()
    if cache is None:
        cache = active.cache if active is not None else default_cache()
    same_audio = active is not None and active.audio is audio and active.sample_rate == int(sample_rate)
    if content_hash is None and same_audio:
        content_hash = active.content_hash
    if content_hash is None and need_hash:
        content_hash = audio_hash(as_channels_first(audio), int(sample_rate))
    return _Active(cache, audio, int(sample_rate), content_hash)


@dataclass(frozen=True)
class _Call:
    """One call of a wrapped analyzer: the analyzer's arguments and the two cache arguments."""

    audio: np.ndarray
    sample_rate: int
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    cache: AnalysisCache | None
    content_hash: str | None

    def resolve(self, *, need_hash: bool) -> _Active:
        return _resolve(self.audio, self.sample_rate, self.cache, self.content_hash, need_hash=need_hash)

    def of(self, function: Callable[..., Any]) -> Any:
        """``function`` called with the analyzer's arguments."""
        return function(self.audio, self.sample_rate, *self.args, **self.kwargs)


@contextlib.contextmanager
def _activated(active: _Active) -> Iterator[None]:
    token = _ACTIVE.set(active)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _json_value(value: object, where: str) -> object:
    """``value`` as plain JSON types (numpy scalars become Python scalars); TypeError when impossible."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_json_value(item, where) for item in value]
    if isinstance(value, Mapping) and all(isinstance(name, str) for name in value):
        return {name: _json_value(item, where) for name, item in value.items()}
    raise TypeError(
        f"{where} = {value!r} is not JSON-serialisable and cannot enter a cache key; "
        "declare it with cached(..., ignore=(name,)) if it does not affect the result"
    )


def _helper_defaults(helpers: Sequence[Callable[..., Any]], ignore: Sequence[str]) -> dict[str, object]:
    """Every parameter with a default of ``helpers`` (read now, so a changed default is seen), less ``ignore``."""
    defaults: dict[str, object] = {}
    for helper in helpers:
        for parameter in inspect.signature(helper).parameters.values():
            if parameter.default is not parameter.empty and parameter.name not in ignore:
                defaults.setdefault(parameter.name, parameter.default)
    return defaults


def options_for(helper: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``options`` that name parameters of ``helper`` (to forward an analyzer's ``**options``)."""
    names = inspect.signature(helper).parameters
    return {name: value for name, value in options.items() if name in names}


def _key_params(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    helpers: Sequence[Callable[..., Any]],
    ignore: Sequence[str],
) -> dict[str, object]:
    """The parameters of one call as they enter the key: bound arguments with defaults, plus helper defaults.

    Raises TypeError for arguments the analyzer does not accept, exactly as calling it would.
    """
    signature = inspect.signature(function)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    params: dict[str, object] = {}
    options: dict[str, object] = {}
    for index, (name, value) in enumerate(bound.arguments.items()):
        kind = signature.parameters[name].kind
        if index == 0 or name in ignore:
            continue  # the audio itself enters the key through its content hash
        if index == 1:
            params[name] = int(value)  # the sample rate: 44100 and 44100.0 are one key
        elif kind is inspect.Parameter.VAR_KEYWORD:
            options = dict(value)
        else:
            params[name] = value
    if helpers:
        exposed = _helper_defaults(helpers, ignore)
        unknown = sorted(set(options) - set(exposed))
        if unknown:
            names = ", ".join(helper.__name__ for helper in helpers)
            raise TypeError(f"{function.__name__}() got unexpected option(s) {unknown}; it forwards those of {names}")
        options = {name: options.get(name, default) for name, default in exposed.items()}
    params.update({name: value for name, value in options.items() if name not in ignore})
    return {name: _json_value(value, f"{function.__name__}({name}=...)") for name, value in params.items()}


def _settings(name: str, settings: Mapping[str, object], params: Mapping[str, object]) -> dict[str, object]:
    """``depends_on`` settings as JSON values; a setting may not reuse a parameter's name."""
    clash = sorted(set(settings) & set(params))
    if clash:
        raise ValueError(f"analyzer {name!r}: depends_on settings {clash} have the names of parameters")
    return {key: _json_value(value, f"{name} setting {key}") for key, value in settings.items()}


def _with_cache_parameters(signature: inspect.Signature) -> inspect.Signature:
    """``signature`` plus keyword-only ``cache=None`` and ``content_hash=None`` (before any ``**options``)."""
    parameters = list(signature.parameters.values())
    tail = [p for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
    added = [
        inspect.Parameter("cache", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="AnalysisCache | None"),
        inspect.Parameter("content_hash", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"),
    ]
    return signature.replace(parameters=[*head, *added, *tail])


_AUDIO_ENTRIES = """\
audio : ndarray, shape (channels, n_samples) or (n_samples,)
    Float samples (any number of channels).
sample_rate : int
    Hz of ``audio``."""
_CACHE_ENTRIES = """\
cache : AnalysisCache or None, keyword-only
    Where the result is looked up and stored; ``None``: the enclosing analyzer call's cache, else
    :func:`~accbench.metrics.cache.default_cache`.
content_hash : str or None, keyword-only
    :func:`~accbench.metrics.cache.audio_hash` of ``audio`` when the caller has it already (hashing it once
    for many calls)."""


def _with_shared_entries(doc: str | None) -> str | None:
    """``doc`` (cleaned) with the shared entries in its numpydoc Parameters section.

    ``audio`` and ``sample_rate`` come first and ``cache`` and ``content_hash`` last; a docstring without a
    Parameters section gets one before its first section (or at its end).
    """
    if doc is None:
        return None
    lines = inspect.cleandoc(doc).split("\n")
    # A section is a title line underlined by dashes of its length.
    starts = [i - 1 for i in range(1, len(lines)) if set(lines[i]) == {"-"} and len(lines[i]) == len(lines[i - 1])]
    audio, cache = _AUDIO_ENTRIES.split("\n"), _CACHE_ENTRIES.split("\n")
    if "Parameters" not in [lines[i] for i in starts]:
        at = starts[0] if starts else len(lines)
        block = ["Parameters", "----------", *audio, *cache, ""]
        lines[at:at] = block if starts else ["", *block[:-1]]
        return "\n".join(lines)
    start = next(i for i in starts if lines[i] == "Parameters")
    end = next((i for i in starts if i > start), len(lines))
    while not lines[end - 1].strip():
        end -= 1
    lines[end:end] = cache
    lines[start + 2 : start + 2] = audio
    return "\n".join(lines)


def _check_analyzer(function: Callable[..., Any]) -> None:
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = list(inspect.signature(function).parameters.values())
    if len(parameters) < 2 or any(p.kind not in positional for p in parameters[:2]):
        raise TypeError(f"{function.__name__} must take (audio, sample_rate, ...) to be an analyzer")
    if any(p.name in ("cache", "content_hash") for p in parameters):
        raise TypeError(f"{function.__name__}: the wrapper adds cache= and content_hash=; the analyzer must not")


def _analyzer_wrapper(function: Callable[..., Any], run: Callable[[_Call], Any]) -> Callable[..., Any]:
    """``function``'s wrapper: ``(audio, sample_rate, *args, cache=None, content_hash=None, **kwargs)`` to ``run``.

    ``run(call)`` does the work with the :class:`_Call`; the wrapper has ``function``'s name, docstring (with
    the shared parameter entries, see :func:`_with_shared_entries`) and signature, plus the two keyword-only
    cache arguments.
    """
    _check_analyzer(function)

    @functools.wraps(function)
    def wrapper(
        audio: np.ndarray,
        sample_rate: int,
        *args: Any,
        cache: AnalysisCache | None = None,
        content_hash: str | None = None,
        **kwargs: Any,
    ) -> Any:
        return run(_Call(audio, sample_rate, args, kwargs, cache, content_hash))

    wrapper.__signature__ = _with_cache_parameters(inspect.signature(function))  # type: ignore[attr-defined]
    wrapper.__doc__ = _with_shared_entries(function.__doc__)
    return wrapper


def cached(
    name: str,
    *,
    version: str | Mapping[str, str],
    helpers: Sequence[Callable[..., Any]] = (),
    ignore: Sequence[str] = (),
    depends_on: Callable[[], Mapping[str, object]] | None = None,
) -> Callable[[Callable[..., Mapping[str, Any]]], Callable[..., dict[str, Any]]]:
    """Decorator: cache a plain analyzer ``f(audio, sample_rate, **params) -> dict`` by audio content.

    See the module docstring for the key, the added ``cache=`` and ``content_hash=`` arguments and how nested
    analyzer calls share them.

    Parameters
    ----------
    name : str
        Analyzer name: the ``computed`` / ``hits`` counter and the cache folder (letters, digits, ``-_.``).
    version : str or mapping
        The analyzer's version, or a table of versions looked up by ``name`` on every call.
    helpers : sequence of callables
        Functions the analyzer forwards its ``**options`` to (with :func:`options_for`): only their parameters
        are accepted as options, and each of their defaulted parameters enters the key with its effective
        value (the option, else the helper's current default).
    ignore : sequence of str
        Parameters left out of the key (not JSON-serialisable, or not affecting the result, e.g. a progress
        callback); a helper parameter named here is one the analyzer sets itself and is not accepted as an option.
    depends_on : callable or None
        Returns further JSON-serialisable settings the result depends on that are not parameters (module
        constants, a backend's package version); called on every call, before the audio is hashed.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"analyzer name {name!r} must be letters, digits, '-', '_' or '.'")
    if not isinstance(version, str) and name not in version:
        raise KeyError(f"analyzer {name!r} has no entry in its version table")

    def decorate(function: Callable[..., Mapping[str, Any]]) -> Callable[..., dict[str, Any]]:
        def run(call: _Call) -> dict[str, Any]:
            params = _key_params(function, (call.audio, call.sample_rate, *call.args), call.kwargs, helpers, ignore)
            if depends_on is not None:
                params.update(_settings(name, depends_on(), params))
            active = call.resolve(need_hash=True)

            def compute() -> Mapping[str, Any]:
                with _activated(active):
                    return call.of(function)

            current = version if isinstance(version, str) else version[name]
            return active.cache.get_or_compute(name, str(current), str(active.content_hash), params, compute)

        wrapper = _analyzer_wrapper(function, run)
        wrapper.analyzer_name = name  # type: ignore[attr-defined]
        return wrapper

    return decorate


def uses_cache(function: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for a function of ``(audio, sample_rate, ...)`` that only calls cached analyzers.

    The wrapper accepts the same keyword-only ``cache=`` and ``content_hash=`` as a :func:`cached` analyzer and
    makes them active for the analyzers ``function`` calls on the same audio object; it caches nothing itself
    and hashes nothing (the cached analyzer it calls hashes the audio once, if no hash was given).
    """

    def run(call: _Call) -> Any:
        with _activated(call.resolve(need_hash=False)):
            return call.of(function)

    return _analyzer_wrapper(function, run)
