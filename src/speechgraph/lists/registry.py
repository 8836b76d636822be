"""Where reading lists come from: the lists named in ingest/sources.toml or on the command line,
read from a file or a URL and parsed; a caller may offer a fallback for a list it cannot read.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from speechgraph.clients.download import BodyTooLarge, download_bytes
from speechgraph.clients.http import (
    HttpFailure,
    HttpPolicy,
    RetriesExhausted,
    RetryAfterTooLong,
    attempts_phrase,
)
from speechgraph.config import DEFAULT_MAX_LIST_MB, ENVIRONMENT_VARIABLES, Settings
from speechgraph.errors import ConfigError, ReadingListError
from speechgraph.lists import parser as sources
from speechgraph.records import ParsedList

_MB = 1024 * 1024
_CHUNK = 1 << 20  # characters checked at once for control characters


@dataclass(frozen=True)
class ListSource:
    """A reading list to read: by name, from a local path and/or a URL."""

    name: str
    path: Path | None = None
    url: str | None = None
    label: str | None = None  # the path as written in sources.toml

    @property
    def location(self) -> str:
        return self.label or (str(self.path) if self.path else (self.url or self.name))


@dataclass
class LoadedList:
    source: ListSource
    parsed: ParsedList
    origin: str  # "file" | "url" | "snapshot"
    content_hash: str | None
    warning: str | None = None


def load_sources(settings: Settings) -> list[ListSource]:
    """The configured reading lists from ingest/sources.toml (paths relative to that file)."""
    path = settings.sources_file
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"sources file {path} is invalid ({error}): fix or remove it") from None
    found = []
    for entry in data.get("list", []):
        if "name" not in entry or not ({"path", "url"} & entry.keys()):
            raise ConfigError(f"sources file {path}: every [[list]] needs a name and a path or url")
        list_path = (path.parent / entry["path"]).resolve() if entry.get("path") else None
        found.append(ListSource(entry["name"], list_path, entry.get("url"), entry.get("path")))
    return found


def is_list_location(argument: str) -> bool:
    """Whether a command argument names a list to read (a URL or an existing file) rather than
    a list the catalogue already holds."""
    return argument.startswith(("http://", "https://")) or Path(argument).expanduser().is_file()


def source_from_argument(argument: str, name: str | None = None) -> ListSource:
    """A `--list PATH_OR_URL` argument as a source named `name`, or after its file name
    without the extension (`awesome-codecs.md` and `.../awesome-codecs.md` are
    `awesome-codecs`)."""
    if argument.startswith(("http://", "https://")):
        file_name = argument.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return ListSource(name=name or Path(file_name).stem or argument, url=argument)
    path = Path(argument).expanduser().resolve()
    return ListSource(name=name or path.stem, path=path)


def read_list(
    source: ListSource,
    *,
    offline: bool,
    timeout: float,
    max_list_mb: float = DEFAULT_MAX_LIST_MB,
) -> tuple[str, str]:
    """The list's text and where it came from ("file" or "url"). A list over `max_list_mb`
    (the `max_list_mb` setting) is refused with ReadingListError, never cut short."""
    if source.path is not None and (source.path.exists() or source.url is None or offline):
        return read_list_file(source.path, max_list_mb=max_list_mb), "file"
    if source.url is None:
        raise ReadingListError(f"reading list {source.name} has neither a path nor a URL")
    if offline:
        raise ReadingListError(
            f"reading list {source.url} is a URL and --offline reads no network: "
            "drop --offline or give a local copy"
        )
    max_bytes = int(max_list_mb * _MB)
    return _download_list(source.url, timeout, max_bytes=max_bytes), "url"


def _download_list(
    url: str,
    timeout: float,
    *,
    max_bytes: int = int(DEFAULT_MAX_LIST_MB * _MB),
    policy: HttpPolicy | None = None,
) -> str:
    """The text of the list at `url`, fetched under the HTTP policy (`policy`, default values
    otherwise) with `timeout`. A body larger than `max_bytes` is refused, never cut.

    Raises ReadingListError naming the URL and the next step.
    """
    list_policy = replace(policy or HttpPolicy(name="reading-list download"), timeout=timeout)
    try:
        raw = download_bytes(url, list_policy, max_bytes=max_bytes)
    except BodyTooLarge:
        raise ReadingListError(_over_the_limit(url, None, max_bytes / _MB)) from None
    except RetryAfterTooLong as error:
        raise ReadingListError(
            f"reading list {url} could not be downloaded (the server asked to wait "
            f"{error.seconds:.0f} s): try again later or give a local copy"
        ) from None
    except RetriesExhausted as error:
        raise ReadingListError(
            f"reading list {url} could not be downloaded ({error.reason}, after "
            f"{attempts_phrase(error.attempts)}): check the URL and your connection"
        ) from None
    except HttpFailure as error:
        raise ReadingListError(
            f"reading list {url} could not be downloaded ({error.reason}): "
            "check the URL and your connection"
        ) from None
    if len(raw) > max_bytes:
        raise ReadingListError(_over_the_limit(url, None, max_bytes / _MB))
    return decode_list_bytes(raw, url)


def _over_the_limit(location: str, size: int | None, max_list_mb: float) -> str:
    # Rounded up, never "64.0 MB, over the limit of 64 MB".
    shown = f"{math.ceil(size / _MB * 10) / 10:.1f} MB, over" if size is not None else "over"
    return (
        f"reading list {location} is {shown} the limit of {max_list_mb:g} MB "
        f"({ENVIRONMENT_VARIABLES['max_list_mb']}): split the list or raise the limit"
    )


# What to use instead of a configured list that cannot be read (None: the error stands).
Fallback = Callable[[ListSource, ReadingListError], "LoadedList | None"]


def load_lists(
    configured: Sequence[ListSource],
    extra: Sequence[ListSource],
    *,
    offline: bool,
    timeout: float,
    max_list_mb: float = DEFAULT_MAX_LIST_MB,
    fallback: Fallback | None = None,
) -> list[LoadedList]:
    """Read and parse every list. A configured list that cannot be read (or is over
    `max_list_mb`) is replaced by what `fallback` gives (the refresh offers the snapshot's
    record of it); an extra (--list) list that cannot be read is an error."""
    loaded = []
    for source in [*configured, *extra]:
        is_extra = source in extra
        try:
            text, origin = read_list(
                source, offline=offline, timeout=timeout, max_list_mb=max_list_mb
            )
        except ReadingListError as error:
            replacement = None if is_extra or fallback is None else fallback(source, error)
            if replacement is None:
                raise
            loaded.append(replacement)
            continue
        parsed = sources.parse_reading_list(text, source.name)
        if is_extra:
            ensure_has_papers(parsed, source.location)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        loaded.append(LoadedList(source, parsed, origin, digest))
    return loaded


def _looks_binary(text: str) -> bool:
    """More than one character in twenty (and more than 8) is a control character."""
    if "\x00" in text:
        return True
    allowed, controls = max(8, len(text) // 20), 0
    for start in range(0, len(text), _CHUNK):
        chunk = text[start : start + _CHUNK]
        for whitespace in "\n\r\t\f":
            chunk = chunk.replace(whitespace, " ")
        if not chunk.isprintable():  # rare: count only then, char by char
            controls += sum(1 for char in chunk if not char.isprintable())
            if controls > allowed:
                return True
    return False


def read_list_file(path: Path, *, max_list_mb: float = DEFAULT_MAX_LIST_MB) -> str:
    """The text of a local reading list.

    Raises ReadingListError naming the path when it is missing, a directory, unreadable,
    over `max_list_mb` megabytes (checked before reading it), binary, or empty.
    """
    if not path.exists():
        raise ReadingListError(f"reading list {path} does not exist; check the path")
    if path.is_dir():
        raise ReadingListError(f"reading list {path} is a directory; give a Markdown file")
    try:
        _check_size(path, path.stat().st_size, max_list_mb)
        data = path.read_bytes()
    except OSError as error:
        raise ReadingListError(
            f"cannot read reading list {path} ({error.strerror}); check its permissions"
        ) from error
    _check_size(path, len(data), max_list_mb)  # a file that grew, or a pipe, after stat
    return decode_list_bytes(data, str(path))


def _check_size(path: Path, size: int, max_list_mb: float) -> None:
    if size > max_list_mb * _MB:
        raise ReadingListError(_over_the_limit(str(path), size, max_list_mb))


def decode_list_bytes(data: bytes, location: str) -> str:
    """The text of a reading list read from a file or a URL; raises ReadingListError naming
    `location` when it is empty or binary."""
    if not data or data.isspace():
        raise ReadingListError(f"reading list {location} is empty; add paper links to it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if _looks_binary(text):
        raise ReadingListError(
            f"reading list {location} is not text (binary data); give a Markdown or text file"
        )
    return text


def ensure_has_papers(parsed: ParsedList, location: str) -> None:
    """Raises ReadingListError when a parsed list has no paper links or citations."""
    if not parsed.mentions:
        raise ReadingListError(
            f"reading list {location} has no paper links (arXiv, DOI, publisher) or "
            "citations; check that it is a list of papers"
        )
