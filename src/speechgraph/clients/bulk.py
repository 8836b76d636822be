"""Bulk arXiv metadata files read as a stream of records: JSON lines, plain, gzip or inside a
zip, in arXiv's snapshot format or ours (`bulk_formats`). Memory stays flat in the file size:
one line is held at a time, and a line past `max_line_bytes` is skipped without being kept.

Imports only the ground modules and `clients.bulk_formats`; never writes the catalogue.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any, NamedTuple, Protocol

import orjson

from speechgraph.clients.bulk_formats import FORMATS, RecordError, detect_format, record_from_json
from speechgraph.errors import ImportFileError
from speechgraph.records import PaperRecord

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 10 * 1024 * 1024  # far above any real record (the largest are ~100 KB)
PLAIN, GZIP, ZIP = "plain", "gzip", "zip"
_SKIP_CHUNK = 1024 * 1024
_SNIFF_BYTES = 8192
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_OTHER_FORMATS = {
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"%PDF": "a PDF",
}
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
_JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number"}
# What a damaged or cut-short compressed stream raises part-way through.
_DAMAGED_STREAM = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile)


class BadLine(NamedTuple):
    """A line that yields no record, and why (the reason is shown to the user)."""

    line_number: int
    reason: str


# What iterating a BulkSource yields: (line number, record) or a BadLine. Both unpack as
# `line_number, item`, with `item` a PaperRecord or the reason a line is bad.
BulkEvent = tuple[int, PaperRecord] | BadLine


class _LineStream(Protocol):
    def readline(self, size: int, /) -> bytes: ...


def open_bulk(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> BulkSource:
    """Open a bulk metadata file for streaming. Compression is told by the first bytes (gzip,
    zip; anything else is read as plain text); the format is `format` when given (`arxiv` or
    `jsonl`), else told by the first JSON object's keys.

    Raises ImportFileError for a file that cannot be read at all: missing, a directory, empty,
    binary, compressed in another way, a zip that is damaged or holds no .json/.jsonl file.
    Problems inside the file (bad lines, a cut-short gzip) come out of the iteration instead.
    """
    if format is not None and format not in FORMATS:
        raise ImportFileError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")
    file_path = Path(path)
    file = _open_file(file_path)
    try:
        return BulkSource(file_path, file, format, max_line_bytes)
    except BaseException:
        file.close()
        raise


def _open_file(path: Path) -> IO[bytes]:
    try:
        file = path.open("rb")
    except FileNotFoundError:
        raise ImportFileError(f"no file {path}; check the path") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} is a directory; name a .jsonl, .gz or .zip file") from None
    except PermissionError:
        raise ImportFileError(f"cannot read {path}: permission denied") from None
    if os.fstat(file.fileno()).st_size == 0:
        file.close()
        raise ImportFileError(f"{path} is empty; download it again or name another file")
    return file


class BulkSource:
    """One open bulk file. Iterate it once for `BulkEvent`s; close it (or use `with`).

    `bytes_read` / `total_bytes` measure progress through the file as stored (compressed
    bytes for gzip and zip); `lines_read` counts physical lines, blank ones included.
    """

    def __init__(
        self, path: Path, file: IO[bytes], format: str | None, max_line_bytes: int
    ) -> None:
        self.path = path
        self.format = format
        self.max_line_bytes = max_line_bytes
        self.lines_read = 0
        self.total_bytes: int | None = os.fstat(file.fileno()).st_size
        self._file = file
        self._gzip: gzip.GzipFile | None = None
        self._archive: zipfile.ZipFile | None = None
        self.members: list[str] = []
        head = file.read(_SNIFF_BYTES)
        file.seek(0)
        if head.startswith(_GZIP_MAGIC):
            self.compression = GZIP
            self._gzip = gzip.GzipFile(fileobj=file, mode="rb")
        elif head.startswith(_ZIP_MAGICS):
            self.compression = ZIP
            self._archive = _open_archive(path, file)
            self.members = [info.filename for info in _json_members(path, self._archive)]
        else:
            self.compression = PLAIN
            _check_text(path, head)

    @property
    def bytes_read(self) -> int:
        return self._file.tell() if not self._file.closed else self.total_bytes or 0

    def __iter__(self) -> Iterator[BulkEvent]:
        try:
            for line_number, line in self._lines():
                event = self._event(line_number, line)
                if event is not None:
                    yield event
        except _DAMAGED_STREAM as error:
            yield BadLine(self.lines_read + 1, self._damage_reason(error))

    def close(self) -> None:
        for closable in (self._archive, self._gzip, self._file):
            if closable is not None:
                closable.close()

    def __enter__(self) -> BulkSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _streams(self) -> Iterator[_LineStream]:
        if self._archive is not None:
            for name in self.members:
                log.info("reading %s in %s from line %d", name, self.path, self.lines_read + 1)
                with self._archive.open(name) as member:
                    yield member
        else:
            yield self._gzip or self._file

    def _lines(self) -> Iterator[tuple[int, bytes | None]]:
        """(line number, bytes) per physical line; None for a line over `max_line_bytes`,
        which is read past in chunks rather than kept."""
        for stream in self._streams():
            while line := stream.readline(self.max_line_bytes + 1):
                self.lines_read += 1
                if len(line) > self.max_line_bytes and not line.endswith(b"\n"):
                    _skip_rest_of_line(stream)
                    yield self.lines_read, None
                else:
                    yield self.lines_read, line

    def _event(self, line_number: int, line: bytes | None) -> BulkEvent | None:
        if line is None:
            megabytes = self.max_line_bytes / 1024 / 1024
            return BadLine(line_number, f"line longer than {megabytes:g} MB")
        if not line.strip():
            return None
        try:
            obj = _parse_json(line)
        except UnicodeDecodeError:
            return BadLine(line_number, "not UTF-8 text")
        except json.JSONDecodeError as error:
            return BadLine(line_number, f"not JSON ({error.msg} at column {error.colno})")
        except RecursionError:
            return BadLine(line_number, "JSON nested too deeply")
        if not isinstance(obj, dict):
            return BadLine(line_number, f"not a JSON object but {_json_type_name(obj)}")
        if self.format is None:
            self.format = detect_format(obj)
            log.info(
                "%s is in the %s format (told by line %d)", self.path, self.format, line_number
            )
        try:
            return line_number, record_from_json(obj, self.format)
        except RecordError as error:
            return BadLine(line_number, str(error))

    def _damage_reason(self, error: Exception) -> str:
        where = f"after line {self.lines_read}" if self.lines_read else "at its start"
        if isinstance(error, EOFError):
            return f"{self.path.name} is cut short: the {self.compression} data ends {where}"
        return f"{self.path.name} is damaged {where} ({error})"


def _open_archive(path: Path, file: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except zipfile.BadZipFile as error:
        raise ImportFileError(
            f"{path} is not a readable zip archive ({error}); download it again"
        ) from None


def _json_members(path: Path, archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's .json/.jsonl files in stored order (macOS resource forks left out)."""
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith("._")
        and info.filename.lower().endswith(_JSON_SUFFIXES)
    ]
    if not members:
        names = [info.filename for info in archive.infolist()][:5]
        holds = f"it holds {', '.join(names)}" if names else "it is empty"
        raise ImportFileError(
            f"{path} has no .json or .jsonl file inside ({holds}); name the metadata file itself"
        )
    if encrypted := [info.filename for info in members if info.flag_bits & 0x1]:
        raise ImportFileError(f"{path}: {encrypted[0]} is encrypted; unzip it first")
    return members


def _check_text(path: Path, head: bytes) -> None:
    for magic, kind in _OTHER_FORMATS.items():
        if head.startswith(magic):
            raise ImportFileError(
                f"{path} is {kind}, not JSON lines; decompress it or recompress it with gzip"
            )
    if b"\x00" in head:
        raise ImportFileError(f"{path} holds binary data, not JSON lines; name the .jsonl file")


def _parse_json(line: bytes) -> Any:
    """orjson for speed, the standard parser for what orjson refuses: the same lines parse
    (NaN, UTF-16; orjson reads integers past 64 bits as floats, which no field of a record
    can use) and a bad line gets the same reason. A lone surrogate escape
    ("\\ud800") is no text a database can store: its line is bad."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        obj = json.loads(line)
    if _has_lone_surrogate(obj):
        raise UnicodeDecodeError("utf-8", line, 0, len(line), "a lone surrogate escape")
    return obj


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(map(_has_lone_surrogate, (*value.keys(), *value.values())))
    if isinstance(value, list):
        return any(map(_has_lone_surrogate, value))
    return False


def _skip_rest_of_line(stream: _LineStream) -> None:
    while (chunk := stream.readline(_SKIP_CHUNK)) and not chunk.endswith(b"\n"):
        pass


def _json_type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)
