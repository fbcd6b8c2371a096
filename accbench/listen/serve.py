"""``accbench listen serve``: the study on 127.0.0.1, collecting each answer as it is given.

``GET /`` is the study page and ``GET /audio/<clip>`` its clips (byte ranges supported, for seeking);
nothing else of the study folder is served (``study.json`` holds the key). ``POST /api/answer`` takes one
answer (the page's JSON); it is checked against the study (:func:`accbench.listen.answers.check_answer`) and
appended to ``answers/<participant>.jsonl`` by rewriting that file atomically, so a kill never leaves half
a line. Replies: ``201`` recorded; ``400`` bad answer (the reason in the body); ``409`` that participant
already answered that trial (the page reads it as "the server has it"); ``411``/``413`` missing or too long
body; ``404`` anything else. ``GET /api/health`` says the study id and how many answers are recorded.

The recorded (participant, trial) pairs are read back from ``answers/`` at start, so a restarted server
refuses duplicates as before; the page resends whatever it has not seen acknowledged.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from accbench.atomic import atomic_write_bytes
from accbench.errors import ConfigError, DataError
from accbench.listen.answers import AnswerError, check_answer, load_study

__all__ = ["HOST", "MAX_BODY_BYTES", "StudyServer", "make_server"]

log = logging.getLogger(__name__)

#: The only address the study is served on.
HOST = "127.0.0.1"

#: Longest accepted answer body.
MAX_BODY_BYTES = 16_384

_TYPES = {".html": "text/html; charset=utf-8", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac"}


class StudyServer(ThreadingHTTPServer):
    """An HTTP server of one study folder; ``recorded`` holds the (participant, trial) pairs answered."""

    daemon_threads = True

    def __init__(self, folder: str | os.PathLike, port: int) -> None:
        self.folder = Path(folder)
        self.design = load_study(self.folder)
        self.answers_dir = self.folder / "answers"
        self.files = {"/": self.folder / "index.html", "/index.html": self.folder / "index.html"}
        self.files.update(
            {"/" + t[side]: self.folder / t[side] for t in self.design["trials"] for side in ("clip_a", "clip_b")}
        )
        self.lock = threading.Lock()
        self.recorded = self._read_recorded()
        super().__init__((HOST, int(port)), _Handler)

    def _read_recorded(self) -> set[tuple[str, str]]:
        recorded = set()
        for path in sorted(self.answers_dir.glob("*.jsonl")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    answer = json.loads(line)
                    recorded.add((answer["participant"], answer["trial"]))
                except (ValueError, KeyError, TypeError) as error:
                    raise DataError(f"line {number} is not a recorded answer: {error}", path=str(path)) from None
        return recorded

    def record(self, body: bytes) -> tuple[HTTPStatus, str]:
        """Check and append one answer; the reply's status and message."""
        try:
            answer = check_answer(json.loads(body.decode("utf-8")), self.design)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return HTTPStatus.BAD_REQUEST, "the body is not JSON"
        except AnswerError as error:
            return HTTPStatus.BAD_REQUEST, str(error)
        key = (answer["participant"], answer["trial"])
        with self.lock:
            if key in self.recorded:
                return HTTPStatus.CONFLICT, f"participant {key[0]} already answered trial {key[1]}"
            path = self.answers_dir / f"{answer['participant']}.jsonl"
            before = path.read_bytes() if path.is_file() else b""
            line = json.dumps({"study": self.design["study_id"], **answer}, sort_keys=True) + "\n"
            atomic_write_bytes(path, before + line.encode("utf-8"))
            self.recorded.add(key)
        return HTTPStatus.CREATED, "recorded"


class _Handler(BaseHTTPRequestHandler):
    server: StudyServer
    server_version = "accbench-listen"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, status: HTTPStatus, message: str) -> None:
        self._reply(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8")

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/api/health":
            body = {"study": self.server.design["study_id"], "answers": len(self.server.recorded)}
            return self._reply(HTTPStatus.OK, json.dumps(body).encode(), "application/json")
        if path == "/favicon.ico":  # browsers ask on their own; the study has none
            return self._reply(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        file = self.server.files.get(path)
        if file is None or not file.is_file():
            return self._text(HTTPStatus.NOT_FOUND, f"not found: {path}")
        data = file.read_bytes()
        content_type = _TYPES.get(file.suffix, "application/octet-stream")
        ranged = _byte_range(self.headers.get("Range"), len(data))
        if ranged is None:
            return self._reply(HTTPStatus.OK, data, content_type, {"Accept-Ranges": "bytes"})
        start, stop = ranged
        headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{stop - 1}/{len(data)}"}
        return self._reply(HTTPStatus.PARTIAL_CONTENT, data[start:stop], content_type, headers)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/api/answer":
            return self._text(HTTPStatus.NOT_FOUND, "answers go to /api/answer")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self._text(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
        if int(length) > MAX_BODY_BYTES:
            return self._text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"an answer is at most {MAX_BODY_BYTES} bytes")
        status, message = self.server.record(self.rfile.read(int(length)))
        return self._text(status, message)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, stop)`` of a single ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range; ``None`` for the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].partition("-")
    try:
        if not first:
            start, stop = max(0, size - int(last)), size
        else:
            start, stop = int(first), (int(last) + 1 if last else size)
    except ValueError:
        return None
    start, stop = max(0, start), min(size, stop)
    return (start, stop) if start < stop else None


def make_server(folder: str | os.PathLike, port: int = 8000) -> StudyServer:
    """A server of the study folder on ``127.0.0.1:port`` (``0``: any free port); call ``serve_forever()``.

    Raises
    ------
    DataError
        Not a study folder.
    ConfigError
        The port cannot be bound.
    """
    try:
        return StudyServer(folder, port)
    except OSError as error:
        raise ConfigError(f"cannot serve on {HOST}:{port}: {error.strerror or error}") from None
