"""The trials of a pairwise listening study: a balanced design drawn from one seed.

Every unordered pair of systems is compared equally often; the songs are spread over the trials (each pair
hears different songs where it can, and every song is used about equally often); the presentation order and
which system plays as "A" are drawn from the seed. Optional attention checks pair a system with *silence*
(the input with no accompaniment) or with a *mismatched* song (the same system's accompaniment of another
song under this song's input); their expected answer is the real accompaniment.

- :class:`Trial`: one page of the study.
- :func:`balanced_design`: the trials of a study.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from accbench.errors import ConfigError

__all__ = ["CHECK_KINDS", "Trial", "balanced_design", "pair_count"]

#: Attention-check kinds: the system against the input alone, or against its accompaniment of another song.
CHECK_KINDS = ("silence", "mismatch")


@dataclass(frozen=True)
class Trial:
    """One pairwise trial.

    Attributes
    ----------
    id : str
        ``t001``, ``t002``, ... in presentation order.
    song : str
        The song whose input both sides play.
    a, b : str
        The system labels heard as "A" and "B"; for a check the side that is not the real accompaniment is
        ``"check:silence"`` or ``"check:mismatch"``.
    check : str
        ``""`` for a comparison, else the check kind (:data:`CHECK_KINDS`).
    expected : str
        A check's right answer (``"A"`` or ``"B"``); ``""`` for a comparison.
    other_song : str
        A mismatch check's source of the wrong accompaniment; ``""`` otherwise.
    """

    id: str
    song: str
    a: str
    b: str
    check: str = ""
    expected: str = ""
    other_song: str = ""

    def to_dict(self) -> dict[str, str]:
        """The trial as a plain dict (``study.json``)."""
        return asdict(self)


def pair_count(n_systems: int) -> int:
    """Unordered pairs of ``n_systems`` systems."""
    return n_systems * (n_systems - 1) // 2


def _check_counts(systems: Sequence[str], songs: Sequence[str], n_trials: int | None) -> int:
    if len(set(systems)) != len(systems) or len(systems) < 2:
        raise ConfigError(f"a listening study needs at least 2 distinct systems, got {list(systems)}")
    if not songs:
        raise ConfigError("a listening study needs at least one song with audio")
    pairs = pair_count(len(systems))
    if n_trials is None:
        return pairs * len(songs)
    if n_trials < pairs or n_trials % pairs:
        low = max(pairs, n_trials // pairs * pairs)
        raise ConfigError(
            f"--trials {n_trials} cannot show each of the {pairs} pairs of {len(systems)} systems equally often: "
            f"use a multiple of {pairs} (e.g. {low} or {low + pairs})"
        )
    return n_trials


def _comparisons(systems: Sequence[str], songs: Sequence[str], n_trials: int, rng: np.random.Generator) -> list[dict]:
    """Each pair ``n_trials / pairs`` times, songs dealt in a seeded cycle, sides alternating from a random start."""
    pairs = list(itertools.combinations(systems, 2))
    repeats = n_trials // len(pairs)
    pairs = [pairs[i] for i in rng.permutation(len(pairs))]
    deal = [songs[i] for i in rng.permutation(len(songs))]
    trials = []
    for p, (first, second) in enumerate(pairs):
        flip = bool(rng.integers(2))
        for r in range(repeats):
            song = deal[(p * repeats + r) % len(deal)]
            a, b = (second, first) if (flip ^ bool(r % 2)) else (first, second)
            trials.append({"song": song, "a": a, "b": b})
    return trials


def _checks(
    kinds: Sequence[str],
    n_checks: int,
    songs: Sequence[str],
    audible: Mapping[str, Sequence[str]],
    rng: np.random.Generator,
) -> list[dict]:
    """``n_checks`` attention checks, kinds in turn, each a random audible system on a random song."""
    unknown = [kind for kind in kinds if kind not in CHECK_KINDS]
    if unknown:
        raise ConfigError(f"unknown attention-check kind {unknown[0]!r}: choose from {', '.join(CHECK_KINDS)}")
    if n_checks and not kinds:
        raise ConfigError("attention checks need at least one kind (silence, mismatch)")
    checks = []
    for index in range(n_checks):
        kind = kinds[index % len(kinds)]
        choices = [(song, system) for song in songs for system in audible.get(song, ())]
        if kind == "mismatch":
            choices = [(s, x) for s, x in choices if any(o != s and x in audible.get(o, ()) for o in songs)]
        if not choices:
            need = "two songs with audio of one system" if kind == "mismatch" else "a system with audible output"
            raise ConfigError(f"cannot make a {kind!r} attention check: the study needs {need}")
        song, system = choices[int(rng.integers(len(choices)))]
        other = ""
        if kind == "mismatch":
            others = [o for o in songs if o != song and system in audible.get(o, ())]
            other = others[int(rng.integers(len(others)))]
        real_first = bool(rng.integers(2))
        fake = f"check:{kind}"
        a, b = (system, fake) if real_first else (fake, system)
        checks.append(
            {"song": song, "a": a, "b": b, "check": kind, "expected": "A" if real_first else "B", "other_song": other}
        )
    return checks


def balanced_design(
    systems: Sequence[str],
    songs: Sequence[str],
    *,
    n_trials: int | None = None,
    seed: int = 0,
    checks: int = 0,
    check_kinds: Sequence[str] = CHECK_KINDS,
    audible: Mapping[str, Sequence[str]] | None = None,
) -> list[Trial]:
    """The trials of a pairwise study, in presentation order.

    Parameters
    ----------
    systems : sequence of str
        System labels (at least 2, distinct).
    songs : sequence of str
        Songs every system has audio for.
    n_trials : int, optional
        Comparisons (attention checks not counted): a multiple of the number of pairs. Default: every pair
        once per song.
    seed : int
        Seed of every random choice (pair order, songs, sides, checks and their positions).
    checks : int
        Attention checks to add.
    check_kinds : sequence of str
        Their kinds, used in turn (:data:`CHECK_KINDS`).
    audible : mapping, optional
        Per song, the systems whose output is not silent (the checks use only those). Default: all.

    Returns
    -------
    trials : list of Trial
        ``n_trials + checks`` trials; a check is never the first trial.

    Raises
    ------
    ConfigError
        Fewer than 2 systems, no song, a trial count that cannot be balanced, or checks that cannot be made.
    """
    systems, songs = [str(s) for s in systems], [str(s) for s in songs]
    n_trials = _check_counts(systems, songs, n_trials)
    rng = np.random.default_rng(seed)
    comparisons = _comparisons(systems, songs, n_trials, rng)
    ordered = [comparisons[i] for i in rng.permutation(len(comparisons))]
    audible = {song: list(systems) for song in songs} if audible is None else audible
    for check in _checks(list(check_kinds), int(checks), songs, audible, rng):
        ordered.insert(int(rng.integers(1, len(ordered) + 1)), check)
    width = max(3, len(str(len(ordered))))
    return [Trial(id=f"t{i + 1:0{width}d}", **fields) for i, fields in enumerate(ordered)]
