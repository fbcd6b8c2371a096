"""Answers of a listening study: one checked record per (participant, trial).

An answer is what the page sends and downloads: ``study`` (the study id), ``participant``, ``trial``,
``choice`` (``"A"`` or ``"B"``), the optional ratings ``coherence_a``, ``coherence_b``, ``quality_a``,
``quality_b`` (integers 1-5 or null), ``plays_a`` and ``plays_b`` (how often each side was played),
``seconds`` on the page and ``answered_at`` (ISO time). Files are the page's download
(``answers-<participant>.json``: ``{"format": "accbench-listen-answers", "answers": [...]}``) or the
server's log (``answers/<participant>.jsonl``, one answer a line); a folder is read for both.

- :func:`load_study`: ``study.json`` of a study folder.
- :func:`check_answer`: one answer checked against the study (:class:`AnswerError` says why not).
- :func:`read_answers`: the answers of files and folders as one table.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from accbench.errors import DataError

__all__ = [
    "ANSWER_COLUMNS",
    "PARTICIPANT_PATTERN",
    "RATINGS",
    "AnswerError",
    "check_answer",
    "load_study",
    "read_answers",
]

log = logging.getLogger(__name__)

#: A participant id: what the page accepts, and a safe file name.
PARTICIPANT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: The optional ratings, integers 1 to 5.
RATINGS = ("coherence_a", "coherence_b", "quality_a", "quality_b")

#: Columns of :func:`read_answers`' table.
ANSWER_COLUMNS = ("participant", "trial", "choice", *RATINGS, "plays_a", "plays_b", "seconds", "answered_at")


class AnswerError(ValueError):
    """An answer that does not fit the study; the message says which field and why."""


def load_study(folder: str | os.PathLike) -> dict[str, Any]:
    """``study.json`` of a study folder (as ``listen build`` wrote it).

    Raises
    ------
    DataError
        No folder, no ``study.json``, or one that is not a study design.
    """
    path = Path(folder) / "study.json"
    if not path.is_file():
        raise DataError("no study.json: not a study folder made by 'accbench listen build'", path=str(folder))
    try:
        design = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read the study design: {error}", path=str(path)) from error
    if not isinstance(design, dict) or design.get("format") != "accbench-listen-study":
        raise DataError("not an accbench listening-study design", path=str(path))
    return design


def _count(value: Any, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AnswerError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def check_answer(record: Any, design: Mapping[str, Any]) -> dict[str, Any]:
    """One answer checked against the study design; returns it with the columns of :data:`ANSWER_COLUMNS`.

    Raises
    ------
    AnswerError
        Not an object, another study, a bad participant id, an unknown trial, a choice other than A or B,
        a rating outside 1-5, or a bad count.
    """
    if not isinstance(record, Mapping):
        raise AnswerError("an answer must be a JSON object")
    if record.get("study") != design["study_id"]:
        raise AnswerError(f"answer is for study {record.get('study')!r}, this is study {design['study_id']!r}")
    participant = record.get("participant")
    if not isinstance(participant, str) or not PARTICIPANT_PATTERN.match(participant):
        raise AnswerError(f"participant must be 1-64 letters, digits, '-' or '_', got {participant!r}")
    trial = record.get("trial")
    if trial not in {t["id"] for t in design["trials"]}:
        raise AnswerError(f"no trial {trial!r} in this study")
    if record.get("choice") not in ("A", "B"):
        raise AnswerError(f"choice must be 'A' or 'B', got {record.get('choice')!r}")
    answer: dict[str, Any] = {"participant": participant, "trial": trial, "choice": record["choice"]}
    for name in RATINGS:
        value = record.get(name)
        if value is not None and (isinstance(value, bool) or value not in (1, 2, 3, 4, 5)):
            raise AnswerError(f"{name} must be an integer 1-5 or null, got {value!r}")
        answer[name] = None if value is None else int(value)
    answer["plays_a"] = _count(record.get("plays_a"), "plays_a")
    answer["plays_b"] = _count(record.get("plays_b"), "plays_b")
    seconds = record.get("seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0):
        raise AnswerError(f"seconds must be a non-negative number, got {seconds!r}")
    answer["seconds"] = None if seconds is None else float(seconds)
    answered_at = record.get("answered_at")
    answer["answered_at"] = str(answered_at)[:40] if answered_at is not None else None
    return answer


def _records(path: Path) -> list[Any]:
    """The raw answers of one file: the page's download (JSON) or the server's log (JSON lines)."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        document = json.loads(text)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read answers: {error}", path=str(path)) from error
    if not isinstance(document, dict) or document.get("format") != "accbench-listen-answers":
        raise DataError("not an answers file of an accbench listening study", path=str(path))
    if not isinstance(document.get("answers"), list):
        raise DataError("answers file has no 'answers' list", path=str(path))
    return document["answers"]


def _files(sources: Iterable[str | os.PathLike]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files.extend(sorted([*path.glob("*.json"), *path.glob("*.jsonl")]))
        elif path.is_file():
            files.append(path)
        else:
            raise DataError("no such answers file or folder", path=str(path))
    return files


def read_answers(sources: Iterable[str | os.PathLike], design: Mapping[str, Any]) -> pd.DataFrame:
    """Every answer of the files and folders, checked, one row per (participant, trial).

    The same answer found twice (the download and the server's log of one participant) counts once; a
    second, different answer to a trial keeps the first and logs a warning.

    Raises
    ------
    DataError
        A missing or unreadable file, or an answer that does not fit the study (file and reason named).
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for path in _files(sources):
        for index, record in enumerate(_records(path)):
            try:
                answer = check_answer(record, design)
            except AnswerError as error:
                raise DataError(f"answer {index + 1}: {error}", path=str(path)) from None
            key = (answer["participant"], answer["trial"])
            if key in rows and rows[key]["choice"] != answer["choice"]:
                log.warning("%s: participant %s answered trial %s twice; the first answer counts", path, *key)
            rows.setdefault(key, answer)
    return pd.DataFrame(list(rows.values()), columns=list(ANSWER_COLUMNS))
