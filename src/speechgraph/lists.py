"""Reading-list sources: the lists named in ingest/sources.toml or on the command line, read
from a file or a URL, parsed, with the snapshot's record of a list as the fallback.

Imports `config`, `errors`, `records`, `sources`, `snapshot`.
"""

from __future__ import annotations

import hashlib
import tomllib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from speechgraph import sources
from speechgraph.config import Settings
from speechgraph.errors import ConfigError, ReadingListError
from speechgraph.records import ParsedList
from speechgraph.snapshot import Snapshot


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


def source_from_argument(argument: str) -> ListSource:
    """A `--list PATH_OR_URL` argument as a source named after its file."""
    if argument.startswith(("http://", "https://")):
        name = argument.rstrip("/").rsplit("/", 1)[-1] or argument
        return ListSource(name=name, url=argument)
    path = Path(argument).expanduser().resolve()
    return ListSource(name=path.stem, path=path)


def read_list(source: ListSource, *, offline: bool, timeout: float) -> tuple[str, str]:
    """The list's text and where it came from ("file" or "url")."""
    if source.path is not None and (source.path.exists() or source.url is None or offline):
        return sources.read_list_file(source.path), "file"
    if source.url is None:
        raise ReadingListError(f"reading list {source.name} has neither a path nor a URL")
    if offline:
        raise ReadingListError(
            f"reading list {source.url} is a URL and --offline reads no network: "
            "drop --offline or give a local copy"
        )
    return _download_list(source.url, timeout), "url"


def _download_list(url: str, timeout: float) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": "speechgraph"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(20_000_000)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ReadingListError(
            f"reading list {url} could not be downloaded ({reason}): "
            "check the URL and your connection"
        ) from None
    return sources.decode_list_bytes(raw, url)


def load_lists(
    configured: Sequence[ListSource],
    extra: Sequence[ListSource],
    snapshot: Snapshot | None,
    *,
    offline: bool,
    timeout: float,
) -> list[LoadedList]:
    """Read and parse every list. A configured list that cannot be read falls back to the
    snapshot's record of it; an extra (--list) list that cannot be read is an error."""
    loaded = []
    for source in [*configured, *extra]:
        is_extra = source in extra
        try:
            text, origin = read_list(source, offline=offline, timeout=timeout)
        except ReadingListError as error:
            recorded = snapshot.lists.get(source.name) if snapshot else None
            if is_extra or recorded is None:
                raise
            parsed = ParsedList(source.name, list(recorded.mentions), list(recorded.resources), [])
            loaded.append(LoadedList(source, parsed, "snapshot", None, warning=str(error)))
            continue
        parsed = sources.parse_reading_list(text, source.name)
        if is_extra:
            sources.ensure_has_papers(parsed, source.location)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        loaded.append(LoadedList(source, parsed, origin, digest))
    return loaded
