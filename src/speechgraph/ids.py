"""arXiv ids and DOIs in every form they are written: abs/pdf/html links, ar5iv, `arXiv:` prose,
old-style `hep-th/9901001`, versions, doi.org links and publisher paths that embed a DOI.

The one parser of arXiv ids; pure functions over strings.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from speechgraph.errors import InvalidPaperId

_NEW_ID = r"(?P<new>\d{4}\.\d{4,5})"
_OLD_ID = r"(?P<old>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z][A-Za-z-]+)?/(?P<number>\d{7})"
_ID_WITH_VERSION = rf"(?:{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?(?![\d])"
_ARXIV_HOST = re.compile(r"^(?:(?:www|export)\.)?arxiv\.org$|^ar5iv(?:\.labs\.arxiv)?\.org$")
_ARXIV_PATH = re.compile(
    rf"^/(?:abs|pdf|html|format|ps|src|e-print|view)/(?:arxiv:)?{_ID_WITH_VERSION}", re.I
)
_ARXIV_IN_TEXT = re.compile(rf"\barxiv:\s?{_ID_WITH_VERSION}", re.I)
# Host labels are read only from where a host starts (not mid-label, not right after "label."):
# a URL found from inside a host is found from its start first, and a long word or "a.a.a..."
# is read once instead of once per character. The empty branch keeps "xarxiv.org/..." matching.
_ARXIV_URL_IN_TEXT = re.compile(
    r"(?:https?://(?:[\w-]++\.)*|(?<![\w-])(?<![\w-]\.)(?:[\w-]++\.)*|)"
    r"(?:arxiv|ar5iv)\.org/[^\s)\]>\"']+"
)
_BARE_ID = re.compile(rf"^(?:arxiv:)?{_ID_WITH_VERSION}$", re.I)
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")


def _id_from_match(match: re.Match[str]) -> tuple[str, int | None] | None:
    version = int(match.group("version")) if match.group("version") else None
    if match.group("new"):
        paper_id = match.group("new")
        year_month, number = paper_id.split(".")
        month = int(year_month[2:])
        # Five-digit numbers started in January 2015; four digits before.
        if not 1 <= month <= 12 or (len(number) == 5) != (year_month >= "1501"):
            return None
        return paper_id, version
    return f"{match.group('old').lower()}/{match.group('number')}", version


def absolute_url(url: str) -> str:
    """`url` with a scheme: `//host/x` and `www.host.org/x` become https links."""
    url = url.strip().strip("<>")
    if url.startswith("//"):
        return "https:" + url
    if not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) and re.match(r"^(?:www\.)?[\w-]+\.", url):
        host = url.split("/", 1)[0]
        if re.search(r"\.(?:org|com|net|io|co|edu|dev|ai|science|pub|press|cc|tv)$", host):
            return "https://" + url
    return url


def parse_arxiv_url(url: str) -> tuple[str, int | None] | None:
    """(id without version, version) for an arXiv or ar5iv link in any form, else None."""
    parts = urlsplit(absolute_url(url))
    if not _ARXIV_HOST.match((parts.hostname or "").lower()):
        return None
    match = _ARXIV_PATH.match(unquote(parts.path))
    return _id_from_match(match) if match else None


def find_arxiv_ids_in_text(text: str) -> list[tuple[str, int | None]]:
    """arXiv ids cited in prose (`arXiv:2005.07143`, arXiv URLs), first occurrence order."""
    found: list[tuple[str, int | None]] = []
    candidates = [(m.start(), _id_from_match(m)) for m in _ARXIV_IN_TEXT.finditer(text)]
    candidates += [
        (m.start(), parse_arxiv_url(m.group())) for m in _ARXIV_URL_IN_TEXT.finditer(text)
    ]
    seen: set[str] = set()
    for _, paper in sorted(candidates, key=lambda item: item[0]):
        if paper is not None and paper[0] not in seen:
            seen.add(paper[0])
            found.append(paper)
    return found


def parse_arxiv_id(raw: str) -> tuple[str, int | None] | None:
    """(id without version, version) from `2006.11477v2`, `arXiv:2006.11477`, `hep-th/9901001`,
    `math.GT/0309136` (subject class dropped, as arXiv's canonical id has none) or an arXiv URL;
    None for anything else."""
    text = raw.strip()
    match = _BARE_ID.match(text)
    return _id_from_match(match) if match else parse_arxiv_url(text)


def normalize_arxiv_id(raw: str) -> tuple[str, int | None]:
    """`parse_arxiv_id`, raising InvalidPaperId (with how to write an id) where it finds none."""
    paper = parse_arxiv_id(raw)
    if paper is None:
        raise InvalidPaperId(
            f"{raw!r} is not an arXiv id; write it like 2006.11477, 2006.11477v2 or hep-th/9901001"
        )
    return paper


def parse_doi(url_or_text: str) -> str | None:
    """The lowercased DOI in a doi.org link, `doi:` text, or a publisher URL that embeds one."""
    parts = urlsplit(absolute_url(url_or_text))
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and host:
        path = unquote(parts.path).lstrip("/")
        if host in ("doi.org", "dx.doi.org", "www.doi.org"):
            return path.rstrip("/").lower() if path.startswith("10.") else None
        # Publisher paths put the DOI between other segments: keep its first suffix segment.
        match = re.search(r"\b10\.\d{4,9}/[^/?#\s]+", path)
        if match is None:
            return None
        return re.sub(r"\.(?:pdf|html?)$", "", match.group(), flags=re.I).lower()
    match = _DOI.search(url_or_text)
    return match.group().rstrip(".,;:)]}").lower() if match else None
